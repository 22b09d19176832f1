// End-to-end speed of one model at batch 1, as one JSON object: load time, prefill and decode
// tokens/s, time to first token, peak RSS, and the decode's bytes per token against the read
// bandwidth measured right after each decode run (medians over the runs).
//   build/bench/infer_bench model.bin --prompt_tokens 128 --gen_tokens 64 --threads 2
#include <gflags/gflags.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "infer/base/blas.h"
#include "infer/base/cpu_isa.h"
#include "infer/base/threads.h"
#include "infer/model/inference_state.h"
#include "infer/model/model.h"
#include "infer/model/weights_file.h"
#include "membw.h"

DEFINE_int64(prompt_tokens, 128, "prompt length (random token ids)");
DEFINE_int64(gen_tokens, 64, "tokens decoded after the prompt (greedy)");
DEFINE_int32(threads, 0, "threads (0 = all cores)");
DEFINE_int32(repeats, 3, "runs of prefill + decode; medians are reported");
DEFINE_int64(bandwidth_mib, 1024,
             "size of the host read-bandwidth array (0 = skip; skipped on cuda)");
DEFINE_string(device, "cpu", "device to run on: cpu or cuda");
DEFINE_bool(bf16_activations, false, "round activations to bf16 for bf16 weights (LoadOptions)");

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// Bytes one decode step reads: every weight matrix once (the embedding table only for its one
// row, unless it is also the output head), plus the KV cache at the given length.
double decode_bytes_per_token(const infer::model::Model& model, const std::string& path,
                              double mean_context) {
  const auto file = infer::model::WeightsFile::open(path);
  const auto& c = model.config();
  double bytes = 0;
  for (const auto& [name, info] : file.tensors()) {
    const bool table =
        name == "embed.weight" || name == "embed.weight.scales" || name == "embed.weight.offsets";
    if (table && !c.tied_embeddings) {
      bytes += static_cast<double>(info.bytes) / static_cast<double>(c.vocab_size);
    } else {
      bytes += static_cast<double>(info.bytes);
    }
  }
  bytes += 2.0 * c.n_layers * c.n_kv_heads * c.head_dim * sizeof(float) * mean_context;
  return bytes;
}

int run(const std::string& path) {
  infer::base::set_num_threads(FLAGS_threads);
  const auto load_start = Clock::now();
  infer::model::LoadOptions options;
  options.max_seq_len = FLAGS_prompt_tokens + FLAGS_gen_tokens;
  options.device = infer::base::parse_device(FLAGS_device);
  options.bf16_activations = FLAGS_bf16_activations;
  const auto model = infer::model::Model::load(path, options);
  const double load_s = since(load_start);

  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> token(
      0, static_cast<int32_t>(model->config().vocab_size) - 1);
  std::vector<int32_t> prompt(static_cast<size_t>(FLAGS_prompt_tokens));
  for (int32_t& id : prompt) id = token(rng);

  const bool probe_bandwidth =
      FLAGS_bandwidth_mib > 0 && options.device == infer::base::DeviceType::kCPU;
  const double bytes_per_token =
      decode_bytes_per_token(*model, path, FLAGS_prompt_tokens + FLAGS_gen_tokens / 2.0);
  std::unique_ptr<infer::bench::ReadBandwidthProbe> probe;
  double rss = 0;
  std::vector<double> prefill_s, decode_s, bandwidth, fraction, overhead_ms;
  int64_t graph_replays = 0, graph_failures = 0;
  for (int r = 0; r <= FLAGS_repeats; ++r) {  // run 0 warms up (page faults, buffers)
    auto state = std::make_unique<infer::model::InferenceState>(*model);
    const auto start = Clock::now();
    // Greedy, as generate() runs it: only the arg-max comes back (on a GPU, only its id).
    int32_t next = state->forward_argmax(prompt);
    const double prefill = since(start);  // the first token included: its arg-max ends the pass
    const auto decode_start = Clock::now();
    for (int64_t i = 0; i < FLAGS_gen_tokens; ++i) next = state->forward_argmax({next});
    const double decode = since(decode_start);
    graph_replays = state->cache_stats().graph_replays;
    graph_failures = state->cache_stats().graph_failures;
    if (r == 0) {
      // The warm-up run has touched every weight and the KV cache: the peak of the model alone,
      // taken before the bandwidth array exists.
      rss = peak_rss_mib();
      if (probe_bandwidth)
        probe = std::make_unique<infer::bench::ReadBandwidthProbe>(FLAGS_bandwidth_mib << 20);
      continue;
    }
    prefill_s.push_back(prefill);
    decode_s.push_back(decode);
    if (probe) {
      // Measured right after each decode run: the bandwidth of a shared machine drifts between
      // runs, so each run is compared with its own neighbour and the median ratio reported.
      const double gb_per_s = probe->measure(3).median_gb_per_s;
      const double seconds_per_token = decode / FLAGS_gen_tokens;
      bandwidth.push_back(gb_per_s);
      fraction.push_back(bytes_per_token / seconds_per_token / 1e9 / gb_per_s);
      overhead_ms.push_back((seconds_per_token - bytes_per_token / (gb_per_s * 1e9)) * 1e3);
    }
  }
  const double decode_tps = FLAGS_gen_tokens / median(decode_s);

  nlohmann::json out = {{"model", path},
                        {"device", FLAGS_device},
                        {"cpu_isa", infer::base::isa_name(infer::base::cpu_isa())},
                        {"bf16_activations", FLAGS_bf16_activations},
                        {"blas_core", infer::base::blas_core_name()},
                        {"threads", infer::base::num_threads()},
                        {"prompt_tokens", FLAGS_prompt_tokens},
                        {"gen_tokens", FLAGS_gen_tokens},
                        {"repeats", FLAGS_repeats},
                        {"load_s", load_s},
                        {"prefill_tokens_per_s", FLAGS_prompt_tokens / median(prefill_s)},
                        {"time_to_first_token_ms", median(prefill_s) * 1e3},
                        {"decode_tokens_per_s", decode_tps},
                        {"peak_rss_mib", rss},
                        {"decode_bytes_per_token", bytes_per_token},
                        {"decode_gb_per_s", decode_tps * bytes_per_token / 1e9}};
  // The host's read bandwidth says nothing about a GPU's, so it is measured for cpu runs only.
  if (probe) {
    out["read_gb_per_s"] = median(bandwidth);
    out["decode_fraction_of_read_bandwidth"] = median(fraction);
    // Time per token beyond streaming the weights at the measured bandwidth.
    out["overhead_ms_per_token"] = median(overhead_ms);
  }
  // On CUDA: decode steps of the last run replayed from a CUDA graph (all of them, unless
  // recording failed; see the warning on stderr then).
  if (options.device == infer::base::DeviceType::kCUDA) {
    out["cuda_graph_replays"] = graph_replays;
    out["cuda_graph_failures"] = graph_failures;
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "usage: infer_bench MODEL.bin [--prompt_tokens N --gen_tokens M --threads T --device "
      "cpu|cuda]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (argc != 2 || FLAGS_prompt_tokens < 1 || FLAGS_gen_tokens < 1 || FLAGS_repeats < 1) {
    std::fprintf(stderr, "%s\n", gflags::ProgramUsage());
    return 2;
  }
  try {
    return run(argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "infer_bench: error: %s\n", e.what());
    return 1;
  }
}

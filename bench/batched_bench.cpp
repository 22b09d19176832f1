// batched_bench: throughput of batched prefill and decode, in the shape of llama.cpp's
// llama-batched-bench. For each batch size B: B sequences of PP prompt tokens in one pass, then
// TG decode steps of B tokens each (one per sequence), on one paged KV cache.
//   batched_bench MODEL.bin --pp 128 --tg 32 --batches 1,2,4,8,16,32 --threads 2
// Columns: PP, TG, B, N_KV (positions cached at the end), T_PP / S_PP (prefill seconds and
// tokens/s), T_TG / S_TG (decode), T / S (both).
#include <gflags/gflags.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "infer/base/device.h"
#include "infer/base/error.h"
#include "infer/base/threads.h"
#include "infer/model/model.h"

DEFINE_int64(pp, 128, "Prompt tokens per sequence");
DEFINE_int64(tg, 32, "Generated (decode) tokens per sequence");
DEFINE_string(batches, "1,2,4,8,16,32", "Comma-separated batch sizes");
DEFINE_int32(threads, 0, "CPU threads (0 = all cores)");
DEFINE_string(device, "cpu", "Device to run on: cpu or cuda");
DEFINE_bool(bf16_activations, false, "Round activations to bf16 for bf16 weights (LoadOptions)");
DEFINE_int32(repeats, 1, "Runs per batch size; the fastest is reported");
DEFINE_string(output_format, "table", "table (markdown, like llama-batched-bench) or json");

namespace {

using namespace infer;
using Clock = std::chrono::steady_clock;

std::vector<int64_t> parse_batches(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      const long long b = std::stoll(item, &used);
      if (used != item.size() || b < 1 || b > 1024) throw std::invalid_argument(item);
      out.push_back(b);
    } catch (const std::exception&) {
      throw base::InvalidArgument("--batches: '" + item + "' is not a batch size in [1, 1024]");
    }
  }
  if (out.empty()) throw base::InvalidArgument("--batches is empty");
  return out;
}

struct Row {
  int64_t b = 0;
  double t_pp = 0, t_tg = 0;
};

Row measure(const model::Model& model, int64_t b) {
  const int64_t pp = FLAGS_pp, tg = FLAGS_tg;
  const int64_t block = model::KvCache::kDefaultBlockSize;
  model::KvCache cache(model, b * ((pp + tg + block - 1) / block + 1), block,
                       /*prefix_caching=*/false);
  std::mt19937 rng(42);
  std::uniform_int_distribution<int32_t> token(0,
                                               static_cast<int32_t>(model.config().vocab_size - 1));
  std::vector<int32_t> seqs;
  model::Batch batch;
  for (int64_t s = 0; s < b; ++s) {
    seqs.push_back(cache.add_sequence());
    for (int64_t i = 0; i < pp; ++i)
      batch.add(token(rng), seqs.back(), static_cast<int32_t>(i), i == pp - 1);
  }
  Row row;
  row.b = b;
  auto start = Clock::now();
  model.forward(batch, cache);
  row.t_pp = std::chrono::duration<double>(Clock::now() - start).count();
  start = Clock::now();
  for (int64_t step = 0; step < tg; ++step) {
    batch.clear();
    for (int64_t s = 0; s < b; ++s)
      batch.add(token(rng), seqs[s], static_cast<int32_t>(pp + step), true);
    model.forward(batch, cache);
  }
  row.t_tg = std::chrono::duration<double>(Clock::now() - start).count();
  return row;
}

int run(const std::string& model_path) {
  if (FLAGS_pp < 1 || FLAGS_tg < 1) throw base::InvalidArgument("--pp and --tg must be >= 1");
  if (FLAGS_repeats < 1) throw base::InvalidArgument("--repeats must be >= 1");
  if (FLAGS_output_format != "table" && FLAGS_output_format != "json")
    throw base::InvalidArgument("--output_format must be table or json");
  const std::vector<int64_t> batches = parse_batches(FLAGS_batches);
  base::set_num_threads(FLAGS_threads);
  model::LoadOptions options;
  options.max_seq_len = FLAGS_pp + FLAGS_tg;
  options.device = base::parse_device(FLAGS_device);
  options.bf16_activations = FLAGS_bf16_activations;
  const auto model = model::Model::load(model_path, options);
  measure(*model, 1);  // warm-up: page the weights in, grow the buffers

  nlohmann::json rows = nlohmann::json::array();
  if (FLAGS_output_format == "table") {
    std::printf(
        "|    PP |     TG |    B |   N_KV |   T_PP s | S_PP t/s |   T_TG s | S_TG t/s |      T s | "
        "   S t/s |\n");
    std::printf(
        "|-------|--------|------|--------|----------|----------|----------|----------|----------|-"
        "---------|\n");
  }
  for (int64_t b : batches) {
    Row best;
    for (int r = 0; r < FLAGS_repeats; ++r) {
      const Row row = measure(*model, b);
      if (r == 0 || row.t_pp + row.t_tg < best.t_pp + best.t_tg) best = row;
    }
    const int64_t n_kv = b * (FLAGS_pp + FLAGS_tg);
    const double s_pp = static_cast<double>(b * FLAGS_pp) / best.t_pp;
    const double s_tg = static_cast<double>(b * FLAGS_tg) / best.t_tg;
    const double t = best.t_pp + best.t_tg;
    if (FLAGS_output_format == "table") {
      std::printf(
          "| %5lld | %6lld | %4lld | %6lld | %8.3f | %8.2f | %8.3f | %8.2f | %8.3f | %8.2f |\n",
          static_cast<long long>(FLAGS_pp), static_cast<long long>(FLAGS_tg),
          static_cast<long long>(b), static_cast<long long>(n_kv), best.t_pp, s_pp, best.t_tg, s_tg,
          t, static_cast<double>(n_kv) / t);
      std::fflush(stdout);
    }
    rows.push_back({{"pp", FLAGS_pp},
                    {"tg", FLAGS_tg},
                    {"b", b},
                    {"n_kv", n_kv},
                    {"t_pp_s", best.t_pp},
                    {"s_pp_tok_per_s", s_pp},
                    {"t_tg_s", best.t_tg},
                    {"s_tg_tok_per_s", s_tg},
                    {"t_s", t},
                    {"s_tok_per_s", n_kv / t}});
  }
  if (FLAGS_output_format == "json") {
    const nlohmann::json out = {{"model", model_path},
                                {"device", FLAGS_device},
                                {"threads", base::num_threads()},
                                {"rows", rows}};
    std::printf("%s\n", out.dump(2).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "batched_bench MODEL.bin [--pp N --tg N --batches 1,2,4 --threads T --device cpu|cuda]");
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);
  if (argc != 2) {
    std::fprintf(stderr, "batched_bench: error: usage: batched_bench MODEL.bin [flags]\n");
    return 1;
  }
  try {
    return run(argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "batched_bench: error: %s\n", e.what());
    return 1;
  }
}

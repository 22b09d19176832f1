// serve_bench: the Engine under a serving load, in process. N requests arrive with Poisson
// inter-arrival times at a given rate, with prompt and output lengths drawn from ranges (and,
// optionally, a long prompt every K requests); the report gives time to first token (TTFT), time
// per output token (TPOT), inter-token latency (ITL) percentiles, and request and token
// throughput, as one JSON object.
//   serve_bench MODEL.bin --requests 64 --rate 4 --parallel 16 --long_prompt_every 4
#include <gflags/gflags.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "infer/base/error.h"
#include "infer/base/threads.h"
#include "infer/engine/engine.h"

DEFINE_int64(requests, 64, "Requests to send");
DEFINE_double(rate, 4.0, "Mean arrivals per second (Poisson); 0 = all at once");
DEFINE_int64(prompt_min, 32, "Shortest prompt, tokens");
DEFINE_int64(prompt_max, 256, "Longest prompt, tokens (uniform in between)");
DEFINE_int64(output_min, 16, "Fewest output tokens");
DEFINE_int64(output_max, 128, "Most output tokens (uniform in between)");
DEFINE_int64(long_prompt_every, 0, "Every K-th request has a long prompt (0 = none)");
DEFINE_int64(long_prompt_tokens, 1024, "Length of the long prompts");
DEFINE_int64(parallel, 16, "Requests generating at once (Engine max_running)");
DEFINE_int64(step_tokens, 64, "Token budget of one forward pass");
DEFINE_int64(kv_cache_mib, 1024, "KV cache pool");
DEFINE_int32(threads, 0, "CPU threads (0 = all cores)");
DEFINE_bool(bf16_activations, false, "Round activations to bf16 for bf16 weights (LoadOptions)");
DEFINE_int64(seed, 1, "Seed of the arrival times, lengths and prompt tokens");

namespace {

using namespace infer;
using Clock = std::chrono::steady_clock;

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double at = p / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(at);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (at - static_cast<double>(lo));
}

nlohmann::json summary_ms(const std::vector<double>& seconds) {
  std::vector<double> ms;
  for (double s : seconds) ms.push_back(s * 1e3);
  double mean = 0;
  for (double m : ms) mean += m;
  mean = ms.empty() ? 0 : mean / static_cast<double>(ms.size());
  return {{"mean", mean},
          {"p50", percentile(ms, 50)},
          {"p90", percentile(ms, 90)},
          {"p99", percentile(ms, 99)}};
}

// What one request saw: when it was sent, and when each of its tokens arrived.
struct Trace {
  Clock::time_point sent;
  std::vector<Clock::time_point> tokens;
  std::mutex mutex;
};

int run(const std::string& model_path) {
  if (FLAGS_requests < 1 || FLAGS_prompt_min < 1 || FLAGS_prompt_max < FLAGS_prompt_min ||
      FLAGS_output_min < 1 || FLAGS_output_max < FLAGS_output_min || FLAGS_rate < 0 ||
      FLAGS_long_prompt_every < 0 || FLAGS_long_prompt_tokens < 1) {
    throw base::InvalidArgument(
        "serve_bench: lengths and counts must be >= 1, maxima >= minima, "
        "--rate >= 0");
  }
  base::set_num_threads(FLAGS_threads);
  model::LoadOptions load_options;
  load_options.bf16_activations = FLAGS_bf16_activations;
  const auto model = model::Model::load(model_path, load_options);
  engine::EngineOptions options;
  options.max_running = FLAGS_parallel;
  options.step_tokens = FLAGS_step_tokens;
  options.kv_cache_mib = FLAGS_kv_cache_mib;
  engine::Engine engine(*model, nullptr, options);

  std::mt19937_64 rng(static_cast<uint64_t>(FLAGS_seed));
  std::uniform_int_distribution<int32_t> token(
      0, static_cast<int32_t>(model->config().vocab_size - 1));
  std::uniform_int_distribution<int64_t> prompt_len(FLAGS_prompt_min, FLAGS_prompt_max);
  std::uniform_int_distribution<int64_t> output_len(FLAGS_output_min, FLAGS_output_max);
  std::exponential_distribution<double> gap(FLAGS_rate > 0 ? FLAGS_rate : 1.0);

  std::vector<engine::Request> requests(static_cast<size_t>(FLAGS_requests));
  std::vector<double> delays;
  for (int64_t i = 0; i < FLAGS_requests; ++i) {
    const bool long_prompt = FLAGS_long_prompt_every > 0 && i % FLAGS_long_prompt_every == 0;
    const int64_t n = long_prompt ? FLAGS_long_prompt_tokens : prompt_len(rng);
    for (int64_t j = 0; j < n; ++j) requests[i].prompt.push_back(token(rng));
    requests[i].options.max_new_tokens = output_len(rng);
    requests[i].options.eos_token_ids = {-1};  // every request produces its full output
    delays.push_back(FLAGS_rate > 0 ? gap(rng) : 0.0);
  }

  std::vector<Trace> traces(requests.size());
  std::vector<std::promise<engine::Outcome>> done(requests.size());
  const Clock::time_point start = Clock::now();
  Clock::time_point next = start;
  for (size_t i = 0; i < requests.size(); ++i) {
    next += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(delays[i]));
    std::this_thread::sleep_until(next);
    traces[i].sent = Clock::now();
    engine.submit(
        requests[i],
        [&traces, i](const generate::StreamPiece&) {
          std::lock_guard<std::mutex> lock(traces[i].mutex);
          traces[i].tokens.push_back(Clock::now());
        },
        [&done, i](const engine::Outcome& o) { done[i].set_value(o); });
  }
  int64_t output_tokens = 0, prompt_tokens = 0;
  for (auto& d : done) {
    const engine::Outcome o = d.get_future().get();
    if (!o.error.empty()) throw base::Error("a request failed: " + o.error);
    output_tokens += o.result.stats.generated_tokens;
    prompt_tokens += o.result.stats.prompt_tokens;
  }
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> ttft, tpot, itl;
  for (Trace& t : traces) {
    if (t.tokens.empty()) continue;
    ttft.push_back(std::chrono::duration<double>(t.tokens.front() - t.sent).count());
    for (size_t k = 1; k < t.tokens.size(); ++k)
      itl.push_back(std::chrono::duration<double>(t.tokens[k] - t.tokens[k - 1]).count());
    if (t.tokens.size() > 1) {
      tpot.push_back(std::chrono::duration<double>(t.tokens.back() - t.tokens.front()).count() /
                     static_cast<double>(t.tokens.size() - 1));
    }
  }
  const engine::EngineStats stats = engine.stats();
  const nlohmann::json report = {
      {"model", model_path},
      {"threads", base::num_threads()},
      {"requests", FLAGS_requests},
      {"rate_per_s", FLAGS_rate},
      {"parallel", FLAGS_parallel},
      {"step_tokens", FLAGS_step_tokens},
      {"long_prompt_every", FLAGS_long_prompt_every},
      {"long_prompt_tokens", FLAGS_long_prompt_tokens},
      {"wall_s", wall},
      {"prompt_tokens", prompt_tokens},
      {"output_tokens", output_tokens},
      {"request_throughput_per_s", static_cast<double>(FLAGS_requests) / wall},
      {"output_tokens_per_s", static_cast<double>(output_tokens) / wall},
      {"total_tokens_per_s", static_cast<double>(output_tokens + prompt_tokens) / wall},
      {"ttft_ms", summary_ms(ttft)},
      {"tpot_ms", summary_ms(tpot)},
      {"itl_ms", summary_ms(itl)},
      {"itl_p99_over_median", percentile(itl, 99) / std::max(percentile(itl, 50), 1e-12)},
      {"forward_passes", stats.steps},
      {"preemptions", stats.preemptions},
      {"prefix_cache_tokens", stats.reused_tokens}};
  std::printf("%s\n", report.dump(2).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("serve_bench MODEL.bin [--requests N --rate R --parallel P ...]");
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);
  if (argc != 2) {
    std::fprintf(stderr, "serve_bench: error: usage: serve_bench MODEL.bin [flags]\n");
    return 1;
  }
  try {
    return run(argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "serve_bench: error: %s\n", e.what());
    return 1;
  }
}

// serve_bench: the Engine under a serving load, in process or through infer_server's HTTP layer
// on loopback (streamed /v1/completions requests, as a client sends them), or both in one run
// on the same request mix. N requests arrive with Poisson inter-arrival times at a given rate,
// or come from K clients that each send their next request when the last one ends; prompt and
// output lengths are drawn from ranges (and, optionally, a long prompt every K requests). The
// report gives time to first token (TTFT), time per output token (TPOT), inter-token latency
// (ITL) percentiles, and request and token throughput, as one JSON object.
//   serve_bench MODEL.bin --requests 64 --rate 4 --parallel 16 --long_prompt_every 4
//   serve_bench MODEL.bin --tokenizer TOKENIZER --transport both --clients 16
#include <gflags/gflags.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "infer/base/device.h"
#include "infer/base/error.h"
#include "infer/base/threads.h"
#include "infer/engine/engine.h"
#include "infer/tokenizer/tokenizer.h"
#include "server/http_server.h"

#include <httplib.h>

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
DEFINE_string(device, "cpu", "Device to run on: cpu or cuda");
DEFINE_bool(bf16_activations, false, "Round activations to bf16 for bf16 weights (LoadOptions)");
DEFINE_int64(seed, 1, "Seed of the arrival times, lengths and prompt tokens");
DEFINE_int64(clients, 0,
             "Closed loop: this many clients each send a request when their last one ends "
             "(0: requests arrive at --rate)");
DEFINE_string(transport, "inprocess",
              "inprocess (Engine::submit), http (infer_server's layer on loopback, streamed "
              "/v1/completions) or both (one after the other, each on a fresh Engine)");
DEFINE_string(tokenizer, "", "Tokenizer: decodes the text as a server does (needed for http)");

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

// What one request saw: when it was sent, and when each of its tokens arrived (over HTTP: each
// streamed chunk, one per token whose text is complete).
struct Trace {
  Clock::time_point sent;
  std::vector<Clock::time_point> tokens;
  int64_t prompt_tokens = 0;
  int64_t output_tokens = 0;
};

// Sends request i and waits for its end, filling its trace.
using Sender = std::function<void(size_t i, Trace& trace)>;

double ttft_s(const Trace& t) {
  return std::chrono::duration<double>(t.tokens.front() - t.sent).count();
}

nlohmann::json summarize(std::vector<Trace>& traces, double wall,
                         const engine::EngineStats& stats) {
  int64_t output_tokens = 0, prompt_tokens = 0;
  std::vector<double> ttft, tpot, itl;
  for (Trace& t : traces) {
    output_tokens += t.output_tokens;
    prompt_tokens += t.prompt_tokens;
    if (t.tokens.empty()) continue;
    ttft.push_back(ttft_s(t));
    for (size_t k = 1; k < t.tokens.size(); ++k)
      itl.push_back(std::chrono::duration<double>(t.tokens[k] - t.tokens[k - 1]).count());
    if (t.tokens.size() > 1) {
      tpot.push_back(std::chrono::duration<double>(t.tokens.back() - t.tokens.front()).count() /
                     static_cast<double>(t.tokens.size() - 1));
    }
  }
  const double n = static_cast<double>(traces.size());
  return {{"wall_s", wall},
          {"prompt_tokens", prompt_tokens},
          {"output_tokens", output_tokens},
          {"request_throughput_per_s", n / wall},
          {"output_tokens_per_s", static_cast<double>(output_tokens) / wall},
          {"total_tokens_per_s", static_cast<double>(output_tokens + prompt_tokens) / wall},
          {"ttft_ms", summary_ms(ttft)},
          {"tpot_ms", summary_ms(tpot)},
          {"itl_ms", summary_ms(itl)},
          {"itl_p99_over_median", percentile(itl, 99) / std::max(percentile(itl, 50), 1e-12)},
          {"forward_passes", stats.steps},
          {"preemptions", stats.preemptions},
          {"prefix_cache_tokens", stats.reused_tokens}};
}

double paired_ttft_extra_ms(const std::vector<Trace>& base, const std::vector<Trace>& other) {
  std::vector<double> extra;
  for (size_t i = 0; i < base.size() && i < other.size(); ++i) {
    if (!base[i].tokens.empty() && !other[i].tokens.empty())
      extra.push_back((ttft_s(other[i]) - ttft_s(base[i])) * 1e3);
  }
  return percentile(extra, 50);
}

// Sends every request, at its arrival time or from --clients closed-loop clients, and waits.
std::vector<Trace> drive(size_t n, const std::vector<double>& delays, const Sender& send,
                         double& wall) {
  std::vector<Trace> traces(n);
  std::vector<std::thread> threads;
  std::mutex failure_mutex;
  std::exception_ptr failure;
  // A failed request ends the run with its error once every thread is back.
  auto send_one = [&](size_t i) {
    try {
      traces[i].sent = Clock::now();
      send(i, traces[i]);
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
  };
  const Clock::time_point start = Clock::now();
  if (FLAGS_clients > 0) {
    std::atomic<size_t> next{0};
    for (int64_t c = 0; c < FLAGS_clients; ++c) {
      threads.emplace_back([&] {
        for (size_t i = next++; i < n; i = next++) send_one(i);
      });
    }
  } else {
    Clock::time_point at = start;
    for (size_t i = 0; i < n; ++i) {
      at += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(delays[i]));
      threads.emplace_back([&, i, at] {
        std::this_thread::sleep_until(at);
        send_one(i);
      });
    }
  }
  for (std::thread& t : threads) t.join();
  wall = std::chrono::duration<double>(Clock::now() - start).count();
  if (failure) std::rethrow_exception(failure);
  return traces;
}

Sender in_process(engine::Engine& engine, const std::vector<engine::Request>& requests) {
  return [&engine, &requests](size_t i, Trace& trace) {
    const engine::Outcome o = engine.run(requests[i], [&trace](const generate::StreamPiece&) {
      trace.tokens.push_back(Clock::now());
    });
    if (!o.error.empty()) throw base::Error("a request failed: " + o.error);
    trace.prompt_tokens = o.result.stats.prompt_tokens;
    trace.output_tokens = o.result.stats.generated_tokens;
  };
}

// A streamed /v1/completions request per engine request, read as a client reads it.
Sender over_http(int port, const std::vector<engine::Request>& requests) {
  return [port, &requests](size_t i, Trace& trace) {
    const engine::Request& r = requests[i];
    const nlohmann::json body = {
        {"prompt", r.prompt}, {"max_tokens", r.options.max_new_tokens},
        {"ignore_eos", true}, {"temperature", 0},
        {"stream", true},     {"stream_options", {{"include_usage", true}}}};
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(600, 0);
    httplib::Request request;
    request.method = "POST";
    request.path = "/v1/completions";
    request.body = body.dump();
    request.set_header("Content-Type", "application/json");
    std::string buffer;
    request.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
      buffer.append(data, size);
      for (size_t end; (end = buffer.find("\n\n")) != std::string::npos; buffer.erase(0, end + 2)) {
        const std::string event = buffer.substr(0, end);
        if (event.rfind("data: {", 0) != 0) continue;
        const nlohmann::json chunk = nlohmann::json::parse(event.substr(6));
        if (chunk.contains("usage")) {
          trace.prompt_tokens = chunk["usage"]["prompt_tokens"];
          trace.output_tokens = chunk["usage"]["completion_tokens"];
        } else if (!chunk["choices"].empty() &&
                   !chunk["choices"][0]["text"].get<std::string>().empty()) {
          trace.tokens.push_back(Clock::now());
        }
      }
      return true;
    };
    httplib::Response response;
    httplib::Error error = httplib::Error::Success;
    if (!client.send(request, response, error) || response.status != 200) {
      throw base::Error("HTTP request " + std::to_string(i) + " failed: status " +
                        std::to_string(response.status) + ", " + httplib::to_string(error));
    }
  };
}

int run(const std::string& model_path) {
  if (FLAGS_requests < 1 || FLAGS_prompt_min < 1 || FLAGS_prompt_max < FLAGS_prompt_min ||
      FLAGS_output_min < 1 || FLAGS_output_max < FLAGS_output_min || FLAGS_rate < 0 ||
      FLAGS_long_prompt_every < 0 || FLAGS_long_prompt_tokens < 1 || FLAGS_clients < 0) {
    throw base::InvalidArgument(
        "serve_bench: lengths and counts must be >= 1, maxima >= minima, "
        "--rate and --clients >= 0");
  }
  const bool run_in_process = FLAGS_transport == "inprocess" || FLAGS_transport == "both";
  const bool run_http = FLAGS_transport == "http" || FLAGS_transport == "both";
  if (!run_in_process && !run_http) {
    throw base::InvalidArgument("--transport must be inprocess, http or both, got '" +
                                FLAGS_transport + "'");
  }
  if (run_http && FLAGS_tokenizer.empty())
    throw base::InvalidArgument("--transport http needs --tokenizer (the server decodes text)");
  base::set_num_threads(FLAGS_threads);
  model::LoadOptions load_options;
  load_options.device = base::parse_device(FLAGS_device);
  load_options.bf16_activations = FLAGS_bf16_activations;
  const auto model = model::Model::load(model_path, load_options);
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  if (!FLAGS_tokenizer.empty()) tokenizer = tokenizer::Tokenizer::load(FLAGS_tokenizer);
  engine::EngineOptions options;
  options.max_running = FLAGS_parallel;
  options.step_tokens = FLAGS_step_tokens;
  options.kv_cache_mib = FLAGS_kv_cache_mib;

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
    requests[i].options.ignore_eos = true;  // every request produces its full output
    delays.push_back(FLAGS_rate > 0 ? gap(rng) : 0.0);
  }

  nlohmann::json report = {{"model", model_path},
                           {"device", FLAGS_device},
                           {"threads", base::num_threads()},
                           {"requests", FLAGS_requests},
                           {"rate_per_s", FLAGS_rate},
                           {"clients", FLAGS_clients},
                           {"parallel", FLAGS_parallel},
                           {"step_tokens", FLAGS_step_tokens},
                           {"long_prompt_every", FLAGS_long_prompt_every},
                           {"long_prompt_tokens", FLAGS_long_prompt_tokens}};
  // Each transport gets a fresh Engine, so that neither finds the other's prompts cached.
  std::vector<Trace> in_process_traces, http_traces;
  if (run_in_process) {
    engine::Engine engine(*model, tokenizer.get(), options);
    double wall = 0;
    in_process_traces = drive(requests.size(), delays, in_process(engine, requests), wall);
    report["in_process"] = summarize(in_process_traces, wall, engine.stats());
  }
  if (run_http) {
    engine::Engine engine(*model, tokenizer.get(), options);
    server::ServerOptions server_options;
    server_options.threads = static_cast<int>(std::max<int64_t>(64, 2 * FLAGS_requests));
    server::HttpServer http(server_options);
    const int port = http.bind("127.0.0.1", 0);
    if (port < 0) throw base::Error("cannot listen on a loopback port");
    http.serve_model(engine, *tokenizer, std::nullopt);
    std::thread serving([&] { http.serve(); });
    double wall = 0;
    try {
      http_traces = drive(requests.size(), delays, over_http(port, requests), wall);
    } catch (...) {
      http.stop();
      serving.join();
      throw;
    }
    http.stop();
    serving.join();
    report["http"] = summarize(http_traces, wall, engine.stats());
  }
  if (run_in_process && run_http) {
    const nlohmann::json& a = report["in_process"];
    const nlohmann::json& b = report["http"];
    report["http_over_in_process"] = {
        {"output_tokens_per_s",
         b["output_tokens_per_s"].get<double>() / a["output_tokens_per_s"].get<double>()},
        {"ttft_p50_extra_ms",
         b["ttft_ms"]["p50"].get<double>() - a["ttft_ms"]["p50"].get<double>()},
        // Request by request (the same prompt over both transports), which cancels out most of
        // the spread of prompt lengths: the median of the differences.
        {"ttft_paired_extra_ms_p50", paired_ttft_extra_ms(in_process_traces, http_traces)}};
  }
  std::printf("%s\n", report.dump(2).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "serve_bench MODEL.bin [--requests N --rate R | --clients K] [--parallel P]\n"
      "  [--transport inprocess|http|both --tokenizer TOKENIZER] [--device cpu|cuda] ...");
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

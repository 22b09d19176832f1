#include "metrics.h"

#include <cstdio>

namespace infer::server {

namespace {

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.9g", v);
  return buffer;
}

void metric(std::string& out, const std::string& name, const char* type, const std::string& help,
            const std::string& samples) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + samples;
}

void single(std::string& out, const std::string& name, const char* type, const std::string& help,
            double value) {
  metric(out, name, type, help, name + " " + number(value) + "\n");
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::render(const std::string& name, const std::string& help, std::string& out) const {
  std::string samples;
  int64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    samples +=
        name + "_bucket{le=\"" + number(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  samples += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  samples +=
      name + "_sum " + number(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
  metric(out, name, "histogram", help, samples);
}

ServerMetrics::ServerMetrics()
    : time_to_first_token_({0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      inter_token_latency_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}) {}

void ServerMetrics::observe_time_to_first_token(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  time_to_first_token_.observe(seconds);
}

void ServerMetrics::observe_inter_token_latency(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  inter_token_latency_.observe(seconds);
}

std::string ServerMetrics::render(const engine::EngineStats& s) const {
  std::string out;
  single(out, "infer_requests_finished_total", "counter",
         "Requests the engine has ended (cancelled ones included).", double(s.finished));
  single(out, "infer_requests_running", "gauge", "Requests generating now.", double(s.running));
  single(out, "infer_requests_waiting", "gauge", "Requests queued for a place.", double(s.waiting));
  single(out, "infer_prompt_tokens_total", "counter", "Prompt tokens of ended requests.",
         double(s.prompt_tokens));
  single(out, "infer_prompt_tokens_reused_total", "counter",
         "Prompt tokens taken from the prefix cache instead of computed.", double(s.reused_tokens));
  single(out, "infer_generated_tokens_total", "counter", "Tokens generated.",
         double(s.generated_tokens));
  single(out, "infer_engine_steps_total", "counter", "Forward passes of the engine.",
         double(s.steps));
  single(out, "infer_preemptions_total", "counter",
         "Running requests sent back to wait for KV room.", double(s.preemptions));
  const int64_t free = s.cache.blocks - s.cache.blocks_in_use - s.cache.blocks_cached;
  metric(out, "infer_kv_blocks", "gauge",
         "KV cache blocks of 16 positions: held by requests, cached for prefix hits, free.",
         "infer_kv_blocks{state=\"used\"} " + std::to_string(s.cache.blocks_in_use) +
             "\ninfer_kv_blocks{state=\"cached\"} " + std::to_string(s.cache.blocks_cached) +
             "\ninfer_kv_blocks{state=\"free\"} " + std::to_string(free) + "\n");
  std::lock_guard<std::mutex> lock(mutex_);
  time_to_first_token_.render("infer_time_to_first_token_seconds",
                              "From a request's arrival to its first token.", out);
  inter_token_latency_.render("infer_inter_token_latency_seconds",
                              "Between consecutive tokens of one request.", out);
  return out;
}

void TokenTimer::token() {
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - last_).count();
  if (first_) {
    metrics_.observe_time_to_first_token(seconds);
  } else {
    metrics_.observe_inter_token_latency(seconds);
  }
  first_ = false;
  last_ = now;
}

}  // namespace infer::server

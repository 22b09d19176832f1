#pragma once
// GET /metrics in Prometheus' text format: the Engine's counts (requests, tokens, KV blocks) and
// the latencies clients see, time to first token and inter-token latency, as histograms.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "infer/engine/engine.h"

namespace infer::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // The _bucket (cumulative, then +Inf), _sum and _count lines of metric `name`.
  void render(const std::string& name, const std::string& help, std::string& out) const;

 private:
  std::vector<double> bounds_;
  std::vector<int64_t> counts_;  // per bucket, not cumulative; the last is +Inf
  double sum_ = 0;
  int64_t count_ = 0;
};

class ServerMetrics {
 public:
  ServerMetrics();
  void observe_time_to_first_token(double seconds);
  void observe_inter_token_latency(double seconds);
  std::string render(const engine::EngineStats& stats) const;

 private:
  mutable std::mutex mutex_;
  Histogram time_to_first_token_;
  Histogram inter_token_latency_;
};

// The token times of one request, fed from its piece callback: the first piece gives the time
// to first token, each later one an inter-token latency.
class TokenTimer {
 public:
  explicit TokenTimer(ServerMetrics& metrics)
      : metrics_(metrics), last_(std::chrono::steady_clock::now()) {}
  void token();

 private:
  ServerMetrics& metrics_;
  std::chrono::steady_clock::time_point last_;
  bool first_ = true;
};

}  // namespace infer::server

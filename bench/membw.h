#pragma once
// Read bandwidth as the kernels see it: every thread of the pool sums its share of a large
// array, so the figure is the ceiling a weight-streaming GEMV can reach on this machine.
#include <cstdint>
#include <vector>

namespace infer::bench {

struct Bandwidth {
  double median_gb_per_s = 0;
  double best_gb_per_s = 0;
  int64_t bytes = 0;
  int passes = 0;
};

// An array of `bytes` (filled at construction, so its pages are resident) that can be summed
// again and again: a benchmark measures the bandwidth between its own runs with one probe.
class ReadBandwidthProbe {
 public:
  explicit ReadBandwidthProbe(int64_t bytes);
  // Sums the array `passes` times with the current thread pool; GB = 1e9 bytes.
  Bandwidth measure(int passes) const;

 private:
  std::vector<float> data_;
};

inline Bandwidth measure_read_bandwidth(int64_t bytes = int64_t(1) << 30, int passes = 7) {
  return ReadBandwidthProbe(bytes).measure(passes);
}

}  // namespace infer::bench

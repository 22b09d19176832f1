#pragma once
// Read bandwidth as the kernels see it: every thread of the pool sums its share of a large
// array, so the figure is the ceiling a weight-streaming GEMV can reach on this machine.
#include <cstdint>

namespace infer::bench {

struct Bandwidth {
  double median_gb_per_s = 0;
  double best_gb_per_s = 0;
  int64_t bytes = 0;
  int passes = 0;
};

// Sums a `bytes`-long array (filled first, so its pages are resident) `passes` times with the
// current thread pool; GB = 1e9 bytes.
Bandwidth measure_read_bandwidth(int64_t bytes = int64_t(1) << 30, int passes = 7);

}  // namespace infer::bench

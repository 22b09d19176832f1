#include <omp.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "membw.h"

namespace infer::bench {

ReadBandwidthProbe::ReadBandwidthProbe(int64_t bytes)
    : data_(static_cast<size_t>(bytes / static_cast<int64_t>(sizeof(float)))) {
  const int64_t n = static_cast<int64_t>(data_.size());
  float* data = data_.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) data[i] = static_cast<float>(i & 1023);
}

Bandwidth ReadBandwidthProbe::measure(int passes) const {
  const int64_t n = static_cast<int64_t>(data_.size());
  std::vector<double> rates;
  volatile float sink = 0;
  for (int p = 0; p < passes; ++p) {
    const auto start = std::chrono::steady_clock::now();
    const float* src = data_.data();
    // Four independent sums per thread, so that the adds' latency does not cap the read rate.
    float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const int64_t blocks = n / 64;
#pragma omp parallel for schedule(static) reduction(+ : a0, a1, a2, a3)
    for (int64_t b = 0; b < blocks; ++b) {
      const float* q = src + b * 64;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
      for (int j = 0; j < 16; ++j) {
        a0 += q[j];
        a1 += q[16 + j];
        a2 += q[32 + j];
        a3 += q[48 + j];
      }
    }
    const float total = a0 + a1 + a2 + a3;
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    sink = sink + total;
    rates.push_back(static_cast<double>(n * sizeof(float)) / s / 1e9);
  }
  std::sort(rates.begin(), rates.end());
  return {rates[rates.size() / 2], rates.back(), n * static_cast<int64_t>(sizeof(float)), passes};
}

}  // namespace infer::bench

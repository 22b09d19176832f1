#pragma once
// Reproducible test inputs: n values from a normal distribution N(0, scale²) seeded by `seed`.
#include <cstdint>
#include <random>
#include <vector>

namespace infer::test::reference {

inline std::vector<float> random_normal(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

}  // namespace infer::test::reference

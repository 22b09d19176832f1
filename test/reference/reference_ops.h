#pragma once
// Plain, obviously correct implementations of every op (no threads, no SIMD, double
// accumulation), the oracle for kernel tests.
#include <cstdint>
#include <vector>

#include "infer/op/rope.h"

namespace infer::test::reference {

using Vec = std::vector<float>;

Vec matmul(const Vec& x, const Vec& w, int64_t m, int64_t n, int64_t k);  // x·wᵀ

// w · x over k values in double, and Σ|w[c] x[c]|, the size of the rounding error a float
// kernel may make in forming it.
struct DoubleDot {
  double value = 0, magnitude = 0;
};
template <class X>
DoubleDot dot_in_double(const float* w, const X* x, int64_t k) {
  DoubleDot d;
  for (int64_t c = 0; c < k; ++c) {
    const double term = double(w[c]) * double(x[c]);
    d.value += term;
    d.magnitude += term < 0 ? -term : term;
  }
  return d;
}
Vec rmsnorm(const Vec& x, const Vec& w, int64_t rows, int64_t dim, float eps);
Vec embedding(const Vec& table, const std::vector<int32_t>& ids, int64_t dim);
// Rotate-half RoPE with angles computed from scratch for each position.
Vec rope(const Vec& x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, int64_t start_pos,
         double theta, const op::RopeScaling& scaling = {});
// Causal GQA attention with an explicit score matrix and a two-pass softmax.
Vec attention(const Vec& q, const Vec& k_cache, const Vec& v_cache, int64_t n_tokens,
              int64_t start_pos, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim);
Vec swiglu(const Vec& gate, const Vec& up);
Vec add(const Vec& a, const Vec& b);
Vec softmax(const Vec& x, int64_t rows, int64_t cols);
int32_t argmax(const Vec& x);

}  // namespace infer::test::reference

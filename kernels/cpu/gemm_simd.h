#pragma once
// The prefill GEMM out[m, n] = x[m, k] · w[n, k]ᵀ on f32 rows, written against the vector
// interface of gemv_simd.h and instantiated in the AVX-512 file. Both operands are read along k
// as stored (no packing): a block of kMr rows of x times kNr rows of w keeps kMr × kNr vector
// accumulators and reduces each to one float at the end of the k range. Include only from the
// per-ISA files.
#include <algorithm>
#include <cstdint>

namespace infer::kernels::cpu::simd {

// out[i * ldo + j] (+)= sum over c in [k0, k1) of x[i * k + c] * w[j * k + c], i < Mr, j < Nr.
template <class V, int Mr, int Nr>
inline void dot_block(const float* x, const float* w, int64_t k, int64_t k0, int64_t k1, float* out,
                      int64_t ldo, bool accumulate) {
  constexpr int64_t kLanes = V::kLanes;
  typename V::F acc[Mr][Nr];
#pragma GCC unroll 8
  for (int i = 0; i < Mr; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < Nr; ++j) acc[i][j] = V::zero();
  int64_t c = k0;
  for (; c + kLanes <= k1; c += kLanes) {
    typename V::F wv[Nr];
#pragma GCC unroll 8
    for (int j = 0; j < Nr; ++j) wv[j] = V::load(w + j * k + c);
#pragma GCC unroll 8
    for (int i = 0; i < Mr; ++i) {
      const typename V::F xv = V::load(x + i * k + c);
#pragma GCC unroll 8
      for (int j = 0; j < Nr; ++j) acc[i][j] = V::fma(xv, wv[j], acc[i][j]);
    }
  }
  for (int i = 0; i < Mr; ++i) {
    for (int j = 0; j < Nr; ++j) {
      float s = V::sum(acc[i][j]);
      for (int64_t t = c; t < k1; ++t) s += x[i * k + t] * w[j * k + t];
      out[i * ldo + j] = accumulate ? out[i * ldo + j] + s : s;
    }
  }
}

template <class V, int Mr, int Nr>
inline void dot_block_upto(int mr, int nr, const float* x, const float* w, int64_t k, int64_t k0,
                           int64_t k1, float* out, int64_t ldo, bool accumulate) {
  if constexpr (Mr > 0 && Nr > 0) {
    if (mr == Mr && nr == Nr) return dot_block<V, Mr, Nr>(x, w, k, k0, k1, out, ldo, accumulate);
    if (nr < Nr)
      return dot_block_upto<V, Mr, Nr - 1>(mr, nr, x, w, k, k0, k1, out, ldo, accumulate);
    return dot_block_upto<V, Mr - 1, Nr>(mr, nr, x, w, k, k0, k1, out, ldo, accumulate);
  }
}

// out[i * ldo + j] = x[i, :] · w[j, :] for i < m, j < rows; w is `rows` f32 rows of length k
// (a weight's rows in place, or a dequantised tile of them). k is split into ranges of at most
// about 1024 so that kMr rows of x and kNr rows of w stay in L1 while a block is summed.
template <class V, int Mr, int Nr>
inline void gemm_rows(const float* x, int64_t m, const float* w, int64_t rows, int64_t k,
                      float* out, int64_t ldo) {
  constexpr int64_t kMaxRange = 1024;
  const int64_t ranges = (k + kMaxRange - 1) / kMaxRange;
  const int64_t range = ((k + ranges - 1) / ranges + V::kLanes - 1) / V::kLanes * V::kLanes;
  for (int64_t k0 = 0; k0 < k; k0 += range) {
    const int64_t k1 = std::min(k, k0 + range);
    for (int64_t i = 0; i < m; i += Mr) {
      const int mr = static_cast<int>(std::min<int64_t>(Mr, m - i));
      for (int64_t j = 0; j < rows; j += Nr) {
        const int nr = static_cast<int>(std::min<int64_t>(Nr, rows - j));
        dot_block_upto<V, Mr, Nr>(mr, nr, x + i * k, w + j * k, k, k0, k1, out + i * ldo + j, ldo,
                                  k0 > 0);
      }
    }
  }
}

}  // namespace infer::kernels::cpu::simd

#pragma once
// The prefill GEMM out[m, n] = x[m, k] · w[n, k]ᵀ, written once against an operand interface G
// and instantiated in the AVX-512 files. w is read along k as stored (no packing), x in G's row
// layout: a block of Mr rows of x times Nr rows of w keeps Mr × Nr vector accumulators and
// reduces each to one float at the end of the k range. Include only from the per-ISA files.
//
// G provides: XElem and WElem (element types of x and w), kStep (elements of k per step, which
// k ranges are multiples of), XIn and In (one step of x and of w), Acc (a vector of f32 sums),
// x_stride(k) (elements per row of x), zero(), load_x(x_row, c), load_w(w_row, c),
// madd(x, w, acc) (acc plus the products of one step), sum(Acc), and product(x_row, w_row, c)
// (the one product at column c, for the tail of k).
#include <algorithm>
#include <cstdint>

// GCC 12 reports the _mm*_undefined_* operands inside its own AVX-512 intrinsics as
// uninitialised once they are inlined into the GEMM block (GCC bug 105593, fixed in GCC 13).
// The files that include this header are the per-ISA ones, which want the same for all of it.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace infer::kernels::cpu::simd {

// The f32 operands of G for a GEMV vector interface V (gemv_simd.h): rows of x as given.
template <class V>
struct F32Operands {
  using XElem = float;
  using WElem = float;
  using XIn = typename V::F;
  using In = typename V::F;
  using Acc = typename V::F;
  static constexpr int64_t kStep = V::kLanes;
  static int64_t x_stride(int64_t k) { return k; }
  static Acc zero() { return V::zero(); }
  static XIn load_x(const float* row, int64_t c) { return V::load(row + c); }
  static In load_w(const float* row, int64_t c) { return V::load(row + c); }
  static Acc madd(XIn x, In w, Acc acc) { return V::fma(x, w, acc); }
  static float sum(Acc a) { return V::sum(a); }
  static float product(const float* x, const float* w, int64_t c) { return x[c] * w[c]; }
};

// f32 rows of x against 16-bit (f16 or bf16) weight rows in place: each weight vector is widened
// in registers (Widen: V::kLanes values, Widen1: one), then used exactly as F32Operands uses an
// f32 one, so the sums equal those over a widened copy of the weights, bit for bit.
template <class V, class Widen, class Widen1>
struct HalfOperands : F32Operands<V> {
  using WElem = uint16_t;
  using In = typename V::F;
  static In load_w(const uint16_t* row, int64_t c) { return Widen{}(row + c); }
  static float product(const float* x, const uint16_t* w, int64_t c) {
    return x[c] * Widen1{}(w[c]);
  }
};

// out[i * ldo + j] (+)= sum over c in [k0, k1) of x_i[c] * w[j * k + c], i < Mr, j < Nr, where
// x_i is the row of x at x + i * ldx.
template <class G, int Mr, int Nr>
inline void dot_block(const typename G::XElem* x, int64_t ldx, const typename G::WElem* w,
                      int64_t k, int64_t k0, int64_t k1, float* out, int64_t ldo, bool accumulate) {
  typename G::Acc acc[Mr][Nr];
#pragma GCC unroll 8
  for (int i = 0; i < Mr; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < Nr; ++j) acc[i][j] = G::zero();
  int64_t c = k0;
  for (; c + G::kStep <= k1; c += G::kStep) {
    typename G::In wv[Nr];
#pragma GCC unroll 8
    for (int j = 0; j < Nr; ++j) wv[j] = G::load_w(w + j * k, c);
#pragma GCC unroll 8
    for (int i = 0; i < Mr; ++i) {
      const typename G::XIn xv = G::load_x(x + i * ldx, c);
#pragma GCC unroll 8
      for (int j = 0; j < Nr; ++j) acc[i][j] = G::madd(xv, wv[j], acc[i][j]);
    }
  }
  for (int i = 0; i < Mr; ++i) {
    for (int j = 0; j < Nr; ++j) {
      float s = G::sum(acc[i][j]);
      for (int64_t t = c; t < k1; ++t) s += G::product(x + i * ldx, w + j * k, t);
      out[i * ldo + j] = accumulate ? out[i * ldo + j] + s : s;
    }
  }
}

template <class G, int Mr, int Nr>
inline void dot_block_upto(int mr, int nr, const typename G::XElem* x, int64_t ldx,
                           const typename G::WElem* w, int64_t k, int64_t k0, int64_t k1,
                           float* out, int64_t ldo, bool accumulate) {
  if constexpr (Mr > 0 && Nr > 0) {
    if (mr == Mr && nr == Nr)
      return dot_block<G, Mr, Nr>(x, ldx, w, k, k0, k1, out, ldo, accumulate);
    if (nr < Nr)
      return dot_block_upto<G, Mr, Nr - 1>(mr, nr, x, ldx, w, k, k0, k1, out, ldo, accumulate);
    return dot_block_upto<G, Mr - 1, Nr>(mr, nr, x, ldx, w, k, k0, k1, out, ldo, accumulate);
  }
}

// out[i * ldo + j] = x_i · w[j, :] for i < m, j < rows; x holds m rows in G's layout, w `rows`
// rows of length k (a weight's rows in place, or a dequantised tile of them). k is split into
// ranges of at most about 1024 so that Mr rows of x and Nr rows of w stay in L1 while a block is
// summed.
template <class G, int Mr, int Nr>
inline void gemm_rows(const typename G::XElem* x, int64_t m, const typename G::WElem* w,
                      int64_t rows, int64_t k, float* out, int64_t ldo) {
  constexpr int64_t kMaxRange = 1024;
  const int64_t ldx = G::x_stride(k);
  const int64_t ranges = (k + kMaxRange - 1) / kMaxRange;
  const int64_t range = ((k + ranges - 1) / ranges + G::kStep - 1) / G::kStep * G::kStep;
  for (int64_t k0 = 0; k0 < k; k0 += range) {
    const int64_t k1 = std::min(k, k0 + range);
    for (int64_t i = 0; i < m; i += Mr) {
      const int mr = static_cast<int>(std::min<int64_t>(Mr, m - i));
      for (int64_t j = 0; j < rows; j += Nr) {
        const int nr = static_cast<int>(std::min<int64_t>(Nr, rows - j));
        dot_block_upto<G, Mr, Nr>(mr, nr, x + i * ldx, ldx, w + j * k, k, k0, k1, out + i * ldo + j,
                                  ldo, k0 > 0);
      }
    }
  }
}

}  // namespace infer::kernels::cpu::simd

// Matmuls of bf16 weights with the activations rounded to bf16 (LoadOptions::bf16_activations),
// compiled for AVX512_BF16 and run only where base::cpu_isa() has it. VDPBF16PS multiplies 32
// bf16 pairs per instruction into 16 f32 sums: twice the products of an f32 FMA, at the price of
// rounding each activation once to 8 significant bits (the weights are bf16 already). Decode
// rows (dot_rows) and batched ones (simd::gemm_rows) form every sum in the same order, so a row's
// result does not depend on its batch.
#include "gemv.h"

#if defined(__AVX512BF16__)
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "gemv_simd.h"

namespace infer::kernels::cpu {

namespace {

float bf16_to_f32(uint16_t v) {
  const uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  __builtin_memcpy(&f, &bits, sizeof(f));
  return f;
}

// The operands of simd::gemm_rows: rows of x and of w both bf16, 32 columns a step.
struct Bf16DotOperands {
  using XElem = uint16_t;
  using WElem = uint16_t;
  using XIn = __m512bh;
  using In = __m512bh;
  using Acc = __m512;
  static constexpr int64_t kStep = 32;
  static int64_t x_stride(int64_t k) { return k; }
  static Acc zero() { return _mm512_setzero_ps(); }
  static __m512bh load(const uint16_t* p) { return (__m512bh)_mm512_loadu_si512(p); }
  static XIn load_x(const uint16_t* row, int64_t c) { return load(row + c); }
  static In load_w(const uint16_t* row, int64_t c) { return load(row + c); }
  static Acc madd(XIn x, In w, Acc acc) { return _mm512_dpbf16_ps(acc, x, w); }
  static float sum(Acc a) { return _mm512_reduce_add_ps(a); }
  static float product(const uint16_t* x, const uint16_t* w, int64_t c) {
    return bf16_to_f32(x[c]) * bf16_to_f32(w[c]);
  }
};

// out[0, n) = x rounded to bf16 (to nearest, ties to even), every element by the same
// instruction, the tail through a mask.
void round_to_bf16(const float* x, int64_t n, uint16_t* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256bh v = _mm512_cvtneps_pbh(_mm512_loadu_ps(x + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), (__m256i)v);
  }
  if (i < n) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m256bh v = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mask, x + i));
    _mm256_mask_storeu_epi16(out + i, mask, (__m256i)v);
  }
}

// Rows [begin, end) of y = W x, one row at a time as the other GEMVs (gemv_simd.h): each sum
// formed exactly as Bf16DotOperands' dot_block forms it (per range of k, one accumulator fed in
// order, reduced, then the scalar tail; the ranges added in order), so decode rows equal the
// batched ones. One prefetch per 64-byte line (32 weights), 4 KiB ahead.
void dot_rows(const uint16_t* w, const uint16_t* x, float* y, int64_t begin, int64_t end,
              int64_t k) {
  using G = Bf16DotOperands;
  const int64_t range = simd::range_length(k, G::kStep);
  for (int64_t r = begin; r < end; ++r) {
    const uint16_t* row = w + r * k;
    float total = 0;
    for (int64_t k0 = 0; k0 < k; k0 += range) {
      const int64_t k1 = std::min(k, k0 + range);
      G::Acc acc = G::zero();
      int64_t c = k0;
      for (; c + G::kStep <= k1; c += G::kStep) {
        __builtin_prefetch(row + c + 2048);
        acc = G::madd(G::load_x(x, c), G::load_w(row, c), acc);
      }
      float s = G::sum(acc);
      for (; c < k1; ++c) s += G::product(x, row, c);
      total = k0 > 0 ? total + s : s;
    }
    y[r] = total;
  }
}

// Grow-only scratch for the rounded activations: nothing is allocated per call once the largest
// input has been seen.
const uint16_t* rounded_activations(const float* x, int64_t n) {
  static thread_local std::vector<uint16_t> rounded;
  if (rounded.size() < static_cast<size_t>(n)) rounded.resize(static_cast<size_t>(n));
  round_to_bf16(x, n, rounded.data());
  return rounded.data();
}

// 6 rows of x by 4 weight rows: 24 accumulators, as the f32 GEMM.
constexpr int kBlockRows = 6, kBlockCols = 4;
// Weight rows per parallel block: 64 rows of a range of k (at most 1024) stay in L2 while every
// block of x passes.
constexpr int64_t kParallelRows = 64;

}  // namespace

void gemv_bf16_activations(const WeightRef* w, const float* x, float* const* ys, const int64_t* n,
                           int count, int64_t k) {
  const uint16_t* xb = rounded_activations(x, k);
  parallel_row_spans(n, count, [&](int i, int64_t from, int64_t to) {
    dot_rows(static_cast<const uint16_t*>(w[i].data), xb, ys[i], from, to, k);
  });
}

void gemm_bf16_activations(const WeightRef& w, const float* x, int64_t m, int64_t n, int64_t k,
                           float* out) {
  if (m == 1) return gemv_bf16_activations(&w, x, &out, &n, 1, k);
  const uint16_t* xb = rounded_activations(x, m * k);
  const uint16_t* weights = static_cast<const uint16_t*>(w.data);
#pragma omp parallel for schedule(static)
  for (int64_t r0 = 0; r0 < n; r0 += kParallelRows) {
    simd::gemm_rows<Bf16DotOperands, kBlockRows, kBlockCols>(
        xb, m, weights + r0 * k, std::min(kParallelRows, n - r0), k, out + r0, n);
  }
}

}  // namespace infer::kernels::cpu

#else  // a target without AVX512_BF16 (not x86-64): Model::load refuses the option first

#include "infer/base/error.h"

namespace infer::kernels::cpu {

void gemv_bf16_activations(const WeightRef*, const float*, float* const*, const int64_t*, int,
                           int64_t) {
  throw base::Unsupported("bf16 activations need a CPU with AVX512_BF16");
}

void gemm_bf16_activations(const WeightRef&, const float*, int64_t, int64_t, int64_t, float*) {
  throw base::Unsupported("bf16 activations need a CPU with AVX512_BF16");
}

}  // namespace infer::kernels::cpu

#endif

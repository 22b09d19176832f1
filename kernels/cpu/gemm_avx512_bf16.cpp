// The prefill GEMM for bf16 weights with AVX512_BF16: vdpbf16ps multiplies 32 bf16 pairs per
// instruction straight from the weights in place, so nothing is widened or copied. x enters as
// two bf16 (hi + lo), which keeps it to 16 significant bits: one bf16 alone would cost half a
// point of top-1 agreement with HF fp32 on SmolLM2 (bench/RESULTS.md). This file is compiled with
// AVX512_BF16 enabled and only runs where base::cpu_isa() is avx512_bf16; every other kernel
// is the AVX-512 one.
#include <immintrin.h>

#include "dequantize.h"
#include "gemm_simd.h"
#include "gemv.h"

namespace infer::kernels::cpu {

namespace {

// Operands for simd::gemm_rows: x as bf16 pairs (gemv.h), w as bf16 rows. Each step takes 32
// columns and adds the products of hi and of lo, pairs of adjacent columns into 16 f32 lanes.
struct Bf16PairOperands {
  using XElem = uint16_t;
  using WElem = uint16_t;
  struct XIn {
    __m512bh hi, lo;
  };
  using In = __m512bh;
  using Acc = __m512;
  static constexpr int64_t kStep = 32;
  static int64_t x_stride(int64_t k) { return bf16_pairs_stride(k); }
  static Acc zero() { return _mm512_setzero_ps(); }
  static XIn load_x(const uint16_t* row, int64_t c) {  // c is a multiple of 32
    return {(__m512bh)_mm512_loadu_si512(row + 2 * c),
            (__m512bh)_mm512_loadu_si512(row + 2 * c + 32)};
  }
  static In load_w(const uint16_t* row, int64_t c) { return (__m512bh)_mm512_loadu_si512(row + c); }
  static Acc madd(XIn x, In w, Acc acc) {
    return _mm512_dpbf16_ps(_mm512_dpbf16_ps(acc, x.hi, w), x.lo, w);
  }
  static float sum(Acc a) { return _mm512_reduce_add_ps(a); }
  static float product(const uint16_t* x, const uint16_t* w, int64_t c) {
    const int64_t at = c / 32 * 64 + c % 32;
    const float weight = bf16_to_f32(w[c]);
    return bf16_to_f32(x[at]) * weight + bf16_to_f32(x[at + 32]) * weight;
  }
};

// bf16 -> f32 is a shift into the top half.
__m512 widen_bf16(__m256i v) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
}

// Rows [begin, end) of x as bf16 pairs (gemv.h); vcvtne2ps2bf16 rounds to nearest even.
void split_rows(const float* x, int64_t begin, int64_t end, int64_t k, uint16_t* pairs) {
  const int64_t stride = bf16_pairs_stride(k);
  for (int64_t i = begin; i < end; ++i) {
    const float* in = x + i * k;
    uint16_t* out = pairs + i * stride;
    for (int64_t c = 0; c < k; c += 32) {
      // Columns past k load as zeros, which pads the last chunk.
      const int64_t left = k - c;
      const __mmask16 low = left >= 16 ? 0xFFFF : (1u << left) - 1;
      const __mmask16 high = left >= 32 ? 0xFFFF : left <= 16 ? 0 : (1u << (left - 16)) - 1;
      const __m512 a = _mm512_maskz_loadu_ps(low, in + c);
      const __m512 b = _mm512_maskz_loadu_ps(high, in + c + 16);
      const __m512i hi = (__m512i)_mm512_cvtne2ps_pbh(b, a);  // a in the low half
      const __m512 a_rest = _mm512_sub_ps(a, widen_bf16(_mm512_castsi512_si256(hi)));
      const __m512 b_rest = _mm512_sub_ps(b, widen_bf16(_mm512_extracti64x4_epi64(hi, 1)));
      _mm512_storeu_si512(out + 2 * c, hi);
      _mm512_storeu_si512(out + 2 * c + 32, (__m512i)_mm512_cvtne2ps_pbh(b_rest, a_rest));
    }
  }
}

}  // namespace

const IsaKernels& avx512_bf16_kernels() {
  static const IsaKernels kernels = [] {
    IsaKernels k = avx512_kernels();
    // 6 rows of x by 4 weight rows: 24 of the 32 vector registers accumulate, as in f32.
    k.gemm_bf16 = simd::gemm_rows<Bf16PairOperands, 6, 4>;
    k.split_bf16 = split_rows;
    return k;
  }();
  return kernels;
}

}  // namespace infer::kernels::cpu

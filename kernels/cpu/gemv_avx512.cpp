// GEMV kernels for AVX-512 (F/BW/VL, with FMA and F16C); this file is compiled with those
// instruction sets enabled and only runs where base::cpu_isa() says the CPU has them.
#include <immintrin.h>

#include "gemv.h"
#include "gemv_simd.h"

namespace infer::kernels::cpu {

namespace {

struct Vec {
  using F = __m512;
  static constexpr int64_t kLanes = 16;
  // f32: 6 rows of x by 4 weight rows, 24 of the 32 vector registers accumulate; int8: 4 x 2
  // (three vectors each).
  static constexpr int kBlockRows = 6, kBlockCols = 4, kI8BlockRows = 4, kI8BlockCols = 2;
  static F zero() { return _mm512_setzero_ps(); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F fma(F a, F b, F acc) { return _mm512_fmadd_ps(a, b, acc); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static float sum(F a) { return _mm512_reduce_add_ps(a); }
};

struct WidenF16 {
  __m512 operator()(const uint16_t* p) const {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
};
struct WidenBF16 {  // bf16 is the top half of an f32: widen and shift
  __m512 operator()(const uint16_t* p) const {
    const __m512i wide =
        _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
};
struct WidenI8 {
  __m512 operator()(const int8_t* p) const {
    return _mm512_cvtepi32_ps(
        _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
};
struct WidenF16One {
  float operator()(uint16_t v) const { return _cvtsh_ss(v); }
};

using K = simd::Kernels<Vec, WidenF16, WidenBF16, WidenI8, WidenF16One>;

}  // namespace

const IsaKernels& avx512_kernels() {
  static const IsaKernels kernels = simd::table<K>();
  return kernels;
}

}  // namespace infer::kernels::cpu

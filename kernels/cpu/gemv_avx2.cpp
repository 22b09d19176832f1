// GEMV kernels for AVX2 with FMA and F16C; this file is compiled with those instruction sets
// enabled and only runs where base::cpu_isa() says the CPU has them.
#include <immintrin.h>

#include "gemv.h"
#include "gemv_simd.h"

namespace infer::kernels::cpu {

namespace {

struct Vec {
  using F = __m256;
  static constexpr int64_t kLanes = 8;
  // f32: 4 rows of x by 3 weight rows, 12 of the 16 vector registers accumulate; int8: 2 x 2
  // (three vectors each).
  static constexpr int kBlockRows = 4, kBlockCols = 3, kI8BlockRows = 2, kI8BlockCols = 2;
  static F zero() { return _mm256_setzero_ps(); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F fma(F a, F b, F acc) { return _mm256_fmadd_ps(a, b, acc); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static float sum(F a) {
    const __m128 half = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    const __m128 pairs = _mm_add_ps(half, _mm_movehl_ps(half, half));
    return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs)));
  }
};

struct WidenF16 {
  __m256 operator()(const uint16_t* p) const {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
};
struct WidenBF16 {  // bf16 is the top half of an f32: widen and shift
  __m256 operator()(const uint16_t* p) const {
    const __m256i wide =
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
};
struct WidenI8 {
  __m256 operator()(const int8_t* p) const {
    return _mm256_cvtepi32_ps(
        _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
};
struct WidenF16One {
  float operator()(uint16_t v) const { return _cvtsh_ss(v); }
};

using K = simd::Kernels<Vec, WidenF16, WidenBF16, WidenI8, WidenF16One>;

}  // namespace

const IsaKernels& avx2_kernels() {
  static const IsaKernels kernels = simd::table<K>();
  return kernels;
}

}  // namespace infer::kernels::cpu

#pragma once
// The byte-vector and integer-dot interfaces of int8_dot.h on 256-bit registers, for the files
// compiled with AVX2 (quant_avx2.cpp, and with VNNI, quant_avx512_vnni.cpp, quant_avx_vnni.cpp).
// Dot is the unsigned-by-signed byte product summed per 4 bytes into 8 int32 lanes: AVX2's
// maddubs + madd, or a VPDPBUSD. Lanes 0-3 hold values 0-15, lanes 4-7 values 16-31.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "block_common.h"

namespace infer::kernels::cpu::quant {

struct Avx2Bytes {
  using V = __m256i;
  static V load(const uint8_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static V low4() { return _mm256_set1_epi8(0x0F); }
  static V zero() { return _mm256_setzero_si256(); }
  static V load32(const uint8_t* p) { return load(p); }
  // The 16 bytes in both halves (a load, not a shuffle), the upper half's dwords shifted right
  // by 4: each byte's low nibble is then its high one, and the mask keeps only that.
  static V nibbles16(const uint8_t* p) {
    const __m256i both =
        _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_and_si256(_mm256_srlv_epi32(both, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)),
                            low4());
  }
  static V low_nibbles32(const uint8_t* p) { return _mm256_and_si256(load(p), low4()); }
  static V high_nibbles32(const uint8_t* p) {
    return _mm256_and_si256(_mm256_srli_epi16(load(p), 4), low4());
  }
  static V bits32(const uint8_t* p) {
    uint32_t bits;
    std::memcpy(&bits, p, 4);
    // Byte i takes byte i / 8 of the word, keeps bit i % 8 and becomes 0 or 1.
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32(static_cast<int>(bits)),
        _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303));
    const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
    return _mm256_min_epu8(_mm256_and_si256(spread, bit), _mm256_set1_epi8(1));
  }
  static V bit_plane32(const uint8_t* p, int s) {
    return _mm256_and_si256(_mm256_srl_epi16(load(p), _mm_cvtsi32_si128(s)), _mm256_set1_epi8(1));
  }
  static V two_bits32(const uint8_t* p, int s) {
    return _mm256_and_si256(_mm256_srl_epi16(load(p), _mm_cvtsi32_si128(s)), _mm256_set1_epi8(3));
  }
  static V or_(V a, V b) { return _mm256_or_si256(a, b); }
  static V minus32(V a) { return _mm256_sub_epi8(a, _mm256_set1_epi8(32)); }
  // Bytes below 16 only, so no bit crosses into the next byte of the 16-bit lane.
  static V shl4(V a) { return _mm256_slli_epi16(a, 4); }
};

// Dot::dot(acc, unsigned bytes, signed bytes) -> acc + the byte products summed per 4 into 8
// int32 lanes; kRows x kCols is the tile of the batched product.
template <class Dot, int kRows, int kCols>
struct Avx2Int8 {
  using Sums = __m256i;
  using F8 = __m256;
  static constexpr int kTileRows = kRows, kTileCols = kCols;
  static Sums zero_sums() { return _mm256_setzero_si256(); }
  static __m256i load_x(const int8_t* x) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
  }
  // 128 q·xq + q·xr per lane (x = dx (xq + xr / 128), kResidualScale), for unsigned codes.
  static Sums dot2_u(__m256i q, const int8_t* xq, const int8_t* xr) {
    const __m256i coarse = Dot::dot(_mm256_setzero_si256(), q, load_x(xq));
    return Dot::dot(_mm256_slli_epi32(coarse, 7), q, load_x(xr));
  }
  // Signed codes: |q| times x with q's sign (|q| of -128 reads as 128 unsigned; activations
  // stay within +-127, so negating them cannot overflow).
  static Sums dot2_s(__m256i q, const int8_t* xq, const int8_t* xr) {
    const __m256i magnitude = _mm256_sign_epi8(q, q);
    const __m256i coarse =
        Dot::dot(_mm256_setzero_si256(), magnitude, _mm256_sign_epi8(load_x(xq), q));
    return Dot::dot(_mm256_slli_epi32(coarse, 7), magnitude, _mm256_sign_epi8(load_x(xr), q));
  }
  // Lanes 0-3 (values 0-15) times sc[0], lanes 4-7 times sc[1].
  static Sums scale_pairs(Sums s, const int8_t* sc) {
    uint16_t pair;
    std::memcpy(&pair, sc, 2);
    const __m128i spread = _mm_shuffle_epi8(
        _mm_cvtsi32_si128(pair), _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0));
    return _mm256_mullo_epi32(s, _mm256_cvtepi8_epi32(spread));
  }
  // Lane s of the result = the total of s[s]'s 8 lanes (exact: integer adds).
  static __m256i reduce8(const Sums* s) {
    const __m256i s01 = _mm256_hadd_epi32(s[0], s[1]), s23 = _mm256_hadd_epi32(s[2], s[3]);
    const __m256i s45 = _mm256_hadd_epi32(s[4], s[5]), s67 = _mm256_hadd_epi32(s[6], s[7]);
    // Per 128-bit half: [s0, s1, s2, s3] over that half's lanes, likewise for 4-7.
    const __m256i s0123 = _mm256_hadd_epi32(s01, s23), s4567 = _mm256_hadd_epi32(s45, s67);
    return _mm256_add_epi32(_mm256_permute2x128_si256(s0123, s4567, 0x20),
                            _mm256_permute2x128_si256(s0123, s4567, 0x31));
  }
  static F8 zero() { return _mm256_setzero_ps(); }
  static F8 set1(float v) { return _mm256_set1_ps(v); }
  static F8 halves(uint64_t lo, uint64_t hi) {
    return _mm256_cvtph_ps(_mm_set_epi64x(static_cast<int64_t>(hi), static_cast<int64_t>(lo)));
  }
  static F8 bytes_u8(uint64_t b) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(b))));
  }
  static F8 load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F8 a) { _mm256_storeu_ps(p, a); }
  static F8 mul(F8 a, F8 b) { return _mm256_mul_ps(a, b); }
  static F8 fma(F8 a, F8 b, F8 c) { return _mm256_fmadd_ps(a, b, c); }
  static F8 cvt(__m256i a) { return _mm256_cvtepi32_ps(a); }
  // ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)): tree8 adds in this order too.
  static float sum(F8 a) {
    const __m128 half = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    const __m128 pairs = _mm_add_ps(half, _mm_movehl_ps(half, half));
    return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs)));
  }

  // The kernels on prepared weights (prepared.h), whose lanes are 8 weight rows. kWideUnsigned:
  // Dot takes unsigned bytes up to 255 (VPDPBUSD; maddubs would saturate).
  static constexpr bool kPacked = true, kWideUnsigned = Dot::kWideUnsigned;
  static __m256i load_codes(const uint8_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static __m256i low_nibbles(__m256i v) { return _mm256_and_si256(v, _mm256_set1_epi8(0x0F)); }
  static __m256i high_nibbles(__m256i v) {
    return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F));
  }
  // Bit q of each byte as 16 or 0 (shifts of 16-bit lanes: bits that cross into the next byte
  // land outside bit 4 and are masked off).
  template <int q>
  static __m256i bit_to_16(__m256i v) {
    const __m256i bit4 = _mm256_set1_epi8(0x10);
    if constexpr (q < 4) return _mm256_and_si256(_mm256_slli_epi16(v, 4 - q), bit4);
    if constexpr (q == 4) return _mm256_and_si256(v, bit4);
    if constexpr (q > 4) return _mm256_and_si256(_mm256_srli_epi16(v, q - 4), bit4);
  }
  static __m256i and_(__m256i v, uint32_t mask) {
    return _mm256_and_si256(v, _mm256_set1_epi32(static_cast<int>(mask)));
  }
  static __m256i or_(__m256i a, __m256i b) { return _mm256_or_si256(a, b); }
  static __m256i shr(__m256i v, int bits) { return _mm256_srli_epi32(v, bits); }
  // Byte b of each 32-bit lane as a float.
  template <int b>
  static F8 byte_lanes(__m256i v) {
    const __m256i shifted = _mm256_srli_epi32(v, 8 * b);
    return _mm256_cvtepi32_ps(b == 3 ? shifted
                                     : _mm256_and_si256(shifted, _mm256_set1_epi32(0xFF)));
  }
  static F8 load_halves(const uint8_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  // acc + each lane's 4 unsigned codes times the same 4 activation codes at x4.
  static Sums dot_x4(Sums acc, __m256i codes, const int8_t* x4) {
    int32_t word;
    std::memcpy(&word, x4, 4);
    return Dot::dot(acc, codes, _mm256_set1_epi32(word));
  }
  // 128 coarse + fine - offset.
  static Sums combine(Sums coarse, Sums fine, int32_t offset) {
    return _mm256_sub_epi32(_mm256_add_epi32(_mm256_slli_epi32(coarse, 7), fine),
                            _mm256_set1_epi32(offset));
  }
  static Sums add(Sums a, Sums b) { return _mm256_add_epi32(a, b); }
  static F8 add(F8 a, F8 b) { return _mm256_add_ps(a, b); }
};

// AVX2 without VNNI: u8 x s8 pairs into int16 (no saturation: codes are at most 128 in
// magnitude and activations 127, 2 x 128 x 127 < 32768), then pairs of those into int32.
struct MaddubsDot {
  static constexpr bool kWideUnsigned = false;
  static __m256i dot(__m256i acc, __m256i u, __m256i s) {
    return _mm256_add_epi32(acc,
                            _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
  }
};

}  // namespace infer::kernels::cpu::quant

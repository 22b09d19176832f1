#pragma once
// What every GGUF block format header (q8_0.h ... q6_k.h) builds on. A format is a struct F:
//
//   kType, kBlock (values per block), kBytes (bytes per block), kSubs (32-value sub-blocks per
//   block), kSigned (codes are signed bytes and there is no minimum: q8_0, q6_k), kHalfScales
//   (an integer scale per 16 values, q6_k), kCodeBits (bits per code), kZeroCode (the code, taken
//   as unsigned with signed ones offset by 128, that stands for zero in formats without a stored
//   minimum: w = d (code - kZeroCode); 0 where a minimum is stored)
//   dequantize(block, out)       out[0, kBlock) as f32, bit for bit as the gguf package computes
//                                it (files compiled with -ffp-contract=off: no fused a*b+c)
//   finite(block)                false when a stored f16 scale or minimum is inf or NaN
//   group_scales<I>(first, n, g) the scales of sub-blocks [0, n) of the group of up to 8
//                                starting at block `first` (a GroupScales; lanes n..7 zero)
//   codes<B>(block, s)           the 32 codes of sub-block s as a byte vector of interface B
//
// The dot-product kernels (int8_dot.h) only see scales() and codes(): a new format is one header
// here, one line in formats.h, and one exporter function in tools/quants.py.
#include <cstdint>
#include <cstring>
#if defined(__F16C__) && !defined(__CUDACC__)
#include <immintrin.h>
#endif

#include "../dequantize.h"
#include "infer/base/dtype.h"

namespace infer::kernels::cpu::quant {

// Values per sub-block: the unit of the int8 activations and of every integer dot product.
constexpr int kSub = 32;

// The activations carry a second int8 code per value for what the first leaves: x = dx (q + q2 /
// 128), |q2| <= 64, about 15 bits of x per sub-block where one int8 alone gave top-1 agreement
// of 96.5% with f32 on SmolLM2 (99.5% needed). The two integer dot products combine into one,
// 128 q·w + q2·w, before anything else (VPDPBUSD accumulates the second onto the shifted first):
// the float work stays as it was. No int32 overflows: a
// sub-block sums 32 products of at most 32 x (127 x 128 + 64) (q6_k's |q - 32| <= 32 is the
// largest code), times q6_k's integer scale |sc| <= 128: 2 139 095 040 < 2^31.
constexpr int kResidualScale = 128;

// The scales of up to 8 consecutive sub-blocks of a row (one K-format block, or up to 8 blocks of
// a 32-value format), as vectors of 8 lanes of the kernels' interface I (lane s: sub-block s):
// value e of sub-block s is d[s] * q + m[s]. Built in registers, never through memory: a
// vector load of values just stored one by one stalls on store forwarding. q6_k keeps its
// integer scales per 16 values (isc, 16 int8) for the integer sums instead.
template <class I>
struct GroupScales {
  typename I::F8 d, m;
  const int8_t* isc;
};

INFER_HOST_DEVICE inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
INFER_HOST_DEVICE inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
// F16C's conversion where the file is compiled for it (the same value, without branches).
INFER_HOST_DEVICE inline float half_at(const uint8_t* p) {
#if defined(__F16C__) && !defined(__CUDACC__)
  return _cvtsh_ss(load_u16(p));
#else
  return f16_to_f32(load_u16(p));
#endif
}
// An f16 with the all-ones exponent is inf or NaN.
inline bool finite_half_at(const uint8_t* p) { return (load_u16(p) & 0x7C00) != 0x7C00; }

// The f16s at byte `offset` of blocks [0, n) of the group from `first` (`stride` bytes apart)
// packed as 8 values in two 64-bit words (zero beyond n), for I::halves.
// Whole 64-bit words in locals: partial writes to one value in memory stall the vector load.
inline void pack_halves(const uint8_t* first, int n, int stride, int offset, uint64_t& lo,
                        uint64_t& hi) {
  uint64_t l = 0, h = 0;
#pragma GCC unroll 8
  for (int s = 0; s < 8; ++s) {
    if (s >= n) break;
    const uint64_t bits = load_u16(first + s * stride + offset);
    if (s < 4) {
      l |= bits << (16 * s);
    } else {
      h |= bits << (16 * (s - 4));
    }
  }
  lo = l;
  hi = h;
}

// The f16 at byte `offset` of each of blocks [0, n) from `first` as I's 8 lanes (zero past n).
template <class I>
inline typename I::F8 block_halves(const uint8_t* first, int n, int stride, int offset) {
  uint64_t lo, hi;
  pack_halves(first, n, stride, offset, lo, hi);
  return I::halves(lo, hi);
}

// The 8 six-bit scales and the 8 minimums of a q4_k / q5_k block as bytes of two 64-bit words
// (ggml's unpacking of get_scale_min_k4 done on whole words).
inline void k4_scales_mins(const uint8_t* packed, uint64_t& scales, uint64_t& mins) {
  constexpr uint32_t k6 = 0x3F3F3F3F, k4 = 0x0F0F0F0F, k2 = 0x03030303;
  const uint32_t w0 = load_u32(packed), w1 = load_u32(packed + 4), w2 = load_u32(packed + 8);
  scales = (w0 & k6) | (uint64_t((w2 & k4) | (((w0 >> 6) & k2) << 4)) << 32);
  mins = (w1 & k6) | (uint64_t(((w2 >> 4) & k4) | (((w1 >> 6) & k2) << 4)) << 32);
}

// The 6-bit scale and minimum of sub-block j (0..7) of a q4_k / q5_k block, packed in 12 bytes
// as ggml's get_scale_min_k4.
INFER_HOST_DEVICE inline void k4_scale_min(const uint8_t* packed, int j, int& scale, int& min) {
  if (j < 4) {
    scale = packed[j] & 63;
    min = packed[j + 4] & 63;
  } else {
    scale = (packed[j + 4] & 0x0F) | ((packed[j - 4] >> 6) << 4);
    min = (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4);
  }
}

// q4_k and q5_k: sub-block s of the block at b has d * sc[s] and minimum -(dmin * mn[s]).
template <class I>
inline void k4_group_scales(const uint8_t* b, GroupScales<I>& g) {
  uint64_t scales, mins;
  k4_scales_mins(b + 4, scales, mins);
  g.d = I::mul(I::set1(half_at(b)), I::bytes_u8(scales));
  g.m = I::mul(I::set1(-half_at(b + 2)), I::bytes_u8(mins));
}

// q4_k and q5_k dequantized: the low nibbles at `qs` (sub-blocks 2 c and 2 c + 1 in the low and
// high nibbles of bytes 32 c ...), the fifth bits at `qh` (bit s of byte i), or none.
INFER_HOST_DEVICE inline void k4_dequantize(const uint8_t* b, const uint8_t* qs, const uint8_t* qh,
                                            float* out) {
  const float d = half_at(b), dmin = half_at(b + 2);
  for (int s = 0; s < 8; ++s) {
    int sc, mn;
    k4_scale_min(b + 4, s, sc, mn);
    const float scale = d * static_cast<float>(sc), min = dmin * static_cast<float>(mn);
    const uint8_t* q = qs + 32 * (s / 2);
    const int shift = 4 * (s % 2);
    for (int i = 0; i < 32; ++i) {
      const int code = ((q[i] >> shift) & 0x0F) | (qh ? ((qh[i] >> s) & 1) << 4 : 0);
      out[32 * s + i] = scale * static_cast<float>(code) - min;
    }
  }
}

}  // namespace infer::kernels::cpu::quant

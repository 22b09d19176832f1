#pragma once
// q5_k: as q4_k with a fifth bit per value: f16 d and dmin, 12 bytes of 6-bit scales and
// minimums, 32 bytes whose bit s of byte i is the fifth bit of value i of sub-block s, then the
// 128 bytes of low nibbles laid out as q4_k's: w = (d * sc) * q - (dmin * mn).
#include "block_common.h"

namespace infer::kernels::cpu::quant {

struct Q5_K {
  static constexpr base::DataType kType = base::DataType::kQ5_K;
  static constexpr int kBlock = 256, kBytes = 176, kSubs = 8;
  static constexpr bool kSigned = false, kHalfScales = false;

  static void dequantize(const uint8_t* b, float* out) {
    const float d = half_at(b), dmin = half_at(b + 2);
    const uint8_t* qh = b + 16;
    const uint8_t* qs = b + 48;
    for (int s = 0; s < 8; ++s) {
      int sc, mn;
      k4_scale_min(b + 4, s, sc, mn);
      const float scale = d * static_cast<float>(sc), min = dmin * static_cast<float>(mn);
      const uint8_t* q = qs + 32 * (s / 2);
      const int shift = 4 * (s % 2);
      for (int i = 0; i < 32; ++i) {
        const int code = ((q[i] >> shift) & 0x0F) | (((qh[i] >> s) & 1) << 4);
        out[32 * s + i] = scale * static_cast<float>(code) - min;
      }
    }
  }
  static bool finite(const uint8_t* b) { return finite_half_at(b) && finite_half_at(b + 2); }
  template <class I>
  static void group_scales(const uint8_t* b, int, GroupScales<I>& g) {
    uint64_t scales, mins;
    k4_scales_mins(b + 4, scales, mins);
    g.d = I::mul(I::set1(half_at(b)), I::bytes_u8(scales));
    g.m = I::mul(I::set1(-half_at(b + 2)), I::bytes_u8(mins));
  }
  template <class B>
  static typename B::V codes(const uint8_t* b, int s) {
    const uint8_t* q = b + 48 + 32 * (s / 2);
    const typename B::V low = s % 2 == 0 ? B::low_nibbles32(q) : B::high_nibbles32(q);
    return B::or_(low, B::shl4(B::bit_plane32(b + 16, s)));
  }
};

}  // namespace infer::kernels::cpu::quant

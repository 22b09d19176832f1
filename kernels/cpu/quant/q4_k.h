#pragma once
// q4_k: super-blocks of 256 values in 8 sub-blocks of 32: f16 d and dmin, 12 bytes packing a
// 6-bit scale sc and minimum mn per sub-block, then 128 bytes of 4-bit codes (bytes 32 c ..
// 32 c + 31 hold sub-block 2 c in their low nibbles and 2 c + 1 in their high ones):
// w = (d * sc) * q - (dmin * mn).
#include "block_common.h"

namespace infer::kernels::cpu::quant {

struct Q4_K {
  static constexpr base::DataType kType = base::DataType::kQ4_K;
  static constexpr int kBlock = 256, kBytes = 144, kSubs = 8;
  static constexpr bool kSigned = false, kHalfScales = false;

  static void dequantize(const uint8_t* b, float* out) {
    const float d = half_at(b), dmin = half_at(b + 2);
    const uint8_t* qs = b + 16;
    for (int s = 0; s < 8; ++s) {
      int sc, mn;
      k4_scale_min(b + 4, s, sc, mn);
      const float scale = d * static_cast<float>(sc), min = dmin * static_cast<float>(mn);
      const uint8_t* q = qs + 32 * (s / 2);
      const int shift = 4 * (s % 2);
      for (int i = 0; i < 32; ++i)
        out[32 * s + i] = scale * static_cast<float>((q[i] >> shift) & 0x0F) - min;
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
    const uint8_t* q = b + 16 + 32 * (s / 2);
    return s % 2 == 0 ? B::low_nibbles32(q) : B::high_nibbles32(q);
  }
};

}  // namespace infer::kernels::cpu::quant

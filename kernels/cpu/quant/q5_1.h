#pragma once
// q5_1: blocks of 32 values, f16 scale d and minimum m, the fifth bits and low nibbles as in
// q5_0: w = d * q + m.
#include "block_common.h"

namespace infer::kernels::cpu::quant {

struct Q5_1 {
  static constexpr base::DataType kType = base::DataType::kQ5_1;
  static constexpr int kBlock = 32, kBytes = 24, kSubs = 1;
  static constexpr bool kSigned = false, kHalfScales = false;
  static constexpr int kCodeBits = 5, kZeroCode = 0;

  INFER_HOST_DEVICE static void dequantize(const uint8_t* b, float* out) {
    const float d = half_at(b), m = half_at(b + 2);
    const uint32_t high = load_u32(b + 4);
    for (int i = 0; i < 16; ++i) {
      const int lo = (b[8 + i] & 0x0F) | (((high >> i) & 1) << 4);
      const int hi = (b[8 + i] >> 4) | (((high >> (i + 16)) & 1) << 4);
      out[i] = d * static_cast<float>(lo) + m;
      out[i + 16] = d * static_cast<float>(hi) + m;
    }
  }
  static bool finite(const uint8_t* b) { return finite_half_at(b) && finite_half_at(b + 2); }
  template <class I>
  static void group_scales(const uint8_t* first, int n, GroupScales<I>& g) {
    g.d = block_halves<I>(first, n, kBytes, 0);
    g.m = block_halves<I>(first, n, kBytes, 2);
  }
  template <class B>
  static typename B::V codes(const uint8_t* b, int) {
    return B::or_(B::nibbles16(b + 8), B::shl4(B::bits32(b + 4)));
  }
};

}  // namespace infer::kernels::cpu::quant

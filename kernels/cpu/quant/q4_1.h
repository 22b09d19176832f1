#pragma once
// q4_1: blocks of 32 values, f16 scale d and minimum m, then 16 bytes of 4-bit codes (as q4_0):
// w = d * q + m.
#include "block_common.h"

namespace infer::kernels::cpu::quant {

struct Q4_1 {
  static constexpr base::DataType kType = base::DataType::kQ4_1;
  static constexpr int kBlock = 32, kBytes = 20, kSubs = 1;
  static constexpr bool kSigned = false, kHalfScales = false;
  static constexpr int kCodeBits = 4, kZeroCode = 0;

  INFER_HOST_DEVICE static void dequantize(const uint8_t* b, float* out) {
    const float d = half_at(b), m = half_at(b + 2);
    for (int i = 0; i < 16; ++i) {
      out[i] = d * static_cast<float>(b[4 + i] & 0x0F) + m;
      out[i + 16] = d * static_cast<float>(b[4 + i] >> 4) + m;
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
    return B::nibbles16(b + 4);
  }
};

}  // namespace infer::kernels::cpu::quant

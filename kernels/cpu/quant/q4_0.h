#pragma once
// q4_0: blocks of 32 values, an f16 scale d then 16 bytes of 4-bit codes (values 0-15 in the low
// nibbles, 16-31 in the high ones): w = d * (q - 8).
#include "block_common.h"

namespace infer::kernels::cpu::quant {

struct Q4_0 {
  static constexpr base::DataType kType = base::DataType::kQ4_0;
  static constexpr int kBlock = 32, kBytes = 18, kSubs = 1;
  static constexpr bool kSigned = false, kHalfScales = false;
  static constexpr int kCodeBits = 4, kZeroCode = 8;

  INFER_HOST_DEVICE static void dequantize(const uint8_t* b, float* out) {
    const float d = half_at(b);
    for (int i = 0; i < 16; ++i) {
      out[i] = d * static_cast<float>((b[2 + i] & 0x0F) - 8);
      out[i + 16] = d * static_cast<float>((b[2 + i] >> 4) - 8);
    }
  }
  static bool finite(const uint8_t* b) { return finite_half_at(b); }
  template <class I>
  static void group_scales(const uint8_t* first, int n, GroupScales<I>& g) {
    g.d = block_halves<I>(first, n, kBytes, 0);
    g.m = I::mul(g.d, I::set1(-8.0f));
  }
  template <class B>
  static typename B::V codes(const uint8_t* b, int) {
    return B::nibbles16(b + 2);
  }
};

}  // namespace infer::kernels::cpu::quant

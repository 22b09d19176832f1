#pragma once
// q5_0: blocks of 32 values, an f16 scale d, 4 bytes holding the fifth bit of each value (bit i
// for value i), then the low 4 bits as in q4_0: w = d * (q - 16).
#include "block_common.h"

namespace infer::kernels::cpu::quant {

struct Q5_0 {
  static constexpr base::DataType kType = base::DataType::kQ5_0;
  static constexpr int kBlock = 32, kBytes = 22, kSubs = 1;
  static constexpr bool kSigned = false, kHalfScales = false;
  static constexpr int kCodeBits = 5, kZeroCode = 16;

  INFER_HOST_DEVICE static void dequantize(const uint8_t* b, float* out) {
    const float d = half_at(b);
    const uint32_t high = load_u32(b + 2);
    for (int i = 0; i < 16; ++i) {
      const int lo = (b[6 + i] & 0x0F) | (((high >> i) & 1) << 4);
      const int hi = (b[6 + i] >> 4) | (((high >> (i + 16)) & 1) << 4);
      out[i] = d * static_cast<float>(lo - 16);
      out[i + 16] = d * static_cast<float>(hi - 16);
    }
  }
  static bool finite(const uint8_t* b) { return finite_half_at(b); }
  template <class I>
  static void group_scales(const uint8_t* first, int n, GroupScales<I>& g) {
    g.d = block_halves<I>(first, n, kBytes, 0);
    g.m = I::mul(g.d, I::set1(-16.0f));
  }
  template <class B>
  static typename B::V codes(const uint8_t* b, int) {
    return B::or_(B::nibbles16(b + 6), B::shl4(B::bits32(b + 2)));
  }
};

}  // namespace infer::kernels::cpu::quant

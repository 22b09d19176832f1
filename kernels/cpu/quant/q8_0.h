#pragma once
// q8_0: blocks of 32 values, an f16 scale d then 32 int8 codes q: w = d * q.
#include "block_common.h"

namespace infer::kernels::cpu::quant {

struct Q8_0 {
  static constexpr base::DataType kType = base::DataType::kQ8_0;
  static constexpr int kBlock = 32, kBytes = 34, kSubs = 1;
  static constexpr bool kSigned = true, kHalfScales = false;
  static constexpr int kCodeBits = 8, kZeroCode = 128;

  INFER_HOST_DEVICE static void dequantize(const uint8_t* b, float* out) {
    const float d = half_at(b);
    for (int i = 0; i < 32; ++i) out[i] = static_cast<float>(static_cast<int8_t>(b[2 + i])) * d;
  }
  static bool finite(const uint8_t* b) { return finite_half_at(b); }
  template <class I>
  static void group_scales(const uint8_t* first, int n, GroupScales<I>& g) {
    g.d = block_halves<I>(first, n, kBytes, 0);
  }
  template <class B>
  static typename B::V codes(const uint8_t* b, int) {
    return B::load32(b + 2);
  }
};

}  // namespace infer::kernels::cpu::quant

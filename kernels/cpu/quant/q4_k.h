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
  static constexpr int kCodeBits = 4, kZeroCode = 0;

  INFER_HOST_DEVICE static void dequantize(const uint8_t* b, float* out) {
    k4_dequantize(b, b + 16, nullptr, out);
  }
  static bool finite(const uint8_t* b) { return finite_half_at(b) && finite_half_at(b + 2); }
  template <class I>
  static void group_scales(const uint8_t* b, int, GroupScales<I>& g) {
    k4_group_scales<I>(b, g);
  }
  template <class B>
  static typename B::V codes(const uint8_t* b, int s) {
    const uint8_t* q = b + 16 + 32 * (s / 2);
    return s % 2 == 0 ? B::low_nibbles32(q) : B::high_nibbles32(q);
  }
};

}  // namespace infer::kernels::cpu::quant

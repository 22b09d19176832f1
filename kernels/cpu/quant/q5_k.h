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
  static constexpr int kCodeBits = 5, kZeroCode = 0;

  INFER_HOST_DEVICE static void dequantize(const uint8_t* b, float* out) {
    k4_dequantize(b, b + 48, b + 16, out);
  }
  static bool finite(const uint8_t* b) { return finite_half_at(b) && finite_half_at(b + 2); }
  template <class I>
  static void group_scales(const uint8_t* b, int, GroupScales<I>& g) {
    k4_group_scales<I>(b, g);
  }
  template <class B>
  static typename B::V codes(const uint8_t* b, int s) {
    const uint8_t* q = b + 48 + 32 * (s / 2);
    const typename B::V low = s % 2 == 0 ? B::low_nibbles32(q) : B::high_nibbles32(q);
    return B::or_(low, B::shl4(B::bit_plane32(b + 16, s)));
  }
};

}  // namespace infer::kernels::cpu::quant

#pragma once
// q6_k: super-blocks of 256 values: 128 bytes of low nibbles, 64 bytes of high 2-bit pairs, 16
// int8 scales (one per 16 values), then an f16 d: w = (d * sc) * (q - 32). In each half h of 128
// values, value 32 t + i (t = 0..3) takes its low bits from ql[64 h + i + 32 (t % 2)] (low
// nibble for t < 2, high for t >= 2) and its high bits from bits 2 t of qh[32 h + i].
#include "block_common.h"

namespace infer::kernels::cpu::quant {

struct Q6_K {
  static constexpr base::DataType kType = base::DataType::kQ6_K;
  static constexpr int kBlock = 256, kBytes = 210, kSubs = 8;
  // Codes are handed to the kernels as the signed q - 32.
  static constexpr bool kSigned = true, kHalfScales = true;
  static constexpr int kCodeBits = 6, kZeroCode = 128;

  INFER_HOST_DEVICE static int code(const uint8_t* b, int s, int i) {
    const int h = s / 4, t = s % 4;
    const uint8_t low = b[64 * h + i + 32 * (t % 2)];
    const int nibble = t < 2 ? (low & 0x0F) : (low >> 4);
    return nibble | (((b[128 + 32 * h + i] >> (2 * t)) & 3) << 4);
  }
  INFER_HOST_DEVICE static void dequantize(const uint8_t* b, float* out) {
    const float d = half_at(b + 208);
    const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
    for (int s = 0; s < 8; ++s) {
      for (int i = 0; i < 32; ++i) {
        const float scale = d * static_cast<float>(sc[(32 * s + i) / 16]);
        out[32 * s + i] = scale * static_cast<float>(code(b, s, i) - 32);
      }
    }
  }
  static bool finite(const uint8_t* b) { return finite_half_at(b + 208); }
  template <class I>
  static void group_scales(const uint8_t* b, int, GroupScales<I>& g) {
    g.d = I::set1(half_at(b + 208));
    g.isc = reinterpret_cast<const int8_t*>(b + 192);
  }
  template <class B>
  static typename B::V codes(const uint8_t* b, int s) {
    const int h = s / 4, t = s % 4;
    const uint8_t* ql = b + 64 * h + 32 * (t % 2);
    const typename B::V low = t < 2 ? B::low_nibbles32(ql) : B::high_nibbles32(ql);
    return B::minus32(B::or_(low, B::shl4(B::two_bits32(b + 128 + 32 * h, 2 * t))));
  }
};

}  // namespace infer::kernels::cpu::quant

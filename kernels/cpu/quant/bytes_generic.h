#pragma once
// The byte-vector and integer-dot interfaces of int8_dot.h in portable C++: 32 bytes in an
// array, sums per half (values 0-15, 16-31) in plain ints.
#include <cstdint>
#include <cstring>

#include "block_common.h"

#include "../dequantize.h"

namespace infer::kernels::cpu::quant {

struct GenericBytes {
  struct V {
    uint8_t b[32];
  };
  static V zero() { return V{}; }
  static V load32(const uint8_t* p) {
    V v;
    std::memcpy(v.b, p, 32);
    return v;
  }
  static V nibbles16(const uint8_t* p) {
    V v;
    for (int i = 0; i < 16; ++i) {
      v.b[i] = p[i] & 0x0F;
      v.b[i + 16] = p[i] >> 4;
    }
    return v;
  }
  static V low_nibbles32(const uint8_t* p) {
    V v;
    for (int i = 0; i < 32; ++i) v.b[i] = p[i] & 0x0F;
    return v;
  }
  static V high_nibbles32(const uint8_t* p) {
    V v;
    for (int i = 0; i < 32; ++i) v.b[i] = p[i] >> 4;
    return v;
  }
  static V bits32(const uint8_t* p) {
    uint32_t bits;
    std::memcpy(&bits, p, 4);
    V v;
    for (int i = 0; i < 32; ++i) v.b[i] = (bits >> i) & 1;
    return v;
  }
  static V bit_plane32(const uint8_t* p, int s) {
    V v;
    for (int i = 0; i < 32; ++i) v.b[i] = (p[i] >> s) & 1;
    return v;
  }
  static V two_bits32(const uint8_t* p, int s) {
    V v;
    for (int i = 0; i < 32; ++i) v.b[i] = (p[i] >> s) & 3;
    return v;
  }
  static V or_(V a, const V& b) {
    for (int i = 0; i < 32; ++i) a.b[i] |= b.b[i];
    return a;
  }
  static V minus32(V a) {
    for (int i = 0; i < 32; ++i) a.b[i] = static_cast<uint8_t>(a.b[i] - 32);
    return a;
  }
  static V shl4(V a) {
    for (int i = 0; i < 32; ++i) a.b[i] = static_cast<uint8_t>(a.b[i] << 4);
    return a;
  }
};

struct GenericDot {
  struct Sums {
    int32_t lo, hi;  // values 0-15, 16-31
  };
  struct Ints {
    int32_t v[8];
  };
  struct F8 {
    float v[8];
  };
  static constexpr int kTileRows = 2, kTileCols = 2;
  static constexpr bool kPacked = false, kWideUnsigned = false;
  static Sums zero_sums() { return {0, 0}; }
  // 128 q·xq + q·xr per half, q unsigned (dot2_u) or signed (dot2_s).
  template <class Code>
  static Sums dot2(const GenericBytes::V& q, const int8_t* xq, const int8_t* xr) {
    Sums s{0, 0};
    for (int i = 0; i < 32; ++i) {
      const int32_t v = static_cast<Code>(q.b[i]) * (kResidualScale * xq[i] + xr[i]);
      (i < 16 ? s.lo : s.hi) += v;
    }
    return s;
  }
  static Sums dot2_u(const GenericBytes::V& q, const int8_t* xq, const int8_t* xr) {
    return dot2<uint8_t>(q, xq, xr);
  }
  static Sums dot2_s(const GenericBytes::V& q, const int8_t* xq, const int8_t* xr) {
    return dot2<int8_t>(q, xq, xr);
  }
  static Sums scale_pairs(Sums s, const int8_t* sc) { return {s.lo * sc[0], s.hi * sc[1]}; }
  static Ints reduce8(const Sums* s) {
    Ints r;
    for (int i = 0; i < 8; ++i) r.v[i] = s[i].lo + s[i].hi;
    return r;
  }
  static F8 zero() { return F8{}; }
  static F8 set1(float v) {
    F8 r;
    for (float& x : r.v) x = v;
    return r;
  }
  static F8 halves(uint64_t lo, uint64_t hi) {
    F8 r;
    for (int i = 0; i < 8; ++i)
      r.v[i] = f16_to_f32(static_cast<uint16_t>((i < 4 ? lo : hi) >> (16 * (i % 4))));
    return r;
  }
  static F8 bytes_u8(uint64_t b) {
    F8 r;
    for (int i = 0; i < 8; ++i) r.v[i] = static_cast<float>((b >> (8 * i)) & 0xFF);
    return r;
  }
  static F8 load(const float* p) {
    F8 r;
    for (int i = 0; i < 8; ++i) r.v[i] = p[i];
    return r;
  }
  static F8 mul(const F8& a, const F8& b) {
    F8 r;
    for (int i = 0; i < 8; ++i) r.v[i] = a.v[i] * b.v[i];
    return r;
  }
  static F8 fma(const F8& a, const F8& b, const F8& c) {
    F8 r;
    for (int i = 0; i < 8; ++i) r.v[i] = a.v[i] * b.v[i] + c.v[i];
    return r;
  }
  static F8 cvt(const Ints& a) {
    F8 r;
    for (int i = 0; i < 8; ++i) r.v[i] = static_cast<float>(a.v[i]);
    return r;
  }
  static float sum(const F8& a) {
    float s = 0;
    for (int i = 0; i < 8; ++i) s += a.v[i];
    return s;
  }
};

}  // namespace infer::kernels::cpu::quant

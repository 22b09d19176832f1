#pragma once
// Block weights rearranged once, at load, so that the 8 lanes of a vector are 8 weight rows: an
// integer dot product of 4 of each row's codes with a broadcast of 4 activation codes then sums
// straight into the 8 rows (VPDPBUSD), with no horizontal reduction and no unpacking of scales
// per row. Where the file's layout costs some 15 instructions per 32 values of a row, this one
// costs about 6, and it holds exactly the file's bytes, so decode reads no more than the file.
//
// Every 8 whole rows of a weight (the last n mod 8 stay as stored, at the same offsets) become,
// per sub-block of 32 values, in order:
//   codes    4-bit formats: 4 vectors of 32 bytes; in vector p, dword j holds codes 4p..4p+3 of
//            row j in its low nibbles and codes 16+4p..16+4p+3 in its high ones.
//            5-bit formats: the same, then 32 bytes whose dword j has, in bit q of byte i, the
//            fifth bit of code 4q+i of row j. 8-bit (q8_0): 8 vectors, dword j of vector q =
//            codes 4q..4q+3 of row j plus 128 (as unsigned bytes).
//   scales   32-value formats: the 8 rows' f16 d, then their f16 minimums where the format
//            stores them.
// and K formats (q4_k, q5_k) put before each block of 8 sub-blocks the 8 rows' f16 d, their f16
// dmin, and the three 32-bit words of their packed 6-bit scales and minimums, word w of all rows
// together. q6_k (integer scales per 16 values) has no prepared layout.
//
// A row's result is the same float operations in the same order whatever the number of rows of
// x in the call, so a batch's rows equal the rows alone bit for bit (batch invariance).
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "bytes_generic.h"
#include "int8_dot.h"

namespace infer::kernels::cpu::quant {

template <class F>
struct PreparedLayout {
  static constexpr bool kExists = !F::kHalfScales;
  static constexpr bool kSuperBlocks = F::kSubs == 8;   // q4_k, q5_k: a header per 256 values
  static constexpr bool kMinimum = F::kZeroCode == 0;   // a minimum per sub-block
  static constexpr int kCodeBytes = 32 * F::kCodeBits;  // 8 rows of 32 codes
  static constexpr int kScaleBytes = kSuperBlocks ? 0 : (kMinimum ? 32 : 16);
  static constexpr int kSubBytes = kCodeBytes + kScaleBytes;
  static constexpr int kHeaderBytes = kSuperBlocks ? 128 : 0;
};

// 8 rows of a weight at `rows`, `row_bytes` apart, into `out` (as many bytes).
template <class F>
void prepare_block(const uint8_t* rows, int64_t row_bytes, uint8_t* out) {
  using L = PreparedLayout<F>;
  static_assert(!L::kExists || L::kHeaderBytes + F::kSubs * L::kSubBytes == 8 * F::kBytes,
                "the prepared layout holds exactly the file's bytes");
  const int64_t per_row = row_bytes / F::kBytes;
  uint8_t* o = out;
  for (int64_t blk = 0; blk < per_row; ++blk) {
    const auto block = [&](int j) { return rows + j * row_bytes + blk * F::kBytes; };
    if constexpr (L::kSuperBlocks) {
      for (int j = 0; j < 8; ++j) {
        std::memcpy(o + 2 * j, block(j), 2);
        std::memcpy(o + 16 + 2 * j, block(j) + 2, 2);
        for (int word = 0; word < 3; ++word)
          std::memcpy(o + 32 + 32 * word + 4 * j, block(j) + 4 + 4 * word, 4);
      }
      o += L::kHeaderBytes;
    }
    for (int s = 0; s < F::kSubs; ++s) {
      uint8_t c[8][32];
      for (int j = 0; j < 8; ++j) {
        const GenericBytes::V v = F::template codes<GenericBytes>(block(j), s);
        for (int e = 0; e < 32; ++e) c[j][e] = F::kSigned ? v.b[e] ^ 0x80 : v.b[e];
      }
      for (int j = 0; j < 8; ++j) {
        for (int i = 0; i < 4; ++i) {
          if constexpr (F::kCodeBits == 8) {
            for (int q = 0; q < 8; ++q) o[32 * q + 4 * j + i] = c[j][4 * q + i];
          } else {
            for (int p = 0; p < 4; ++p)
              o[32 * p + 4 * j + i] =
                  static_cast<uint8_t>((c[j][4 * p + i] & 15) | (c[j][16 + 4 * p + i] & 15) << 4);
            if constexpr (F::kCodeBits == 5) {
              uint8_t fifth = 0;
              for (int q = 0; q < 8; ++q) fifth |= ((c[j][4 * q + i] >> 4) & 1) << q;
              o[128 + 4 * j + i] = fifth;
            }
          }
        }
        if constexpr (!L::kSuperBlocks) {
          std::memcpy(o + L::kCodeBytes + 2 * j, block(j), 2);
          if constexpr (L::kMinimum) std::memcpy(o + L::kCodeBytes + 16 + 2 * j, block(j) + 2, 2);
        }
      }
      o += L::kSubBytes;
    }
  }
}

// Row r (of the rows in whole blocks of 8) of a prepared weight of k values per row as f32, bit
// for bit F::dequantize's values (compiled without fused multiply-adds, as that is): the
// embedding rows of a table whose prepared copy serves the output head.
template <class F>
void dequantize_prepared_row(const uint8_t* prepared, int64_t row_bytes, int64_t r, int64_t k,
                             float* out) {
  using L = PreparedLayout<F>;
  const uint8_t* p = prepared + r / 8 * 8 * row_bytes;
  const int j = static_cast<int>(r % 8);
  uint8_t packed[12];  // K formats: the row's 6-bit scales and minimums as in its file block
  float d = 0, dmin = 0;
  for (int64_t t = 0; t < k / kSub; ++t, out += kSub) {
    float scale, minimum = 0;  // value = scale * code + minimum
    if constexpr (L::kSuperBlocks) {
      if (t % 8 == 0) {
        d = half_at(p + 2 * j);
        dmin = half_at(p + 16 + 2 * j);
        for (int word = 0; word < 3; ++word)
          std::memcpy(packed + 4 * word, p + 32 + 32 * word + 4 * j, 4);
        p += L::kHeaderBytes;
      }
      int sc, mn;
      k4_scale_min(packed, static_cast<int>(t % 8), sc, mn);
      scale = d * static_cast<float>(sc);
      minimum = dmin * static_cast<float>(mn);
    } else {
      scale = half_at(p + L::kCodeBytes + 2 * j);
      if constexpr (L::kMinimum) minimum = half_at(p + L::kCodeBytes + 16 + 2 * j);
    }
    for (int e = 0; e < kSub; ++e) {
      const int i = e % 4;
      int code;
      if constexpr (F::kCodeBits == 8) {
        code = p[32 * (e / 4) + 4 * j + i];
      } else {
        const uint8_t both = p[32 * (e % 16 / 4) + 4 * j + i];
        code = e < 16 ? both & 15 : both >> 4;
        if constexpr (F::kCodeBits == 5) code |= ((p[128 + 4 * j + i] >> (e / 4)) & 1) << 4;
      }
      // Each format's own expression: d (q - zero), d q + m, or (d sc) q - dmin mn.
      if constexpr (L::kSuperBlocks) {
        out[e] = scale * static_cast<float>(code) - minimum;
      } else if constexpr (L::kMinimum) {
        out[e] = scale * static_cast<float>(code) + minimum;
      } else {
        out[e] = scale * static_cast<float>(code - F::kZeroCode);
      }
    }
    p += L::kSubBytes;
  }
}

// The scales of a K block's 8 sub-blocks for 8 rows, from its header: lane j of scale(s) is row
// j's d * sc[s], of minimum(s) its -(dmin * mn[s]) (ggml's get_scale_min_k4 on vectors).
template <class I>
struct SuperBlockScales {
  typename I::F8 d, neg_dmin;
  typename I::Sums sc_lo, sc_hi, mn_lo, mn_hi;  // bytes s % 4 of sub-blocks 0-3 and 4-7

  INFER_INLINE explicit SuperBlockScales(const uint8_t* h) {
    d = I::load_halves(h);
    neg_dmin = I::mul(I::load_halves(h + 16), I::set1(-1.0f));
    const auto w0 = I::load_codes(h + 32), w1 = I::load_codes(h + 64), w2 = I::load_codes(h + 96);
    sc_lo = I::and_(w0, 0x3F3F3F3F);
    mn_lo = I::and_(w1, 0x3F3F3F3F);
    sc_hi = I::or_(I::and_(w2, 0x0F0F0F0F), I::and_(I::shr(w0, 2), 0x30303030));
    mn_hi = I::or_(I::and_(I::shr(w2, 4), 0x0F0F0F0F), I::and_(I::shr(w1, 2), 0x30303030));
  }
  template <int s>
  INFER_INLINE typename I::F8 scale() const {
    return I::mul(d, I::template byte_lanes<s % 4>(s < 4 ? sc_lo : sc_hi));
  }
  template <int s>
  INFER_INLINE typename I::F8 minimum() const {
    return I::mul(neg_dmin, I::template byte_lanes<s % 4>(s < 4 ? mn_lo : mn_hi));
  }
};

// The 8 code vectors of one prepared sub-block (dword j of codes[q]: codes 4q..4q+3 of row j).
template <class F, class I>
INFER_INLINE void prepared_codes(const uint8_t* p, typename I::Sums* codes) {
  if constexpr (F::kCodeBits == 8) {
#pragma GCC unroll 8
    for (int q = 0; q < 8; ++q) codes[q] = I::load_codes(p + 32 * q);
  } else {
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      const auto both = I::load_codes(p + 32 * q);
      codes[q] = I::low_nibbles(both);
      codes[q + 4] = I::high_nibbles(both);
    }
    if constexpr (F::kCodeBits == 5) {
      const auto fifth = I::load_codes(p + 128);
      codes[0] = I::or_(codes[0], I::template bit_to_16<0>(fifth));
      codes[1] = I::or_(codes[1], I::template bit_to_16<1>(fifth));
      codes[2] = I::or_(codes[2], I::template bit_to_16<2>(fifth));
      codes[3] = I::or_(codes[3], I::template bit_to_16<3>(fifth));
      codes[4] = I::or_(codes[4], I::template bit_to_16<4>(fifth));
      codes[5] = I::or_(codes[5], I::template bit_to_16<5>(fifth));
      codes[6] = I::or_(codes[6], I::template bit_to_16<6>(fifth));
      codes[7] = I::or_(codes[7], I::template bit_to_16<7>(fifth));
    }
  }
}

// out[(x0 + i) * ldo + j] for rows i < Mr of x and the 8 prepared weight rows at p (`subs`
// sub-blocks each). Per (x row, sub-block t), for all 8 rows at once: the integer sums of
// 128 q·xq + q·xr less kZeroCode Σ(128 xq + xr), then acc = fma(sums, d dx, acc) and, with
// minimums, acc = fma(m, dx Σ(128 xq + xr), acc); even and odd sub-blocks in two accumulators,
// added at the end.
template <class F, class I, int Mr>
INFER_INLINE void prepared_tile(const uint8_t* p, int64_t subs, const QuantizedRows& x, int64_t x0,
                                float* out, int64_t ldo) {
  using L = PreparedLayout<F>;
  using Sums = typename I::Sums;
  using F8 = typename I::F8;
  F8 acc[Mr][2];
  for (int i = 0; i < Mr; ++i) acc[i][0] = acc[i][1] = I::zero();
  // Sub-block t with scales d and minimums m (lanes: rows), into accumulator a.
  const auto sub = [&](int64_t t, int a, const uint8_t* at, F8 d, F8 m) {
    __builtin_prefetch(at + 4096);
    __builtin_prefetch(at + 4096 + 64);
    __builtin_prefetch(at + 4096 + 128);
    Sums codes[8];
    prepared_codes<F, I>(at, codes);
#pragma GCC unroll 4
    for (int i = 0; i < Mr; ++i) {
      const int8_t* xq = x.codes(x0 + i) + t * kSub;
      const int8_t* xr = x.residual_codes(x0 + i) + t * kSub;
      // One row of x: two chains each for the coarse and fine sums, so that the integer
      // latency does not bound the sub-block (the sums are exact in any order).
      Sums coarse[2] = {I::zero_sums(), I::zero_sums()}, fine[2] = {I::zero_sums(), I::zero_sums()};
#pragma GCC unroll 8
      for (int q = 0; q < 8; ++q) {
        const int c = Mr == 1 ? q & 1 : 0;
        coarse[c] = I::dot_x4(coarse[c], codes[q], xq + 4 * q);
        fine[c] = I::dot_x4(fine[c], codes[q], xr + 4 * q);
      }
      const int32_t offset = F::kZeroCode * x.code_sums(x0 + i)[t];
      const Sums sums = I::combine(I::add(coarse[0], coarse[1]), I::add(fine[0], fine[1]), offset);
      const float* dx = x.scales(x0 + i);
      acc[i][a] = I::fma(I::cvt(sums), I::mul(d, I::set1(dx[t])), acc[i][a]);
      if constexpr (L::kMinimum) acc[i][a] = I::fma(m, I::set1(dx[x.subs + t]), acc[i][a]);
    }
  };
  if constexpr (L::kSuperBlocks) {
    for (int64_t t = 0; t < subs; t += 8) {
      const SuperBlockScales<I> k(p);
      p += L::kHeaderBytes;
      sub(t + 0, 0, p + 0 * L::kSubBytes, k.template scale<0>(), k.template minimum<0>());
      sub(t + 1, 1, p + 1 * L::kSubBytes, k.template scale<1>(), k.template minimum<1>());
      sub(t + 2, 0, p + 2 * L::kSubBytes, k.template scale<2>(), k.template minimum<2>());
      sub(t + 3, 1, p + 3 * L::kSubBytes, k.template scale<3>(), k.template minimum<3>());
      sub(t + 4, 0, p + 4 * L::kSubBytes, k.template scale<4>(), k.template minimum<4>());
      sub(t + 5, 1, p + 5 * L::kSubBytes, k.template scale<5>(), k.template minimum<5>());
      sub(t + 6, 0, p + 6 * L::kSubBytes, k.template scale<6>(), k.template minimum<6>());
      sub(t + 7, 1, p + 7 * L::kSubBytes, k.template scale<7>(), k.template minimum<7>());
      p += 8 * L::kSubBytes;
    }
  } else {
    const auto scales = [&](const uint8_t* at) { return I::load_halves(at + L::kCodeBytes); };
    const auto minimums = [&](const uint8_t* at) {
      return L::kMinimum ? I::load_halves(at + L::kCodeBytes + 16) : I::zero();
    };
    int64_t t = 0;
    for (; t + 2 <= subs; t += 2, p += 2 * L::kSubBytes) {
      sub(t, 0, p, scales(p), minimums(p));
      const uint8_t* next = p + L::kSubBytes;
      sub(t + 1, 1, next, scales(next), minimums(next));
    }
    if (t < subs) sub(t, 0, p, scales(p), minimums(p));
  }
  for (int i = 0; i < Mr; ++i) I::store(out + (x0 + i) * ldo, I::add(acc[i][0], acc[i][1]));
}

// PreparedRowsFn for format F: weight rows [begin, end), whole blocks of 8, for all m rows of x;
// four rows of x per tile, so that each sub-block's codes are unpacked once for four.
template <class F, class I>
void prepared_rows(const uint8_t* prepared, int64_t row_bytes, const QuantizedRows& x, int64_t m,
                   float* out, int64_t ldo, int64_t begin, int64_t end) {
  const int64_t subs = x.k / kSub;
  for (int64_t r = begin; r < end; r += 8) {
    const uint8_t* block = prepared + r * row_bytes;
    int64_t i = 0;
    for (; i + 4 <= m; i += 4) prepared_tile<F, I, 4>(block, subs, x, i, out + r, ldo);
    for (; i < m; ++i) prepared_tile<F, I, 1>(block, subs, x, i, out + r, ldo);
  }
}

}  // namespace infer::kernels::cpu::quant

#pragma once
// Matmuls on GGUF block weights with int8 activations, written once against two small
// interfaces and instantiated per instruction set (quant_generic.cpp, quant_avx2.cpp, ...):
//
//   B, a vector of 32 bytes: V, zero(), load32(p), nibbles16(p) (p[0..15] & 15 then p[0..15] >> 4),
//     low_nibbles32(p), high_nibbles32(p), bits32(p) (byte i = bit i of the u32 at p),
//     bit_plane32(p, s) (byte i = bit s of p[i]), two_bits32(p, s) (byte i = (p[i] >> s) & 3),
//     or_(a, b), shl4(a);
//   I, integer dot products and 8-lane float vectors: Sums (the products of one sub-block),
//     zero_sums(), dot2_u(V codes, xq, xr) (unsigned codes times the activation codes 128 xq +
//     xr), dot2_s (signed codes), scale_pairs(sums, sc) (values 0-15 times sc[0], 16-31 times
//     sc[1]), reduce8(Sums[8]) (lane s = the total of sums[s]); F8,
//     zero(), set1(f), load(p), halves(lo, hi) (8 packed f16), bytes_u8(b) (8 packed bytes),
//     mul, fma(a, b, c), cvt(reduced), sum(F8); kTileRows x kTileCols, the tile of the batched
//     product; kPacked, where the kernels on prepared weights exist (prepared.h): load_codes,
//     low_nibbles, high_nibbles, bit_to_16<q>, and_, or_, shr, byte_lanes<b>, load_halves,
//     dot_x4, combine, add, store, and kWideUnsigned (byte products of unsigned codes up to 255
//     do not saturate).
//
// Each row of x is quantized once per matmul to int8 in sub-blocks of 32 (quantize_rows): a
// scale dx = max|x| / 127 and codes qx = round(x / dx), with dx times the codes' sums, which
// carry the weights' minimums. A weight sub-block with codes q, scale d and minimum m then
// contributes d dx (q · qx) + m dx Σqx, the first an exact integer dot product. Sub-blocks go
// in groups of 8: their 8 integer sums are reduced into one vector, converted and scaled with
// one multiply-add, so that float work and dependency chains are per 256 values, not per 32.
//
// Every (row of x, weight row) pair is summed by the same sequence of operations whatever tile
// it falls in, so a row's result does not depend on the batch it runs in (batch invariance).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "formats.h"

namespace infer::kernels::cpu::quant {

// The tile code relies on everything below being inlined into one loop nest: a call per group
// halved the decode speed.
#define INFER_INLINE __attribute__((always_inline)) inline

// m rows of k activations quantized per sub-block of 32, each row padded with zero sub-blocks to
// a multiple of 8 (`subs` per row): codes q and residual codes q2 [m, 2, 32 subs] and, per row,
// two arrays of `subs` floats: dx / 128 (the scale of the combined code 128 q + q2) and
// dx / 128 Σ(128 q + q2); and the integer Σ(128 q + q2) of each sub-block [m, subs].
struct QuantizedRows {
  const int8_t* q;
  const float* meta;
  const int32_t* sums;
  int64_t k, subs;
  // Codes of row i: the coarse ones, then the residual ones (x = dx (q + q2 / kResidualScale)).
  const int8_t* codes(int64_t row) const { return q + row * 2 * subs * kSub; }
  const int8_t* residual_codes(int64_t row) const { return codes(row) + subs * kSub; }
  const float* scales(int64_t row) const { return meta + row * 2 * subs; }
  const int32_t* code_sums(int64_t row) const { return sums + row * subs; }
};

// out[i * ldo + r] = x_i · w_r for every row i < m of x and weight rows r in [begin, end); the
// weight is `rows` rows of `row_bytes` bytes of blocks.
using BlockRowsFn = void (*)(const uint8_t* w, int64_t row_bytes, int64_t rows,
                             const QuantizedRows& x, int64_t m, float* out, int64_t ldo,
                             int64_t begin, int64_t end);

// Each row of x [m, k] quantized into `subs` sub-blocks (QuantizedRows).
using QuantizeFn = void (*)(const float* x, int64_t m, int64_t k, int64_t subs, int8_t* q,
                            float* meta, int32_t* sums);

// out[i * ldo + r] for rows [begin, end) (whole blocks of 8) of a weight in the prepared layout
// (prepared.h), whose rows are `row_bytes` apart as in the file.
using PreparedRowsFn = void (*)(const uint8_t* prepared, int64_t row_bytes, const QuantizedRows& x,
                                int64_t m, float* out, int64_t ldo, int64_t begin, int64_t end);

// One instruction set's block kernels, indexed by block_format_index(): on weights as stored, on
// prepared weights (null where the set or the format has no such kernel), and its quantizer.
struct BlockKernels {
  BlockRowsFn rows[8];
  PreparedRowsFn prepared[8];
  QuantizeFn quantize;
};

// Position of a block format in BlockKernels::rows (the order of INFER_FOR_EACH_BLOCK_FORMAT);
// -1 for other dtypes.
constexpr int block_format_index(base::DataType t) {
  int i = 0;
#define INFER_BLOCK_INDEX(F)   \
  if (t == F::kType) return i; \
  ++i;
  INFER_FOR_EACH_BLOCK_FORMAT(INFER_BLOCK_INDEX)
#undef INFER_BLOCK_INDEX
  return -1;
}

// One group of up to 8 sub-blocks of a weight row, unpacked: scales, and the codes of each.
template <class F, class B, class I>
struct WeightGroup {
  GroupScales<I> scales;
  typename B::V codes[8];
  int subs;  // sub-blocks present (fewer than 8 only at the end of a row of a 32-value format)

  // Sub-blocks [8 g, 8 g + 8) of a row, of which n are present. kRead > 0: the codes of the
  // first kRead (>= n) are read whole, because the bytes after the row are the next row's (their
  // products with the zero padding of x are zero, and their scales are taken as zero); kRead 0:
  // those of the n present only.
  template <int kRead>
  INFER_INLINE void load(const uint8_t* row, int64_t g, int n) {
    subs = n;
    const uint8_t* first = row + (8 * g / F::kSubs) * F::kBytes;
    F::template group_scales<I>(first, n, scales);
#pragma GCC unroll 8
    for (int s = 0; s < 8; ++s) {
      if (s >= (kRead > 0 ? kRead : n)) {
        codes[s] = B::zero();  // never used: group_dot skips these sub-blocks
        continue;
      }
      codes[s] = F::kSubs == 8 ? F::template codes<B>(first, s)
                               : F::template codes<B>(first + s * F::kBytes, 0);
    }
  }
};

// acc (8 float lanes, one per sub-block) += the group's integer dot products with row i of x,
// each times its d and x's dx, and the minimums times dx Σqx (one accumulator for both: the
// batched tile keeps twice as many pairs in registers).
template <int kRead, class F, class B, class I>
INFER_INLINE void group_dot(const WeightGroup<F, B, I>& w, const int8_t* xq, const int8_t* xr,
                            const float* dx, const float* sx, typename I::F8& acc) {
  typename I::Sums sums[8];
#pragma GCC unroll 8
  for (int s = 0; s < 8; ++s) {
    const int8_t* q = xq + s * kSub;
    const int8_t* r = xr + s * kSub;
    if (s >= (kRead > 0 ? kRead : w.subs)) {
      sums[s] = I::zero_sums();
    } else if constexpr (F::kHalfScales) {
      sums[s] = I::scale_pairs(I::dot2_s(w.codes[s], q, r), w.scales.isc + 2 * s);
    } else if constexpr (F::kSigned) {
      sums[s] = I::dot2_s(w.codes[s], q, r);
    } else {
      sums[s] = I::dot2_u(w.codes[s], q, r);
    }
  }
  acc = I::fma(I::cvt(I::reduce8(sums)), I::mul(w.scales.d, I::load(dx)), acc);
  if constexpr (!F::kSigned) acc = I::fma(w.scales.m, I::load(sx), acc);
}

// A tile of Mr rows of x by Nr weight rows: each group of a weight row is unpacked once for the
// Mr rows of x. Every (x row, weight row) pair goes through the same group_dot sequence whatever
// the tile, hence the same float.
//
// `end`: the end of the matrix. A partial last group reads whole groups of codes
// (WeightGroup::load) where the rows after the tile's last one still hold them.
template <class F, class B, class I, int Mr, int Nr>
inline void block_tile(const uint8_t* w, int64_t row_bytes, const QuantizedRows& x, int64_t x0,
                       float* out, int64_t ldo, const uint8_t* end) {
  const int64_t row_subs = x.k / kSub, full_groups = row_subs / 8;
  const int tail = static_cast<int>(row_subs % 8);
  const bool may_overread =
      tail > 0 && (end - (w + Nr * row_bytes)) >= (8 - tail) * F::kBytes / F::kSubs;
  typename I::F8 acc[Mr][Nr];
  for (int i = 0; i < Mr; ++i)
    for (int j = 0; j < Nr; ++j) acc[i][j] = I::zero();
  WeightGroup<F, B, I> group[Nr];
  const auto run = [&](int64_t g, int n, auto read) {
    constexpr int kRead = decltype(read)::value;
#pragma GCC unroll 4
    for (int j = 0; j < Nr; ++j) {
      const uint8_t* row = w + j * row_bytes;
      // Every 64-byte line of the group, 4 KiB ahead.
      const uint8_t* ahead = row + (8 * g / F::kSubs) * F::kBytes + 4096;
#pragma GCC unroll 8
      for (int line = 0; line < 8 * F::kBytes / F::kSubs; line += 64)
        __builtin_prefetch(ahead + line);
      group[j].template load<kRead>(row, g, n);
    }
#pragma GCC unroll 4
    for (int i = 0; i < Mr; ++i) {
      const int8_t* xq = x.codes(x0 + i) + g * 8 * kSub;
      const int8_t* xr = x.residual_codes(x0 + i) + g * 8 * kSub;
      const float* dx = x.scales(x0 + i) + 8 * g;
#pragma GCC unroll 4
      for (int j = 0; j < Nr; ++j) group_dot<kRead>(group[j], xq, xr, dx, dx + x.subs, acc[i][j]);
    }
  };
  using std::integral_constant;
  for (int64_t g = 0; g < full_groups; ++g) run(g, 8, integral_constant<int, 8>{});
  if (tail > 0 && may_overread) {
    // Decode: only as many sub-blocks as the tail needs, rounded up to 2 or 4 (SmolLM2's rows of
    // 576 values end in 2 of 8, Qwen2.5-0.5B's of 896 in 4). The skipped ones add exact integer
    // zeros, so the sums are those of a whole group.
    if constexpr (Mr == 1 && Nr == 1) {
      if (tail <= 2) {
        run(full_groups, tail, integral_constant<int, 2>{});
      } else if (tail <= 4) {
        run(full_groups, tail, integral_constant<int, 4>{});
      } else {
        run(full_groups, tail, integral_constant<int, 8>{});
      }
    } else {
      run(full_groups, tail, integral_constant<int, 8>{});
    }
  }
  if (tail > 0 && !may_overread) run(full_groups, tail, integral_constant<int, 0>{});
  for (int i = 0; i < Mr; ++i)
    for (int j = 0; j < Nr; ++j) out[i * ldo + j] = I::sum(acc[i][j]);
}

// BlockRowsFn for format F: one row of x (decode) one weight row at a time, each thread reading a
// single sequential stream; more rows of x in tiles of I::kTileRows x I::kTileCols.
template <class F, class B, class I>
void block_rows(const uint8_t* w, int64_t row_bytes, int64_t rows, const QuantizedRows& x,
                int64_t m, float* out, int64_t ldo, int64_t begin, int64_t end) {
  const uint8_t* w_end = w + rows * row_bytes;
  if (m == 1) {
    for (int64_t r = begin; r < end; ++r)
      block_tile<F, B, I, 1, 1>(w + r * row_bytes, row_bytes, x, 0, out + r, ldo, w_end);
    return;
  }
  // Whole tiles, then the rows of x left over one at a time, then the weight rows left over:
  // four tile shapes in all, whatever m and the span (each shape is compiled for 8 formats).
  constexpr int Mr = I::kTileRows, Nr = I::kTileCols;
  const int64_t full_end = begin + (end - begin) / Nr * Nr;
  for (int64_t i = 0; i < m; i += Mr) {
    const bool whole = i + Mr <= m;
    for (int64_t r = begin; r < full_end; r += Nr) {
      const uint8_t* rows_at = w + r * row_bytes;
      if (whole) {
        block_tile<F, B, I, Mr, Nr>(rows_at, row_bytes, x, i, out + i * ldo + r, ldo, w_end);
      } else {
        for (int64_t i1 = i; i1 < m; ++i1)
          block_tile<F, B, I, 1, Nr>(rows_at, row_bytes, x, i1, out + i1 * ldo + r, ldo, w_end);
      }
    }
    for (int64_t r = full_end; r < end; ++r) {
      const uint8_t* row_at = w + r * row_bytes;
      if (whole) {
        block_tile<F, B, I, Mr, 1>(row_at, row_bytes, x, i, out + i * ldo + r, ldo, w_end);
      } else {
        for (int64_t i1 = i; i1 < m; ++i1)
          block_tile<F, B, I, 1, 1>(row_at, row_bytes, x, i1, out + i1 * ldo + r, ldo, w_end);
      }
    }
  }
}

// QuantizeFn: each file compiles this for its instruction set. Every operation is exact in IEEE
// arithmetic (max, products, the rounding trick, integer sums), so all give the same codes.
inline void quantize_rows(const float* x, int64_t m, int64_t k, int64_t subs, int8_t* q,
                          float* meta, int32_t* sums) {
  for (int64_t i = 0; i < m; ++i) {
    int8_t* codes = q + i * 2 * subs * kSub;
    int8_t* residual = codes + subs * kSub;
    float* dx = meta + i * 2 * subs;
    float* sx = dx + subs;
    int32_t* code_sums = sums + i * subs;
    for (int64_t s = 0; s < subs; ++s) {
      const float* in = x + i * k + s * kSub;
      int8_t* out = codes + s * kSub;
      int8_t* out2 = residual + s * kSub;
      if (s * kSub >= k) {  // padding up to a whole group of 8
        std::fill(out, out + kSub, int8_t{0});
        std::fill(out2, out2 + kSub, int8_t{0});
        dx[s] = sx[s] = 0.0f;
        code_sums[s] = 0;
        continue;
      }
      // Written to vectorise at the baseline instruction set: no libm calls, no branches.
      float amax = 0;
      uint32_t exponent = 0;  // the largest exponent field: all ones for inf or NaN
      for (int c = 0; c < kSub; ++c) {
        amax = std::max(amax, std::fabs(in[c]));
        uint32_t bits;
        std::memcpy(&bits, &in[c], sizeof(bits));
        exponent = std::max(exponent, bits & 0x7F800000u);
      }
      const bool finite = exponent != 0x7F800000u;
      const float d = amax / 127.0f;
      const float inv = d > 0 ? 1.0f / d : 0.0f;
      int32_t sum = 0;
      for (int c = 0; c < kSub; ++c) {
        // Round to nearest even by the 1.5 * 2^23 trick (exact for |v| < 2^22), then clamp a
        // product that rounded just past 127; the residual likewise, in 128ths.
        const float scaled = in[c] * inv;
        const float v = std::min(127.0f, std::max(-127.0f, (scaled + 12582912.0f) - 12582912.0f));
        const float rest = (scaled - v) * float(kResidualScale);
        const float v2 = std::min(64.0f, std::max(-64.0f, (rest + 12582912.0f) - 12582912.0f));
        out[c] = static_cast<int8_t>(v);
        out2[c] = static_cast<int8_t>(v2);
        sum += kResidualScale * out[c] + out2[c];
      }
      // In units of the combined code 128 q + q2 (an exact power-of-two scaling of d).
      dx[s] = d / float(kResidualScale);
      sx[s] = dx[s] * static_cast<float>(sum);
      code_sums[s] = sum;
      // NaN or inf in x: the codes are meaningless; make the scales NaN so that the result is
      // too, as the float kernels' would be.
      if (!finite) dx[s] = sx[s] = NAN;
    }
  }
}

}  // namespace infer::kernels::cpu::quant

#pragma once
// The GEMV loops, written once against a small vector interface V (a SIMD register of
// V::kLanes floats, or a plain float) and instantiated in one file per instruction set, which
// is compiled for that set. Include only from those files.
//
// V provides: F, kLanes, zero(), load(const float*), store(float*, F), set1(float),
// fma(a, b, acc), add(a, b), sum(F), and the register blocks of the batched kernels:
// kBlockRows (rows of x) x kBlockCols (weight rows) of the f32 GEMM (one accumulator each), and
// kI8BlockRows x kI8BlockCols of the int8 one (three vectors each: two accumulators and the
// group's sum).
#include <algorithm>
#include <cstdint>

#include "gemm_simd.h"
#include "gemv.h"
#include "infer/kernels/ops.h"

namespace infer::kernels::cpu::simd {

// The ranges of k whose sums the dense kernels form separately and then add, in order: at most
// kMaxRange columns each, a multiple of `step` long but for the last. The batched kernel
// (gemm_simd.h) splits k so that its blocks stay in L1, and the GEMV follows it, so that a row
// gets the same float whether it runs alone or in a batch.
constexpr int64_t kMaxRange = 1024;
inline int64_t range_length(int64_t k, int64_t step) {
  const int64_t ranges = (k + kMaxRange - 1) / kMaxRange;
  return ((k + ranges - 1) / ranges + step - 1) / step * step;
}

// Rows [begin, end) of y = W x for weights of element type T; widen(p) gives V::kLanes floats
// from p, widen1(v) one float. Each row: per range of k (range_length), one vector accumulator
// fed in order, reduced, then the scalar tail; the ranges' sums added in order. Exactly the
// order of simd::dot_block, the batched kernel.
//
// One row at a time, so that each thread reads a single sequential stream, 4 KiB ahead of use
// with one prefetch per 64-byte line. A single accumulator chain (4-cycle FMAs) still consumes
// 16 floats every 4 cycles, several times what one core's share of DRAM bandwidth delivers, and
// consecutive rows' chains overlap.
template <class V, class T, class Widen, class Widen1>
inline void gemv_dense(const T* w, const float* x, float* y, int64_t begin, int64_t end, int64_t k,
                       Widen widen, Widen1 widen1) {
  constexpr int64_t kLanes = V::kLanes;
  constexpr int64_t kPrefetch = 4096 / sizeof(T);  // elements
  constexpr int64_t kLineElements = 64 / sizeof(T);
  constexpr int64_t kLine = kLanes >= kLineElements ? kLanes : kLineElements;  // per prefetch
  const int64_t range = range_length(k, kLanes);
  for (int64_t r = begin; r < end; ++r) {
    const T* row = w + r * k;
    float total = 0;
    for (int64_t k0 = 0; k0 < k; k0 += range) {
      const int64_t k1 = std::min(k, k0 + range);
      typename V::F acc = V::zero();
      int64_t c = k0;
      for (; c + kLine <= k1; c += kLine) {
        __builtin_prefetch(row + c + kPrefetch);
#pragma GCC unroll 4
        for (int64_t u = c; u < c + kLine; u += kLanes)
          acc = V::fma(V::load(x + u), widen(row + u), acc);
      }
      for (; c + kLanes <= k1; c += kLanes) acc = V::fma(V::load(x + c), widen(row + c), acc);
      float s = V::sum(acc);
      for (; c < k1; ++c) s += x[c] * widen1(row[c]);
      total = k0 > 0 ? total + s : s;
    }
    y[r] = total;
  }
}

// gemv_dense for M rows of x at once (batched decode of a few sequences): each weight row is
// streamed once, 4 KiB ahead, and each vector of it is widened once for the M rows, whose sums
// are formed exactly as gemv_dense forms each alone. out[i * ldo + r] for i < M, r in
// [begin, end).
template <class V, int M, class T, class Widen, class Widen1>
inline void gemv_rows_multi(const T* w, const float* x, float* out, int64_t ldo, int64_t begin,
                            int64_t end, int64_t k, Widen widen, Widen1 widen1) {
  constexpr int64_t kLanes = V::kLanes;
  constexpr int64_t kPrefetch = 4096 / sizeof(T);
  constexpr int64_t kLineElements = 64 / sizeof(T);
  constexpr int64_t kLine = kLanes >= kLineElements ? kLanes : kLineElements;
  const int64_t range = range_length(k, kLanes);
  for (int64_t r = begin; r < end; ++r) {
    const T* row = w + r * k;
    float total[M] = {};
    for (int64_t k0 = 0; k0 < k; k0 += range) {
      const int64_t k1 = std::min(k, k0 + range);
      typename V::F acc[M];
#pragma GCC unroll 8
      for (int i = 0; i < M; ++i) acc[i] = V::zero();
      int64_t c = k0;
      for (; c + kLine <= k1; c += kLine) {
        __builtin_prefetch(row + c + kPrefetch);
#pragma GCC unroll 4
        for (int64_t u = c; u < c + kLine; u += kLanes) {
          const typename V::F wv = widen(row + u);
#pragma GCC unroll 8
          for (int i = 0; i < M; ++i) acc[i] = V::fma(V::load(x + i * k + u), wv, acc[i]);
        }
      }
      for (; c + kLanes <= k1; c += kLanes) {
        const typename V::F wv = widen(row + c);
        for (int i = 0; i < M; ++i) acc[i] = V::fma(V::load(x + i * k + c), wv, acc[i]);
      }
      for (int i = 0; i < M; ++i) {
        float s = V::sum(acc[i]);
        for (int64_t t = c; t < k1; ++t) s += x[i * k + t] * widen1(row[t]);
        total[i] = k0 > 0 ? total[i] + s : s;
      }
    }
    for (int i = 0; i < M; ++i) out[i * ldo + r] = total[i];
  }
}

// gemv_rows_multi for 1 <= m <= kMaxStreamRows rows of x.
constexpr int64_t kMaxStreamRows = 4;
template <class V, class T, class Widen, class Widen1>
inline void gemv_rows_upto(int64_t m, const T* w, const float* x, float* out, int64_t ldo,
                           int64_t begin, int64_t end, int64_t k, Widen widen, Widen1 widen1) {
  switch (m) {
    case 1:
      return gemv_rows_multi<V, 1>(w, x, out, ldo, begin, end, k, widen, widen1);
    case 2:
      return gemv_rows_multi<V, 2>(w, x, out, ldo, begin, end, k, widen, widen1);
    case 3:
      return gemv_rows_multi<V, 3>(w, x, out, ldo, begin, end, k, widen, widen1);
    default:
      return gemv_rows_multi<V, 4>(w, x, out, ldo, begin, end, k, widen, widen1);
  }
}

// sum over g of a[g] * b[g] for g < n, vectorised (the offsets' share of an int8 row).
template <class V>
inline float dot(const float* a, const float* b, int64_t n) {
  typename V::F acc = V::zero();
  int64_t i = 0;
  for (; i + V::kLanes <= n; i += V::kLanes) acc = V::fma(V::load(a + i), V::load(b + i), acc);
  float s = V::sum(acc);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// One row of group-wise int8 weights for a group size fixed at compile time (a multiple of the
// vector width): the products of each group are summed in registers and scaled once. Two
// groups at a time into two accumulators, so that consecutive groups' scale FMAs do not wait on
// each other; one prefetch per 64-byte line, 4 KiB ahead, as gemv_dense.
template <class V, int64_t kGroup, class Widen>
inline float row_i8_fixed(const int8_t* row, const float* scales, const float* x, int64_t groups,
                          Widen widen) {
  constexpr int64_t kLanes = V::kLanes;
  static_assert(kGroup % kLanes == 0);
  auto group_sum = [&](int64_t g) {
    const int8_t* q = row + g * kGroup;
    const float* xg = x + g * kGroup;
    typename V::F in_group = V::zero();
#pragma GCC unroll 8
    for (int64_t c = 0; c < kGroup; c += kLanes)
      in_group = V::fma(widen(q + c), V::load(xg + c), in_group);
    return in_group;
  };
  typename V::F acc0 = V::zero(), acc1 = V::zero();
  int64_t g = 0;
  for (; g + 2 <= groups; g += 2) {
#pragma GCC unroll 4
    for (int64_t line = 0; line < 2 * kGroup; line += 64)
      __builtin_prefetch(row + g * kGroup + line + 4096);
    acc0 = V::fma(group_sum(g), V::set1(scales[g]), acc0);
    acc1 = V::fma(group_sum(g + 1), V::set1(scales[g + 1]), acc1);
  }
  if (g < groups) acc0 = V::fma(group_sum(g), V::set1(scales[g]), acc0);
  return V::sum(V::add(acc0, acc1));
}

// Rows [begin, end) of y = W x for group-wise int8 weights: each group's products are summed in
// a register, scaled once, and the offsets add offset x (sum of x over the group).
template <class V, class Widen>
inline void gemv_i8(const WeightRef& w, const float* x, const float* group_sums, float* y,
                    int64_t begin, int64_t end, int64_t k, Widen widen) {
  const int64_t group = w.group_size;
  const int64_t groups = k / group;
  for (int64_t r = begin; r < end; ++r) {
    const int8_t* row = static_cast<const int8_t*>(w.data) + r * k;
    const float* scales = w.scales + r * groups;
    float s = 0;
    if (group == 32 && 32 % V::kLanes == 0) {  // the exporter's default
      s = row_i8_fixed<V, 32>(row, scales, x, groups, widen);
    } else if (group == 64 && 64 % V::kLanes == 0) {
      s = row_i8_fixed<V, 64>(row, scales, x, groups, widen);
    } else if (group % V::kLanes == 0) {
      typename V::F acc = V::zero();
      for (int64_t g = 0; g < groups; ++g) {
        typename V::F in_group = V::zero();
        for (int64_t c = g * group; c < (g + 1) * group; c += V::kLanes)
          in_group = V::fma(widen(row + c), V::load(x + c), in_group);
        acc = V::fma(in_group, V::set1(scales[g]), acc);
      }
      s = V::sum(acc);
    } else {
      for (int64_t g = 0; g < groups; ++g) {
        float in_group = 0;
        for (int64_t c = g * group; c < (g + 1) * group; ++c) in_group += row[c] * x[c];
        s += in_group * scales[g];
      }
    }
    if (w.offsets != nullptr) s += dot<V>(w.offsets + r * groups, group_sums, groups);
    y[r] = s;
  }
}

// Several rows of x at once for group-wise int8 weights (prefill, batched decode), each sum
// formed in exactly gemv_i8's order, so a row's result is bit for bit the one it gets at batch
// 1: per group, the products summed from
// zero in a register and scaled into one of two accumulators (even groups, odd groups) for the
// group sizes gemv_i8 unrolls, into one for other multiples of the vector width, in scalars
// otherwise; then the offsets' share. Rows [r0, r0 + Nr) of the weight; group_sums holds x's
// per-group sums, `lds` floats per row of x.
template <class V, int Mr, int Nr, class Widen>
inline void i8_block(const WeightRef& w, int64_t r0, const float* x, int64_t ldx,
                     const float* group_sums, int64_t lds, int64_t k, float* out, int64_t ldo,
                     Widen widen) {
  constexpr int64_t kLanes = V::kLanes;
  const int64_t group = w.group_size, groups = k / group;
  const int8_t* q = static_cast<const int8_t*>(w.data) + r0 * k;
  const float* scales = w.scales + r0 * groups;
  float s[Mr][Nr];
  if (group % kLanes == 0) {
    // Two accumulators where gemv_i8 takes row_i8_fixed, one otherwise.
    const bool pairs = (group == 32 && 32 % kLanes == 0) || (group == 64 && 64 % kLanes == 0);
    typename V::F acc[2][Mr][Nr];
    for (int a = 0; a < 2; ++a)
      for (int i = 0; i < Mr; ++i)
        for (int j = 0; j < Nr; ++j) acc[a][i][j] = V::zero();
    for (int64_t g = 0; g < groups; ++g) {
      typename V::F in_group[Mr][Nr];
      for (int i = 0; i < Mr; ++i)
        for (int j = 0; j < Nr; ++j) in_group[i][j] = V::zero();
      for (int64_t c = g * group; c < (g + 1) * group; c += kLanes) {
        typename V::F wv[Nr];
#pragma GCC unroll 8
        for (int j = 0; j < Nr; ++j) wv[j] = widen(q + j * k + c);
#pragma GCC unroll 8
        for (int i = 0; i < Mr; ++i) {
          const typename V::F xv = V::load(x + i * ldx + c);
#pragma GCC unroll 8
          for (int j = 0; j < Nr; ++j) in_group[i][j] = V::fma(wv[j], xv, in_group[i][j]);
        }
      }
      const int a = pairs ? static_cast<int>(g % 2) : 0;
      for (int j = 0; j < Nr; ++j) {
        const typename V::F scale = V::set1(scales[j * groups + g]);
        for (int i = 0; i < Mr; ++i) acc[a][i][j] = V::fma(in_group[i][j], scale, acc[a][i][j]);
      }
    }
    for (int i = 0; i < Mr; ++i)
      for (int j = 0; j < Nr; ++j)
        s[i][j] = pairs ? V::sum(V::add(acc[0][i][j], acc[1][i][j])) : V::sum(acc[0][i][j]);
  } else {
    for (int i = 0; i < Mr; ++i) {
      for (int j = 0; j < Nr; ++j) {
        const int8_t* row = q + j * k;
        const float* xi = x + i * ldx;
        float sum = 0;
        for (int64_t g = 0; g < groups; ++g) {
          float in_group = 0;
          for (int64_t c = g * group; c < (g + 1) * group; ++c) in_group += row[c] * xi[c];
          sum += in_group * scales[j * groups + g];
        }
        s[i][j] = sum;
      }
    }
  }
  for (int i = 0; i < Mr; ++i) {
    for (int j = 0; j < Nr; ++j) {
      float v = s[i][j];
      if (w.offsets != nullptr)
        v += dot<V>(w.offsets + (r0 + j) * groups, group_sums + i * lds, groups);
      out[i * ldo + j] = v;
    }
  }
}

// block.run<mr, nr>(i, j) for the largest mr <= Mr, nr <= Nr that match the runtime sizes.
template <int Mr, int Nr, class Block>
inline void block_upto(int mr, int nr, const Block& block, int64_t i, int64_t j) {
  if constexpr (Mr > 0 && Nr > 0) {
    if (mr == Mr && nr == Nr) return block.template run<Mr, Nr>(i, j);
    if (nr < Nr) return block_upto<Mr, Nr - 1>(mr, nr, block, i, j);
    return block_upto<Mr - 1, Nr>(mr, nr, block, i, j);
  }
}

// out[i * ldo + j] = x_i · w_j for every row i < m of x and weight rows j in [begin, end),
// through Block (I8Block): each block of Mr rows of x stays in L1 while the weight
// rows pass (from L2: the caller keeps end - begin small).
template <int Mr, int Nr, class Block>
inline void batch_rows(const Block& block, int64_t m, int64_t begin, int64_t end) {
  for (int64_t i = 0; i < m; i += Mr) {
    const int mr = static_cast<int>(std::min<int64_t>(Mr, m - i));
    for (int64_t j = begin; j < end; j += Nr) {
      const int nr = static_cast<int>(std::min<int64_t>(Nr, end - j));
      block_upto<Mr, Nr>(mr, nr, block, i, j);
    }
  }
}

// The block of x rows i.. and weight rows j.. for i8_block.
template <class V, class Widen>
struct I8Block {
  const WeightRef* w;
  const float* x;
  const float* group_sums;
  float* out;
  int64_t ldo, k;
  Widen widen;
  template <int R, int C>
  void run(int64_t i, int64_t j) const {
    const int64_t groups = k / w->group_size;
    // Symmetric weights have no group sums: a null pointer may not be offset.
    const float* row_sums = group_sums != nullptr ? group_sums + i * groups : nullptr;
    i8_block<V, R, C>(*w, j, x + i * k, k, row_sums, groups, k, out + i * ldo + j, ldo, widen);
  }
};

// dst[0, n) = the n stored values at w as floats.
template <class V, class T, class Widen, class Widen1>
inline void widen_values(const T* w, float* dst, int64_t n, Widen widen, Widen1 widen1) {
  int64_t c = 0;
  for (; c + V::kLanes <= n; c += V::kLanes) V::store(dst + c, widen(w + c));
  for (; c < n; ++c) dst[c] = widen1(w[c]);
}

// The kernels of one instruction set, given its vector interface and widening functions: the
// GEMVs, and row dequantisation into an f32 tile (prefill, embedding lookups).
template <class V, class WidenF16, class WidenBF16, class WidenI8, class WidenF16One>
struct Kernels {
  using Vector = V;
  struct WidenBf16One {
    float operator()(uint16_t v) const { return bf16_one(v); }
  };
  using F16Operands = HalfOperands<V, WidenF16, WidenF16One>;
  using Bf16Operands = HalfOperands<V, WidenBF16, WidenBf16One>;
  static void f32(const WeightRef& w, const float* x, const float*, float* y, int64_t begin,
                  int64_t end, int64_t k) {
    gemv_dense<V>(
        static_cast<const float*>(w.data), x, y, begin, end, k,
        [](const float* p) { return V::load(p); }, [](float v) { return v; });
  }
  static void f16(const WeightRef& w, const float* x, const float*, float* y, int64_t begin,
                  int64_t end, int64_t k) {
    gemv_dense<V>(static_cast<const uint16_t*>(w.data), x, y, begin, end, k, WidenF16{},
                  WidenF16One{});
  }
  static void bf16(const WeightRef& w, const float* x, const float*, float* y, int64_t begin,
                   int64_t end, int64_t k) {
    gemv_dense<V>(static_cast<const uint16_t*>(w.data), x, y, begin, end, k, WidenBF16{},
                  WidenBf16One{});
  }
  static void i8(const WeightRef& w, const float* x, const float* group_sums, float* y,
                 int64_t begin, int64_t end, int64_t k) {
    gemv_i8<V>(w, x, group_sums, y, begin, end, k, WidenI8{});
  }

  // The GEMVs above for up to kMaxStreamRows rows of x (StreamRowsFn).
  static void stream_f32(const WeightRef& w, const float* x, int64_t m, float* out, int64_t ldo,
                         int64_t begin, int64_t end, int64_t k) {
    gemv_rows_upto<V>(
        m, static_cast<const float*>(w.data), x, out, ldo, begin, end, k,
        [](const float* p) { return V::load(p); }, [](float v) { return v; });
  }
  static void stream_f16(const WeightRef& w, const float* x, int64_t m, float* out, int64_t ldo,
                         int64_t begin, int64_t end, int64_t k) {
    gemv_rows_upto<V>(m, static_cast<const uint16_t*>(w.data), x, out, ldo, begin, end, k,
                      WidenF16{}, WidenF16One{});
  }
  static void stream_bf16(const WeightRef& w, const float* x, int64_t m, float* out, int64_t ldo,
                          int64_t begin, int64_t end, int64_t k) {
    gemv_rows_upto<V>(m, static_cast<const uint16_t*>(w.data), x, out, ldo, begin, end, k,
                      WidenBF16{}, WidenBf16One{});
  }

  // The batched int8 form (BatchRowsFn), sum for sum equal to the GEMV above.
  static void batch_i8(const WeightRef& w, const float* x, int64_t m, const float* group_sums,
                       float* out, int64_t ldo, int64_t begin, int64_t end, int64_t k) {
    batch_rows<V::kI8BlockRows, V::kI8BlockCols>(
        I8Block<V, WidenI8>{&w, x, group_sums, out, ldo, k, WidenI8{}}, m, begin, end);
  }

  // dst[(r - begin) * k + c] = w[r, c] for rows [begin, end).
  static void rows_f16(const WeightRef& w, int64_t begin, int64_t end, int64_t k, float* dst) {
    widen_values<V>(static_cast<const uint16_t*>(w.data) + begin * k, dst, (end - begin) * k,
                    WidenF16{}, WidenF16One{});
  }
  static void rows_bf16(const WeightRef& w, int64_t begin, int64_t end, int64_t k, float* dst) {
    widen_values<V>(static_cast<const uint16_t*>(w.data) + begin * k, dst, (end - begin) * k,
                    WidenBF16{}, WidenBf16One{});
  }
  static void rows_i8(const WeightRef& w, int64_t begin, int64_t end, int64_t k, float* dst) {
    const int64_t group = w.group_size, groups = k / group;
    const bool vector_groups = group % V::kLanes == 0;
    for (int64_t r = begin; r < end; ++r) {
      const int8_t* row = static_cast<const int8_t*>(w.data) + r * k;
      float* out = dst + (r - begin) * k;
      for (int64_t g = 0; g < groups; ++g) {
        const float scale = w.scales[r * groups + g];
        const float offset = w.offsets != nullptr ? w.offsets[r * groups + g] : 0.0f;
        int64_t c = g * group;
        if (vector_groups) {
          for (; c < (g + 1) * group; c += V::kLanes)
            V::store(out + c, V::fma(WidenI8{}(row + c), V::set1(scale), V::set1(offset)));
        }
        for (; c < (g + 1) * group; ++c) out[c] = row[c] * scale + offset;
      }
    }
  }

 private:
  static float bf16_one(uint16_t v) {
    const uint32_t bits = static_cast<uint32_t>(v) << 16;
    float f;
    __builtin_memcpy(&f, &bits, sizeof(f));
    return f;
  }
};

template <class K>
IsaKernels table() {
  return {K::f32,
          K::f16,
          K::bf16,
          K::i8,
          K::batch_i8,
          K::rows_f16,
          K::rows_bf16,
          K::rows_i8,
          gemm_rows<F32Operands<typename K::Vector>, K::Vector::kBlockRows, K::Vector::kBlockCols>,
          gemm_rows<typename K::F16Operands, K::Vector::kBlockRows, K::Vector::kBlockCols>,
          gemm_rows<typename K::Bf16Operands, K::Vector::kBlockRows, K::Vector::kBlockCols>,
          K::stream_f32,
          K::stream_f16,
          K::stream_bf16};
}

}  // namespace infer::kernels::cpu::simd

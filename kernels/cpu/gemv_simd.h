#pragma once
// The GEMV loops, written once against a small vector interface V (a SIMD register of
// V::kLanes floats, or a plain float) and instantiated in one file per instruction set, which
// is compiled for that set. Include only from those files.
//
// V provides: F, kLanes, zero(), load(const float*), store(float*, F), set1(float),
// fma(a, b, acc), add(a, b), sum(F).
#include <cstdint>

#include "gemv.h"
#include "infer/kernels/ops.h"

namespace infer::kernels::cpu::simd {

// Rows [begin, end) of y = W x for weights of element type T; widen(p) gives V::kLanes floats
// from p, widen1(v) one float.
//
// One row at a time, so that each thread reads a single sequential stream, 4 KiB ahead of use
// with one prefetch per 64-byte line. Measured against a plain 2-thread read of the same bytes
// in alternation (25 rounds, medians, Qwen2.5-0.5B and Llama-3.2-1B shapes): 0.89-1.0 of it for
// f16/bf16 and 0.94-0.97 for f32, where four interleaved rows sharing each load of x reached
// 0.80-0.86 and 0.90-0.95. The loads of x come from L1 and cost nothing next to DRAM.
template <class V, class T, class Widen, class Widen1>
inline void gemv_dense(const T* w, const float* x, float* y, int64_t begin, int64_t end, int64_t k,
                       Widen widen, Widen1 widen1) {
  constexpr int64_t kLanes = V::kLanes;
  constexpr int64_t kPrefetch = 4096 / sizeof(T);  // elements
  constexpr int64_t kLineElements = 64 / sizeof(T);
  // Two accumulators, each taking whole lines: kStep elements per step, a multiple of a line.
  constexpr int64_t kVectorsPerLine = kLanes >= kLineElements ? 1 : kLineElements / kLanes;
  constexpr int64_t kStep = 2 * kLanes * kVectorsPerLine;
  for (int64_t r = begin; r < end; ++r) {
    const T* row = w + r * k;
    typename V::F a0 = V::zero(), a1 = V::zero();
    int64_t c = 0;
    for (; c + kStep <= k; c += kStep) {
      for (int64_t line = c; line < c + kStep; line += kLineElements)
        __builtin_prefetch(row + line + kPrefetch);
      for (int64_t u = c; u < c + kStep; u += 2 * kLanes) {
        a0 = V::fma(widen(row + u), V::load(x + u), a0);
        a1 = V::fma(widen(row + u + kLanes), V::load(x + u + kLanes), a1);
      }
    }
    for (; c + kLanes <= k; c += kLanes) a0 = V::fma(widen(row + c), V::load(x + c), a0);
    float s = V::sum(V::add(a0, a1));
    for (; c < k; ++c) s += widen1(row[c]) * x[c];
    y[r] = s;
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
                  [](uint16_t v) { return bf16_one(v); });
  }
  static void i8(const WeightRef& w, const float* x, const float* group_sums, float* y,
                 int64_t begin, int64_t end, int64_t k) {
    gemv_i8<V>(w, x, group_sums, y, begin, end, k, WidenI8{});
  }

  // dst[(r - begin) * k + c] = w[r, c] for rows [begin, end).
  static void rows_f16(const WeightRef& w, int64_t begin, int64_t end, int64_t k, float* dst) {
    widen_values<V>(static_cast<const uint16_t*>(w.data) + begin * k, dst, (end - begin) * k,
                    WidenF16{}, WidenF16One{});
  }
  static void rows_bf16(const WeightRef& w, int64_t begin, int64_t end, int64_t k, float* dst) {
    widen_values<V>(static_cast<const uint16_t*>(w.data) + begin * k, dst, (end - begin) * k,
                    WidenBF16{}, [](uint16_t v) { return bf16_one(v); });
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
  return {K::f32, K::f16, K::bf16, K::i8, K::rows_f16, K::rows_bf16, K::rows_i8};
}

}  // namespace infer::kernels::cpu::simd

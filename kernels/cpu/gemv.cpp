// The generic GEMV kernels (plain C++, one float at a time, for any x86-64 or other CPU), the
// choice of kernel by instruction set, and the threaded driver.
#include "gemv.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "dequantize.h"
#include "gemv_simd.h"
#include "infer/base/error.h"

namespace infer::kernels::cpu {

namespace {

struct Scalar {
  using F = float;
  static constexpr int64_t kLanes = 1;
  static constexpr int kBlockRows = 2, kBlockCols = 2, kI8BlockRows = 2, kI8BlockCols = 2;
  static F zero() { return 0.0f; }
  static F load(const float* p) { return *p; }
  static void store(float* p, F v) { *p = v; }
  static F set1(float v) { return v; }
  static F fma(F a, F b, F acc) { return a * b + acc; }
  static F add(F a, F b) { return a + b; }
  static float sum(F a) { return a; }
};

struct WidenF16 {
  float operator()(const uint16_t* p) const { return f16_to_f32(*p); }
};
struct WidenBF16 {
  float operator()(const uint16_t* p) const { return bf16_to_f32(*p); }
};
struct WidenI8 {
  float operator()(const int8_t* p) const { return static_cast<float>(*p); }
};
struct WidenF16One {
  float operator()(uint16_t v) const { return f16_to_f32(v); }
};

using K = simd::Kernels<Scalar, WidenF16, WidenBF16, WidenI8, WidenF16One>;

}  // namespace

const IsaKernels& generic_kernels() {
  static const IsaKernels kernels = simd::table<K>();
  return kernels;
}

namespace {

const IsaKernels& kernels_for(base::CpuIsa isa) {
  switch (isa) {
    case base::CpuIsa::kAvx512Bf16:
    case base::CpuIsa::kAvx512:
      return avx512_kernels();
    case base::CpuIsa::kAvx2:
      return avx2_kernels();
    case base::CpuIsa::kGeneric:
      break;
  }
  return generic_kernels();
}

}  // namespace

GemvRowsFn gemv_rows_kernel(base::DataType dtype, base::CpuIsa isa) {
  const IsaKernels& k = kernels_for(isa);
  switch (dtype) {
    case base::DataType::kF32:
      return k.gemv_f32;
    case base::DataType::kF16:
      return k.gemv_f16;
    case base::DataType::kBF16:
      return k.gemv_bf16;
    case base::DataType::kI8:
      return k.gemv_i8;
    default:
      return nullptr;
  }
}

DequantRowsFn dequant_rows_kernel(base::DataType dtype, base::CpuIsa isa) {
  const IsaKernels& k = kernels_for(isa);
  switch (dtype) {
    case base::DataType::kF16:
      return k.rows_f16;
    case base::DataType::kBF16:
      return k.rows_bf16;
    case base::DataType::kI8:
      return k.rows_i8;
    default:
      return nullptr;
  }
}

namespace {

// sums[g] = the sum of x over group g of `group_size` columns, summed left to right: the
// offsets' share of an asymmetric int8 product. One definition for the GEMV and the batched
// kernels, which must agree to the last bit.
void x_group_sums(const float* x, int64_t k, int64_t group_size, float* sums) {
  for (int64_t g = 0; g < k / group_size; ++g) {
    float s = 0;
    for (int64_t c = g * group_size; c < (g + 1) * group_size; ++c) s += x[c];
    sums[g] = s;
  }
}

// Blocks of 64 weight rows: enough work per block for the threads to stay balanced.
constexpr int64_t kBatchBlockRows = 64;
// Up to this many rows of x, f16/bf16 weights are widened in registers for each block of x rows;
// beyond, once into a tile that all of x's rows share. Both give the same floats.
constexpr int64_t kInPlaceRows = 32;
// Up to this many rows of x, f32/f16/bf16 products stream each weight row once (GEMV-like).
constexpr int64_t kStreamRows = 4;

}  // namespace

void gemm(base::DataType dtype, const WeightRef& w, const float* x, int64_t m, int64_t n, int64_t k,
          float* out) {
  const IsaKernels& kernels = kernels_for(base::cpu_isa());
  if (dtype != base::DataType::kI8 && m <= kStreamRows) {
    // A few rows (batched decode of a few sequences): stream each weight row once, as the GEMV
    // does, one contiguous block of rows per thread.
    const StreamRowsFn rows = dtype == base::DataType::kF32   ? kernels.stream_f32
                              : dtype == base::DataType::kF16 ? kernels.stream_f16
                                                              : kernels.stream_bf16;
#pragma omp parallel
    {
      const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
      rows(w, x, m, out, n, n * t / threads, n * (t + 1) / threads, k);
    }
    return;
  }
  // Blocks of weight rows whose f32 form stays in L2 (~256 KiB here) while every row of x passes:
  // 64 rows of k = 4864 (1.2 MB) ran the f32 down projection at 42% of the FMA peak, 12 rows at
  // the 72% of the other shapes.
  const int64_t l2_rows = std::clamp<int64_t>((int64_t(256) << 10) / (4 * k) / 4 * 4, 4, 64);
  if (dtype == base::DataType::kF32) {
#pragma omp parallel for schedule(static)
    for (int64_t r0 = 0; r0 < n; r0 += l2_rows) {
      kernels.gemm_rows(x, m, static_cast<const float*>(w.data) + r0 * k, std::min(l2_rows, n - r0),
                        k, out + r0, n);
    }
    return;
  }
  if ((dtype == base::DataType::kF16 || dtype == base::DataType::kBF16) && m <= kInPlaceRows) {
    const GemmHalfRowsFn rows =
        dtype == base::DataType::kF16 ? kernels.gemm_f16_rows : kernels.gemm_bf16_rows;
#pragma omp parallel for schedule(static)
    for (int64_t r0 = 0; r0 < n; r0 += kBatchBlockRows) {
      rows(x, m, static_cast<const uint16_t*>(w.data) + r0 * k, std::min(kBatchBlockRows, n - r0),
           k, out + r0, n);
    }
    return;
  }
  if (dtype == base::DataType::kF16 || dtype == base::DataType::kBF16) {
    const DequantRowsFn dequant = dequant_rows_kernel(dtype, base::cpu_isa());
    // The widened tile must stay in L2 too: written out to memory, widening the weights cost a
    // third of the bf16 prefill (perf: 32% in rows_bf16 with 64-row tiles at k = 4864).
    const int64_t tile_rows = l2_rows;
#pragma omp parallel
    {
      // Nothing per token: each thread's tile is kept, and grows only for a larger matrix.
      static thread_local std::vector<float> tile;
      if (tile.size() < static_cast<size_t>(tile_rows * k)) tile.resize(tile_rows * k);
#pragma omp for schedule(static)
      for (int64_t r0 = 0; r0 < n; r0 += tile_rows) {
        const int64_t rows = std::min(tile_rows, n - r0);
        dequant(w, r0, r0 + rows, k, tile.data());
        kernels.gemm_rows(x, m, tile.data(), rows, k, out + r0, n);
      }
    }
    return;
  }
  if (dtype != base::DataType::kI8) {
    throw base::Unsupported(std::string("no batched CPU kernel for dtype ") +
                            base::dtype_name(dtype));
  }
  // Grow-only, so nothing is allocated per call once the largest input has been seen.
  static thread_local std::vector<float> group_sums;
  if (w.offsets != nullptr) {
    const int64_t groups = k / w.group_size;
    if (static_cast<int64_t>(group_sums.size()) < m * groups) group_sums.resize(m * groups);
    for (int64_t i = 0; i < m; ++i)
      x_group_sums(x + i * k, k, w.group_size, group_sums.data() + i * groups);
  }
  const float* sums = group_sums.data();
#pragma omp parallel for schedule(static)
  for (int64_t r0 = 0; r0 < n; r0 += kBatchBlockRows)
    kernels.batch_i8(w, x, m, sums, out, n, r0, std::min(r0 + kBatchBlockRows, n), k);
}

void gemv(base::DataType dtype, const WeightRef& w, const float* x, float* y, int64_t n,
          int64_t k) {
  gemv_group(dtype, &w, x, &y, &n, 1, k);
}

void gemv_group(base::DataType dtype, const WeightRef* w, const float* x, float* const* ys,
                const int64_t* n, int count, int64_t k) {
  const GemvRowsFn rows = gemv_rows_kernel(dtype, base::cpu_isa());
  if (rows == nullptr) {
    throw base::Unsupported(std::string("no ") + base::isa_name(base::cpu_isa()) +
                            " GEMV kernel for dtype " + base::dtype_name(dtype));
  }
  // Sums of x per group, for the offsets of asymmetric int8 (grow-only: nothing is allocated
  // per token once the largest matrix has been seen). All weights of a group share x.
  static thread_local std::vector<float> group_sums;
  const WeightRef* with_offsets = nullptr;
  for (int i = 0; i < count; ++i)
    if (w[i].offsets != nullptr) with_offsets = &w[i];
  if (dtype == base::DataType::kI8 && with_offsets != nullptr) {
    const int64_t groups = k / with_offsets->group_size;
    if (static_cast<int64_t>(group_sums.size()) < groups) group_sums.resize(groups);
    x_group_sums(x, k, with_offsets->group_size, group_sums.data());
  }
  const float* sums = group_sums.data();
  parallel_row_spans(
      n, count, [&](int i, int64_t from, int64_t to) { rows(w[i], x, sums, ys[i], from, to, k); });
}

}  // namespace infer::kernels::cpu

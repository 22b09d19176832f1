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
      return avx512_bf16_kernels();
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

GemmRowsFn gemm_rows_kernel(base::CpuIsa isa) { return kernels_for(isa).gemm_rows; }
// Blocks of 64 weight rows: enough work per block for the threads to stay balanced.
constexpr int64_t kGemmBlockRows = 64;

void gemm(GemmRowsFn gemm, const float* x, int64_t m, const float* w, int64_t n, int64_t k,
          float* out) {
#pragma omp parallel for schedule(static)
  for (int64_t r0 = 0; r0 < n; r0 += kGemmBlockRows)
    gemm(x, m, w + r0 * k, std::min(kGemmBlockRows, n - r0), k, out + r0, n);
}

bool gemm_bf16(const float* x, int64_t m, const uint16_t* w, int64_t n, int64_t k, float* out) {
  const IsaKernels& kernels = kernels_for(base::cpu_isa());
  if (kernels.gemm_bf16 == nullptr) return false;
  // Grow-only, so nothing is allocated per call once the largest input has been seen.
  static thread_local std::vector<uint16_t> pairs;
  const int64_t stride = bf16_pairs_stride(k);
  if (static_cast<int64_t>(pairs.size()) < m * stride) pairs.resize(m * stride);
  uint16_t* x_pairs = pairs.data();
  // One region: each thread splits its share of the rows of x, and after the barrier of the
  // split every thread's blocks read all of them.
#pragma omp parallel
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    kernels.split_bf16(x, m * t / threads, m * (t + 1) / threads, k, x_pairs);
#pragma omp barrier
#pragma omp for schedule(static)
    for (int64_t r0 = 0; r0 < n; r0 += kGemmBlockRows)
      kernels.gemm_bf16(x_pairs, m, w + r0 * k, std::min(kGemmBlockRows, n - r0), k, out + r0, n);
  }
  return true;
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
    const int64_t size = with_offsets->group_size, groups = k / size;
    if (static_cast<int64_t>(group_sums.size()) < groups) group_sums.resize(groups);
    for (int64_t g = 0; g < groups; ++g) {
      float s = 0;
      for (int64_t c = g * size; c < (g + 1) * size; ++c) s += x[c];
      group_sums[g] = s;
    }
  }
  const float* sums = group_sums.data();
  int64_t total = 0;
  for (int i = 0; i < count; ++i) total += n[i];
    // Each thread streams one contiguous block of the rows of all weights, taken in order.
#pragma omp parallel
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t begin = total * t / threads, end = total * (t + 1) / threads;
    int64_t first_row = 0;  // of weight i, in the concatenation
    for (int i = 0; i < count && first_row < end; first_row += n[i], ++i) {
      const int64_t from = std::max(begin, first_row) - first_row;
      const int64_t to = std::min(end, first_row + n[i]) - first_row;
      if (from < to) rows(w[i], x, sums, ys[i], from, to, k);
    }
  }
}

}  // namespace infer::kernels::cpu

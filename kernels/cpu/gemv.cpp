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

void gemv(base::DataType dtype, const WeightRef& w, const float* x, float* y, int64_t n,
          int64_t k) {
  const GemvRowsFn rows = gemv_rows_kernel(dtype, base::cpu_isa());
  if (rows == nullptr) {
    throw base::Unsupported(std::string("no ") + base::isa_name(base::cpu_isa()) +
                            " GEMV kernel for dtype " + base::dtype_name(dtype));
  }
  // Sums of x per group, for the offsets of asymmetric int8 (grow-only: nothing is allocated
  // per token once the largest matrix has been seen).
  static thread_local std::vector<float> group_sums;
  if (dtype == base::DataType::kI8 && w.offsets != nullptr) {
    const int64_t groups = k / w.group_size;
    if (static_cast<int64_t>(group_sums.size()) < groups) group_sums.resize(groups);
    for (int64_t g = 0; g < groups; ++g) {
      float s = 0;
      for (int64_t c = g * w.group_size; c < (g + 1) * w.group_size; ++c) s += x[c];
      group_sums[g] = s;
    }
  }
  const float* sums = group_sums.data();
  // Each thread streams one contiguous block of rows.
#pragma omp parallel
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t begin = n * t / threads;
    const int64_t end = n * (t + 1) / threads;
    if (begin < end) rows(w, x, sums, y, begin, end, k);
  }
}

}  // namespace infer::kernels::cpu

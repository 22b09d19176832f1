#include <cmath>

#include "infer/kernels/registry.h"

namespace infer::kernels {
namespace {

void rmsnorm_f32_cpu(const KernelContext&, const float* x, const float* residual, float* sum,
                     const void* weight, float* out, int64_t rows, int64_t dim, float eps) {
  const float* w = static_cast<const float*>(weight);
#pragma omp parallel for if (rows > 1)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    if (residual != nullptr) {
      // The sum is formed (and rounded) as a separate add would, then normalised from `sum`.
      float* sr = sum + r * dim;
      const float* rr = residual + r * dim;
      for (int64_t i = 0; i < dim; ++i) sr[i] = xr[i] + rr[i];
      xr = sr;
    }
    float* orow = out + r * dim;
    float sum_sq = 0.f;
    for (int64_t i = 0; i < dim; ++i) sum_sq += xr[i] * xr[i];
    const float scale = 1.f / std::sqrt(sum_sq / static_cast<float>(dim) + eps);
    for (int64_t i = 0; i < dim; ++i) orow[i] = xr[i] * scale * w[i];
  }
}

INFER_REGISTER_KERNEL(RmsNormOp, base::DeviceType::kCPU, base::DataType::kF32, rmsnorm_f32_cpu);

}  // namespace
}  // namespace infer::kernels

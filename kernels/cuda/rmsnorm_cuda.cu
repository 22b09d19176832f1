#include "cuda_launch.cuh"
#include "infer/kernels/registry.h"

namespace infer::kernels::cuda {
namespace {

// A block per row. With a residual, each thread forms and stores the sums of its own columns
// and later reads back only those, so no barrier is needed between.
__global__ void rmsnorm_kernel(const float* x, const float* residual, float* sum, const float* w,
                               float* out, int64_t dim, float eps) {
  const int64_t offset = blockIdx.x * dim;
  const float* xr = x + offset;
  if (residual != nullptr) {
    for (int64_t i = threadIdx.x; i < dim; i += blockDim.x)
      sum[offset + i] = xr[i] + residual[offset + i];
    xr = sum + offset;
  }
  float* orow = out + offset;
  float sum_sq = 0.f;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) sum_sq += xr[i] * xr[i];
  const float scale = rsqrtf(block_sum(sum_sq) / static_cast<float>(dim) + eps);
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) orow[i] = xr[i] * scale * w[i];
}

void rmsnorm_f32_cuda(const KernelContext& ctx, const float* x, const float* residual, float* sum,
                      const void* weight, float* out, int64_t rows, int64_t dim, float eps) {
  if (rows == 0) return;
  rmsnorm_kernel<<<static_cast<unsigned>(rows), 256, 0, stream_of(ctx)>>>(
      x, residual, sum, static_cast<const float*>(weight), out, dim, eps);
  INFER_CUDA_CHECK_LAUNCH();
}

INFER_REGISTER_KERNEL(RmsNormOp, base::DeviceType::kCUDA, base::DataType::kF32, rmsnorm_f32_cuda);

}  // namespace
}  // namespace infer::kernels::cuda

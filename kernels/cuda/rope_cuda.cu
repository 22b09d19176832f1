#include "cuda_launch.cuh"
#include "infer/kernels/registry.h"

namespace infer::kernels::cuda {
namespace {

// One thread per rotated pair (token, head, i < head_dim / 2).
__global__ void rope_kernel(float* x, int64_t n_pairs, int64_t n_heads, int64_t half,
                            int64_t row_stride, const int32_t* positions, const float* cos,
                            const float* sin) {
  const int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (idx >= n_pairs) return;
  const int64_t i = idx % half;
  const int64_t h = (idx / half) % n_heads;
  const int64_t t = idx / (half * n_heads);
  float* v = x + t * row_stride + h * 2 * half;
  const float c = cos[static_cast<int64_t>(positions[t]) * half + i];
  const float s = sin[static_cast<int64_t>(positions[t]) * half + i];
  const float x1 = v[i];
  const float x2 = v[i + half];
  v[i] = x1 * c - x2 * s;
  v[i + half] = x2 * c + x1 * s;
}

void rope_f32_cuda(const KernelContext& ctx, float* x, int64_t n_tokens, int64_t n_heads,
                   int64_t head_dim, int64_t row_stride, const int32_t* positions, const float* cos,
                   const float* sin) {
  const int64_t half = head_dim / 2;
  const int64_t n_pairs = n_tokens * n_heads * half;
  if (n_pairs == 0) return;
  rope_kernel<<<blocks_for(n_pairs, 256), 256, 0, stream_of(ctx)>>>(
      x, n_pairs, n_heads, half, row_stride, positions, cos, sin);
  INFER_CUDA_CHECK_LAUNCH();
}

INFER_REGISTER_KERNEL(RopeOp, base::DeviceType::kCUDA, base::DataType::kF32, rope_f32_cuda);

}  // namespace
}  // namespace infer::kernels::cuda

#include "cuda_launch.cuh"
#include "infer/kernels/registry.h"

namespace infer::kernels::cuda {
namespace {

// A block per token: its threads take the rotated pairs of q (in place) and of k (into the pool
// row of the token's slot), then the values of v (copied into theirs).
__global__ void rope_kv_kernel(float* q, const float* k, const float* v, int64_t n_heads,
                               int64_t n_kv_heads, int64_t head_dim, const int32_t* positions,
                               const float* cos, const float* sin, const int32_t* slots,
                               float* k_pool, float* v_pool) {
  const int64_t t = blockIdx.x, half = head_dim / 2;
  const int64_t kv_dim = n_kv_heads * head_dim;
  const float* c = cos + static_cast<int64_t>(positions[t]) * half;
  const float* s = sin + static_cast<int64_t>(positions[t]) * half;
  const int64_t slot = slots[t];
  float* qt = q + t * n_heads * head_dim;
  for (int64_t p = threadIdx.x; p < (n_heads + n_kv_heads) * half; p += blockDim.x) {
    const int64_t h = p / half, i = p % half;
    const bool is_q = h < n_heads;
    const float* from = is_q ? qt + h * head_dim : k + t * kv_dim + (h - n_heads) * head_dim;
    float* to = is_q ? qt + h * head_dim : k_pool + slot * kv_dim + (h - n_heads) * head_dim;
    const float x1 = from[i];
    const float x2 = from[i + half];
    to[i] = x1 * c[i] - x2 * s[i];
    to[i + half] = x2 * c[i] + x1 * s[i];
  }
  for (int64_t i = threadIdx.x; i < kv_dim; i += blockDim.x)
    v_pool[slot * kv_dim + i] = v[t * kv_dim + i];
}

void rope_kv_f32_cuda(const KernelContext& ctx, float* q, const float* k, const float* v,
                      int64_t n_tokens, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim,
                      const int32_t* positions, const float* cos, const float* sin,
                      const int32_t* slots, float* k_pool, float* v_pool) {
  if (n_tokens == 0) return;
  rope_kv_kernel<<<static_cast<unsigned>(n_tokens), 256, 0, stream_of(ctx)>>>(
      q, k, v, n_heads, n_kv_heads, head_dim, positions, cos, sin, slots, k_pool, v_pool);
  INFER_CUDA_CHECK_LAUNCH();
}

INFER_REGISTER_KERNEL(RopeKvOp, base::DeviceType::kCUDA, base::DataType::kF32, rope_kv_f32_cuda);

}  // namespace
}  // namespace infer::kernels::cuda

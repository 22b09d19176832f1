// Simple causal GQA attention over the paged KV pool: one block per (row, head), threads over
// head_dim, keys walked in position order with an online softmax. Correct for any context
// length; speed work (flash decoding) comes with the GPU issue.
#include <cmath>

#include "cuda_launch.cuh"
#include "infer/kernels/registry.h"

namespace infer::kernels::cuda {
namespace {

__global__ void attention_kernel(const float* q, const float* k_pool, const float* v_pool,
                                 float* out, KvPages pages, int64_t n_heads, int64_t n_kv_heads,
                                 int64_t head_dim, float scale) {
  const int64_t t = blockIdx.x / n_heads;
  const int64_t h = blockIdx.x % n_heads;
  const int64_t kvh = h / (n_heads / n_kv_heads);
  const int64_t kv_stride = n_kv_heads * head_dim;
  const float* qh = q + (t * n_heads + h) * head_dim;
  const int32_t* table = pages.tables + pages.table_offsets[t];
  const int d = threadIdx.x;  // blockDim.x >= head_dim, rounded up to a warp multiple
  const bool active = d < head_dim;
  float running_max = -INFINITY;
  float norm = 0.f;
  float acc = 0.f;
  const int64_t n_keys = static_cast<int64_t>(pages.positions[t]) + 1;
  for (int64_t j = 0; j < n_keys; ++j) {
    const int64_t row =
        static_cast<int64_t>(table[j / pages.block_size]) * pages.block_size + j % pages.block_size;
    const float* kj = k_pool + row * kv_stride + kvh * head_dim;
    const float* vj = v_pool + row * kv_stride + kvh * head_dim;
    const float score = block_sum(active ? qh[d] * kj[d] : 0.f) * scale;
    const float new_max = fmaxf(running_max, score);
    const float correction = expf(running_max - new_max);
    const float p = expf(score - new_max);
    norm = norm * correction + p;
    acc = acc * correction + (active ? p * vj[d] : 0.f);
    running_max = new_max;
  }
  if (active) out[(t * n_heads + h) * head_dim + d] = acc / norm;
}

void attention_f32_cuda(const KernelContext& ctx, const float* q, const float* k_pool,
                        const float* v_pool, float* out, int64_t n_tokens, const KvPages& pages,
                        int64_t n_heads, int64_t n_kv_heads, int64_t head_dim) {
  if (n_tokens == 0) return;
  const int threads = static_cast<int>((head_dim + 31) / 32 * 32);
  const float scale = 1.f / std::sqrt(static_cast<float>(head_dim));
  attention_kernel<<<static_cast<unsigned>(n_tokens * n_heads), threads, 0, stream_of(ctx)>>>(
      q, k_pool, v_pool, out, pages, n_heads, n_kv_heads, head_dim, scale);
  INFER_CUDA_CHECK_LAUNCH();
}

// One block per copied row.
__global__ void copy_rows_kernel(const float* src, const int32_t* rows, float* dst, int64_t cols) {
  const float* from = src + static_cast<int64_t>(blockIdx.x) * cols;
  float* to = dst + static_cast<int64_t>(rows[blockIdx.x]) * cols;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) to[c] = from[c];
}

void copy_rows_f32_cuda(const KernelContext& ctx, const float* src, const int32_t* rows, float* dst,
                        int64_t n, int64_t cols) {
  if (n == 0) return;
  copy_rows_kernel<<<static_cast<unsigned>(n), 128, 0, stream_of(ctx)>>>(src, rows, dst, cols);
  INFER_CUDA_CHECK_LAUNCH();
}

INFER_REGISTER_KERNEL(AttentionOp, base::DeviceType::kCUDA, base::DataType::kF32,
                      attention_f32_cuda);
INFER_REGISTER_KERNEL(CopyRowsOp, base::DeviceType::kCUDA, base::DataType::kF32,
                      copy_rows_f32_cuda);

}  // namespace
}  // namespace infer::kernels::cuda

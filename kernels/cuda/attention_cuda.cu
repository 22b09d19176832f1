// Causal GQA attention over the paged KV pool, flash-decoding style: the keys of each query row
// are split into chunks, and a block of 4 warps takes one (row, KV head, chunk); each warp walks
// its keys with an online softmax for every query head of the KV head's group, so a key and a
// value are read once per group, not once per query head. The block's warps are merged in
// shared memory; when a row's keys span several chunks, a second kernel merges the chunks. The
// number of chunks is chosen so that even one decode row fills the GPU. Decode rows and prompt
// rows (each with its own causal length) go through the same kernels.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "cuda_launch.cuh"
#include "infer/base/error.h"
#include "infer/kernels/registry.h"
#include "scratch.cuh"

namespace infer::kernels::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kMaxGroup = 8;       // query heads whose state a warp keeps in registers at once
constexpr int kMinChunkKeys = 64;  // fewer keys per block would be spent on merging
constexpr int64_t kMaxHeadDim = 256;

struct AttentionShape {
  int n_heads, n_kv_heads, head_dim, n_chunks;
  float scale;
};

__device__ inline float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Grid: (row × KV head, chunk). Writes the row's output directly when there is one chunk, else
// the chunk's (max, sum, unnormalised accumulator) per query head into the partial buffers.
// Shared memory: kWarps × kMaxGroup × (2 + head_dim) floats.
template <int kDimsPerLane>
__global__ void __launch_bounds__(kWarps * 32)
    attention_chunk_kernel(const float* q, const float* k_pool, const float* v_pool, float* out,
                           float* partial_acc, float* partial_max_sum, KvPages pages,
                           AttentionShape shape) {
  extern __shared__ float shared[];
  const int row = blockIdx.x / shape.n_kv_heads;
  const int kv_head = blockIdx.x % shape.n_kv_heads;
  const int chunk = blockIdx.y;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int group = shape.n_heads / shape.n_kv_heads;
  const int head_dim = shape.head_dim;
  const int64_t kv_stride = static_cast<int64_t>(shape.n_kv_heads) * head_dim;
  const int n_keys = pages.positions[row] + 1;
  // Each row splits its own keys into the n_chunks chunks (of at least kMinChunkKeys keys; the
  // chunks past its keys are empty), so the launch does not depend on the rows' lengths.
  const int chunk_keys = max(kMinChunkKeys, (n_keys + shape.n_chunks - 1) / shape.n_chunks);
  const int key_begin = chunk * chunk_keys;
  const int key_end = min(n_keys, key_begin + chunk_keys);
  const int32_t* table = pages.tables + pages.table_offsets[row];
  const int block_size = static_cast<int>(pages.block_size);
  float* shared_max_sum = shared;                       // [kWarps][kMaxGroup][2]
  float* shared_acc = shared + kWarps * kMaxGroup * 2;  // [kWarps][kMaxGroup][head_dim]

  for (int head0 = 0; head0 < group; head0 += kMaxGroup) {
    const int heads = min(kMaxGroup, group - head0);
    const int first_head = kv_head * group + head0;  // query head of slot 0
    float qv[kMaxGroup][kDimsPerLane], acc[kMaxGroup][kDimsPerLane];
    float running_max[kMaxGroup], sum[kMaxGroup];
#pragma unroll
    for (int g = 0; g < kMaxGroup; ++g) {
      running_max[g] = -INFINITY;
      sum[g] = 0.f;
#pragma unroll
      for (int i = 0; i < kDimsPerLane; ++i) {
        const int d = lane + 32 * i;
        const float* qh =
            q + (static_cast<int64_t>(row) * shape.n_heads + first_head + g) * head_dim;
        qv[g][i] = g < heads && d < head_dim ? qh[d] * shape.scale : 0.f;
        acc[g][i] = 0.f;
      }
    }
    for (int j = key_begin + warp; j < key_end; j += kWarps) {
      const int64_t slot =
          static_cast<int64_t>(table[j / block_size]) * block_size + j % block_size;
      const float* kj = k_pool + slot * kv_stride + static_cast<int64_t>(kv_head) * head_dim;
      const float* vj = v_pool + slot * kv_stride + static_cast<int64_t>(kv_head) * head_dim;
      float kr[kDimsPerLane], vr[kDimsPerLane];
#pragma unroll
      for (int i = 0; i < kDimsPerLane; ++i) {
        const int d = lane + 32 * i;
        kr[i] = d < head_dim ? kj[d] : 0.f;
        vr[i] = d < head_dim ? vj[d] : 0.f;
      }
#pragma unroll
      for (int g = 0; g < kMaxGroup; ++g) {
        if (g >= heads) break;
        float dot = 0.f;
#pragma unroll
        for (int i = 0; i < kDimsPerLane; ++i) dot += qv[g][i] * kr[i];
        const float score = warp_sum(dot);
        const float new_max = fmaxf(running_max[g], score);
        const float correction = expf(running_max[g] - new_max);  // 0 for the first key
        const float p = expf(score - new_max);
        sum[g] = sum[g] * correction + p;
#pragma unroll
        for (int i = 0; i < kDimsPerLane; ++i) acc[g][i] = acc[g][i] * correction + p * vr[i];
        running_max[g] = new_max;
      }
    }
    // Merge the warps: each leaves its state in shared memory (a warp without keys has sum 0).
#pragma unroll
    for (int g = 0; g < kMaxGroup; ++g) {
      if (g >= heads) break;
      if (lane == 0) {
        shared_max_sum[(warp * kMaxGroup + g) * 2] = running_max[g];
        shared_max_sum[(warp * kMaxGroup + g) * 2 + 1] = sum[g];
      }
#pragma unroll
      for (int i = 0; i < kDimsPerLane; ++i) {
        const int d = lane + 32 * i;
        if (d < head_dim) shared_acc[(warp * kMaxGroup + g) * head_dim + d] = acc[g][i];
      }
    }
    __syncthreads();
    for (int idx = threadIdx.x; idx < heads * head_dim; idx += blockDim.x) {
      const int g = idx / head_dim, d = idx % head_dim;
      float block_max = -INFINITY;
      for (int w = 0; w < kWarps; ++w)
        if (shared_max_sum[(w * kMaxGroup + g) * 2 + 1] > 0.f)
          block_max = fmaxf(block_max, shared_max_sum[(w * kMaxGroup + g) * 2]);
      float block_sum_ = 0.f, block_acc = 0.f;
      for (int w = 0; w < kWarps; ++w) {
        const float w_sum = shared_max_sum[(w * kMaxGroup + g) * 2 + 1];
        if (w_sum == 0.f) continue;
        const float factor = expf(shared_max_sum[(w * kMaxGroup + g) * 2] - block_max);
        block_sum_ += w_sum * factor;
        block_acc += shared_acc[(w * kMaxGroup + g) * head_dim + d] * factor;
      }
      const int64_t head_row = static_cast<int64_t>(row) * shape.n_heads + first_head + g;
      if (shape.n_chunks == 1) {
        out[head_row * head_dim + d] = block_acc / block_sum_;  // chunk 0 holds key 0: sum > 0
      } else {
        const int64_t at = head_row * shape.n_chunks + chunk;
        partial_acc[at * head_dim + d] = block_acc;
        if (d == 0) {
          partial_max_sum[2 * at] = block_max;
          partial_max_sum[2 * at + 1] = block_sum_;  // 0 for a chunk past the row's keys
        }
      }
    }
    __syncthreads();  // shared memory is reused by the next group of heads
  }
}

// Grid: row × query head; merges the chunks of a row (those past its keys have sum 0).
__global__ void attention_merge_kernel(const float* partial_acc, const float* partial_max_sum,
                                       float* out, int n_chunks, int head_dim) {
  const int64_t head_row = blockIdx.x;
  const float* max_sum = partial_max_sum + 2 * head_row * n_chunks;
  float merged_max = -INFINITY;
  for (int c = 0; c < n_chunks; ++c)
    if (max_sum[2 * c + 1] > 0.f) merged_max = fmaxf(merged_max, max_sum[2 * c]);
  for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
    float merged_sum = 0.f, merged_acc = 0.f;
    for (int c = 0; c < n_chunks; ++c) {
      if (max_sum[2 * c + 1] == 0.f) continue;
      const float factor = expf(max_sum[2 * c] - merged_max);
      merged_sum += max_sum[2 * c + 1] * factor;
      merged_acc += partial_acc[(head_row * n_chunks + c) * head_dim + d] * factor;
    }
    out[head_row * head_dim + d] = merged_acc / merged_sum;
  }
}

int multiprocessor_count() {
  static const int count = [] {
    int device = 0, n = 0;
    INFER_CUDA_CHECK(cudaGetDevice(&device));
    INFER_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device));
    return n;
  }();
  return count;
}

template <int kDimsPerLane>
void launch_chunks(cudaStream_t stream, dim3 grid, size_t shared_bytes, const float* q,
                   const float* k_pool, const float* v_pool, float* out, float* partial_acc,
                   float* partial_max_sum, const KvPages& pages, const AttentionShape& shape) {
  attention_chunk_kernel<kDimsPerLane><<<grid, kWarps * 32, shared_bytes, stream>>>(
      q, k_pool, v_pool, out, partial_acc, partial_max_sum, pages, shape);
}

void attention_f32_cuda(const KernelContext& ctx, const float* q, const float* k_pool,
                        const float* v_pool, float* out, int64_t n_tokens, const KvPages& pages,
                        int64_t n_heads, int64_t n_kv_heads, int64_t head_dim) {
  if (n_tokens == 0) return;
  if (head_dim > kMaxHeadDim) {
    throw base::Unsupported("the CUDA attention kernel takes head_dim up to " +
                            std::to_string(kMaxHeadDim) + "; this model has " +
                            std::to_string(head_dim));
  }
  const cudaStream_t stream = stream_of(ctx);
  // Enough chunks that the blocks fill every multiprocessor twice over; no more than the longest
  // row has chunks of kMinChunkKeys keys, unless the launch must not depend on the rows' lengths
  // (a CUDA graph replays it for the next steps).
  const int64_t row_blocks = n_tokens * n_kv_heads;
  int64_t n_chunks =
      std::max<int64_t>(1, (2 * multiprocessor_count() + row_blocks - 1) / row_blocks);
  if (!ctx.fixed_launch_shapes)
    n_chunks = std::min(n_chunks, (pages.max_keys + kMinChunkKeys - 1) / kMinChunkKeys);
  AttentionShape shape;
  shape.n_heads = static_cast<int>(n_heads);
  shape.n_kv_heads = static_cast<int>(n_kv_heads);
  shape.head_dim = static_cast<int>(head_dim);
  shape.n_chunks = static_cast<int>(n_chunks);
  shape.scale = 1.f / std::sqrt(static_cast<float>(head_dim));

  const dim3 grid(static_cast<unsigned>(row_blocks), static_cast<unsigned>(shape.n_chunks));
  const size_t shared_bytes = sizeof(float) * kWarps * kMaxGroup * (2 + head_dim);
  std::optional<Scratch> partial_acc, partial_max_sum;
  if (shape.n_chunks > 1) {
    const size_t head_rows = static_cast<size_t>(n_tokens * n_heads * shape.n_chunks);
    partial_acc.emplace(head_rows * head_dim * sizeof(float), stream);
    partial_max_sum.emplace(head_rows * 2 * sizeof(float), stream);
  }
  float* acc = partial_acc ? partial_acc->data() : nullptr;
  float* max_sum = partial_max_sum ? partial_max_sum->data() : nullptr;
  const int dims_per_lane = static_cast<int>((head_dim + 31) / 32);
  if (dims_per_lane <= 1) {
    launch_chunks<1>(stream, grid, shared_bytes, q, k_pool, v_pool, out, acc, max_sum, pages,
                     shape);
  } else if (dims_per_lane <= 2) {
    launch_chunks<2>(stream, grid, shared_bytes, q, k_pool, v_pool, out, acc, max_sum, pages,
                     shape);
  } else if (dims_per_lane <= 4) {
    launch_chunks<4>(stream, grid, shared_bytes, q, k_pool, v_pool, out, acc, max_sum, pages,
                     shape);
  } else {
    launch_chunks<8>(stream, grid, shared_bytes, q, k_pool, v_pool, out, acc, max_sum, pages,
                     shape);
  }
  INFER_CUDA_CHECK_LAUNCH();
  if (shape.n_chunks > 1) {
    const int threads = static_cast<int>(std::min<int64_t>(kMaxHeadDim, (head_dim + 31) / 32 * 32));
    attention_merge_kernel<<<static_cast<unsigned>(n_tokens * n_heads), threads, 0, stream>>>(
        acc, max_sum, out, shape.n_chunks, shape.head_dim);
    INFER_CUDA_CHECK_LAUNCH();
  }
}

INFER_REGISTER_KERNEL(AttentionOp, base::DeviceType::kCUDA, base::DataType::kF32,
                      attention_f32_cuda);

}  // namespace
}  // namespace infer::kernels::cuda

// Causal GQA attention over a paged KV pool with an online (streaming) softmax over tiles of
// keys: each (row, head) pair scores one tile of keys, rescales its running sum once per tile,
// and accumulates the tile's values, so no more than a tile of scores exists at a time and
// nothing is allocated per call (each thread keeps one grow-only head-sized accumulator). The
// keys of a row are visited in position order whatever blocks hold them, so a row's result does
// not depend on the batch around it or on where its blocks sit in the pool.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "infer/kernels/registry.h"

namespace infer::kernels {
namespace {

constexpr int64_t kKeyTile = 64;

void attention_f32_cpu(const KernelContext&, const float* q, const float* k_pool,
                       const float* v_pool, float* out, int64_t n_tokens, const KvPages& pages,
                       int64_t n_heads, int64_t n_kv_heads, int64_t head_dim) {
  const int64_t group = n_heads / n_kv_heads;
  const int64_t kv_stride = n_kv_heads * head_dim;
  const int64_t block_size = pages.block_size;
  const float scale = 1.f / std::sqrt(static_cast<float>(head_dim));
#pragma omp parallel
  {
    static thread_local std::vector<float> acc_buffer;
    if (static_cast<int64_t>(acc_buffer.size()) < head_dim) acc_buffer.resize(head_dim);
    float* acc = acc_buffer.data();
    float scores[kKeyTile];
    const float* rows[kKeyTile];  // offsets of the tile's keys in the pool (same for values)
#pragma omp for collapse(2) schedule(static)
    for (int64_t t = 0; t < n_tokens; ++t) {
      for (int64_t h = 0; h < n_heads; ++h) {
        const float* qh = q + (t * n_heads + h) * head_dim;
        const int32_t* table = pages.tables + pages.table_offsets[t];
        const int64_t kv_offset = (h / group) * head_dim;
        const int64_t n_keys = int64_t{pages.positions[t]} + 1;
        float running_max = -std::numeric_limits<float>::infinity();
        float norm = 0.f;
        std::fill(acc, acc + head_dim, 0.f);
        for (int64_t j0 = 0; j0 < n_keys; j0 += kKeyTile) {
          const int64_t tile = std::min(kKeyTile, n_keys - j0);
          float tile_max = -std::numeric_limits<float>::infinity();
          for (int64_t j = 0; j < tile; ++j) {
            const int64_t p = j0 + j;
            const int64_t row = int64_t{table[p / block_size]} * block_size + p % block_size;
            rows[j] = k_pool + row * kv_stride + kv_offset;
            const float* kj = rows[j];
            float score = 0.f;
#pragma omp simd reduction(+ : score)
            for (int64_t d = 0; d < head_dim; ++d) score += qh[d] * kj[d];
            scores[j] = score * scale;
            tile_max = std::max(tile_max, scores[j]);
          }
          const float new_max = std::max(running_max, tile_max);
          const float correction = std::exp(running_max - new_max);  // 0 on the first tile
          if (correction != 1.f) {
            norm *= correction;
#pragma omp simd
            for (int64_t d = 0; d < head_dim; ++d) acc[d] *= correction;
          }
          running_max = new_max;
          for (int64_t j = 0; j < tile; ++j) {
            const float p = std::exp(scores[j] - running_max);
            const float* vj = v_pool + (rows[j] - k_pool);
            norm += p;
#pragma omp simd
            for (int64_t d = 0; d < head_dim; ++d) acc[d] += p * vj[d];
          }
        }
        float* oh = out + (t * n_heads + h) * head_dim;
        for (int64_t d = 0; d < head_dim; ++d) oh[d] = acc[d] / norm;
      }
    }
  }
}

INFER_REGISTER_KERNEL(AttentionOp, base::DeviceType::kCPU, base::DataType::kF32, attention_f32_cpu);

}  // namespace
}  // namespace infer::kernels

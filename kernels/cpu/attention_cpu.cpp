// Causal GQA attention with an online (streaming) softmax: each (token, head) pair walks its keys
// once, keeping a running max, normaliser and weighted sum, so no score matrix is materialised
// and nothing is allocated per call beyond one head-sized accumulator.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "infer/kernels/registry.h"

namespace infer::kernels {
namespace {

void attention_f32_cpu(const KernelContext&, const float* q, const float* k_cache,
                       const float* v_cache, float* out, int64_t n_tokens, int64_t start_pos,
                       int64_t n_heads, int64_t n_kv_heads, int64_t head_dim) {
  const int64_t group = n_heads / n_kv_heads;
  const int64_t kv_stride = n_kv_heads * head_dim;
  const float scale = 1.f / std::sqrt(static_cast<float>(head_dim));
#pragma omp parallel
  {
    std::vector<float> acc(head_dim);
#pragma omp for collapse(2) schedule(static)
    for (int64_t t = 0; t < n_tokens; ++t) {
      for (int64_t h = 0; h < n_heads; ++h) {
        const float* qh = q + (t * n_heads + h) * head_dim;
        const int64_t kvh = h / group;
        const int64_t n_keys = start_pos + t + 1;
        float running_max = -std::numeric_limits<float>::infinity();
        float norm = 0.f;
        std::fill(acc.begin(), acc.end(), 0.f);
        for (int64_t j = 0; j < n_keys; ++j) {
          const float* kj = k_cache + j * kv_stride + kvh * head_dim;
          const float* vj = v_cache + j * kv_stride + kvh * head_dim;
          float score = 0.f;
          for (int64_t d = 0; d < head_dim; ++d) score += qh[d] * kj[d];
          score *= scale;
          if (score > running_max) {
            const float correction = std::exp(running_max - score);
            norm *= correction;
            for (int64_t d = 0; d < head_dim; ++d) acc[d] *= correction;
            running_max = score;
          }
          const float p = std::exp(score - running_max);
          norm += p;
          for (int64_t d = 0; d < head_dim; ++d) acc[d] += p * vj[d];
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

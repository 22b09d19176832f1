#include <cstring>

#include "infer/kernels/registry.h"

namespace infer::kernels {
namespace {

// Rotates the pairs (i, i + head_dim / 2) of `heads` heads of `from` into `to` (may be `from`).
void rotate_heads(const float* from, float* to, int64_t heads, int64_t head_dim, const float* c,
                  const float* s) {
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < heads; ++h) {
    const float* a = from + h * head_dim;
    float* b = to + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      const float x1 = a[i];
      const float x2 = a[i + half];
      b[i] = x1 * c[i] - x2 * s[i];
      b[i + half] = x2 * c[i] + x1 * s[i];
    }
  }
}

void rope_kv_f32_cpu(const KernelContext&, float* q, const float* k, const float* v,
                     int64_t n_tokens, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim,
                     const int32_t* positions, const float* cos, const float* sin,
                     const int32_t* slots, float* k_pool, float* v_pool) {
  const int64_t half = head_dim / 2, q_dim = n_heads * head_dim, kv_dim = n_kv_heads * head_dim;
#pragma omp parallel for if (n_tokens > 1)
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* c = cos + int64_t{positions[t]} * half;
    const float* s = sin + int64_t{positions[t]} * half;
    const int64_t slot = slots[t];
    rotate_heads(q + t * q_dim, q + t * q_dim, n_heads, head_dim, c, s);
    rotate_heads(k + t * kv_dim, k_pool + slot * kv_dim, n_kv_heads, head_dim, c, s);
    std::memcpy(v_pool + slot * kv_dim, v + t * kv_dim, static_cast<size_t>(kv_dim) * 4);
  }
}

INFER_REGISTER_KERNEL(RopeKvOp, base::DeviceType::kCPU, base::DataType::kF32, rope_kv_f32_cpu);

}  // namespace
}  // namespace infer::kernels

#include "infer/kernels/registry.h"

namespace infer::kernels {
namespace {

void rope_f32_cpu(const KernelContext&, float* x, int64_t n_tokens, int64_t n_heads,
                  int64_t head_dim, int64_t row_stride, const int32_t* positions, const float* cos,
                  const float* sin) {
  const int64_t half = head_dim / 2;
#pragma omp parallel for collapse(2) if (n_tokens > 1)
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + t * row_stride + h * head_dim;
      const float* c = cos + int64_t{positions[t]} * half;
      const float* s = sin + int64_t{positions[t]} * half;
      for (int64_t i = 0; i < half; ++i) {
        const float x1 = v[i];
        const float x2 = v[i + half];
        v[i] = x1 * c[i] - x2 * s[i];
        v[i + half] = x2 * c[i] + x1 * s[i];
      }
    }
  }
}

INFER_REGISTER_KERNEL(RopeOp, base::DeviceType::kCPU, base::DataType::kF32, rope_f32_cpu);

}  // namespace
}  // namespace infer::kernels

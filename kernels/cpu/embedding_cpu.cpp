#include <cstring>

#include "infer/kernels/registry.h"

namespace infer::kernels {
namespace {

void embedding_f32_cpu(const KernelContext&, const WeightRef& table, const int32_t* ids,
                       int64_t n_tokens, int64_t dim, float* out) {
  const float* rows = static_cast<const float*>(table.data);
  for (int64_t t = 0; t < n_tokens; ++t) {
    std::memcpy(out + t * dim, rows + static_cast<int64_t>(ids[t]) * dim, dim * sizeof(float));
  }
}

INFER_REGISTER_KERNEL(EmbeddingOp, base::DeviceType::kCPU, base::DataType::kF32, embedding_f32_cpu);

}  // namespace
}  // namespace infer::kernels

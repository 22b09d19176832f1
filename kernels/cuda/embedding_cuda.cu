#include "cuda_launch.cuh"
#include "infer/kernels/registry.h"

namespace infer::kernels::cuda {
namespace {

// One block per token: a grid sized by n_tokens, so prompts of any length are covered.
__global__ void embedding_kernel(const float* table, const int32_t* ids, int64_t dim, float* out) {
  const int64_t t = blockIdx.x;
  const float* row = table + static_cast<int64_t>(ids[t]) * dim;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) out[t * dim + i] = row[i];
}

void embedding_f32_cuda(const KernelContext& ctx, const WeightRef& table, const int32_t* ids,
                        int64_t n_tokens, int64_t dim, float* out) {
  if (n_tokens == 0) return;
  embedding_kernel<<<static_cast<unsigned>(n_tokens), 256, 0, stream_of(ctx)>>>(
      static_cast<const float*>(table.data), ids, dim, out);
  INFER_CUDA_CHECK_LAUNCH();
}

INFER_REGISTER_KERNEL(EmbeddingOp, base::DeviceType::kCUDA, base::DataType::kF32,
                      embedding_f32_cuda);

}  // namespace
}  // namespace infer::kernels::cuda

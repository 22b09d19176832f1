// fp32 matmul through cuBLAS. Row-major out[m, n] = x[m, k] · w[n, k]ᵀ is, in cuBLAS's
// column-major terms, outᵀ[n, m] = w[k, n]ᵀ · xᵀ[k, m]. Weights that share x at batch 1 (q/k/v,
// gate/up) go through the warp-per-row GEMV in one launch instead (matmul_stored_cuda.cu).
#include "cublas_handle.cuh"
#include "infer/kernels/registry.h"

namespace infer::kernels::cuda {
namespace {

void matmul_f32_cuda(const KernelContext& ctx, const float* x, const WeightRef& weight, float* out,
                     int64_t m, int64_t n, int64_t k) {
  const float alpha = 1.f;
  const float beta = 0.f;
  INFER_CUBLAS_CHECK(cublasSgemm(
      cublas_handle_for(stream_of(ctx)), CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n),
      static_cast<int>(m), static_cast<int>(k), &alpha, static_cast<const float*>(weight.data),
      static_cast<int>(k), x, static_cast<int>(k), &beta, out, static_cast<int>(n)));
}

INFER_REGISTER_KERNEL(MatmulOp, base::DeviceType::kCUDA, base::DataType::kF32, matmul_f32_cuda);

}  // namespace
}  // namespace infer::kernels::cuda

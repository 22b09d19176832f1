// fp32 matmul: the decode GEMV (m == 1) is libinfer's own SIMD kernel (kernels/cpu/gemv.h); the
// prefill GEMM goes through Armadillo to OpenBLAS. The weight is wrapped in place (no copy): a
// row-major [n, k] matrix is the column-major [k, n] matrix wᵀ, so out (column-major [n, m]) =
// (wᵀ)ᵀ · xᵀ.
#include <armadillo>

#include "gemv.h"

#include "infer/kernels/registry.h"

namespace infer::kernels {
namespace {

void matmul_f32_cpu(const KernelContext&, const float* x, const WeightRef& weight, float* out,
                    int64_t m, int64_t n, int64_t k) {
  if (m == 1) {  // decode: the SIMD GEMV, a little faster than OpenBLAS's sgemv here
    cpu::gemv(base::DataType::kF32, weight, x, out, n, k);
    return;
  }
  if (const cpu::GemmRowsFn gemm = cpu::gemm_rows_kernel(base::cpu_isa())) {
    cpu::gemm(gemm, x, m, static_cast<const float*>(weight.data), n, k, out);
    return;
  }
  const void* w = weight.data;
  // Armadillo's wrapping constructors take non-const pointers but only read through them here.
  const arma::fmat w_t(static_cast<float*>(const_cast<void*>(w)), k, n, /*copy_aux_mem=*/false,
                       /*strict=*/true);
  const arma::fmat x_t(const_cast<float*>(x), k, m, /*copy_aux_mem=*/false, /*strict=*/true);
  arma::fmat out_t(out, n, m, /*copy_aux_mem=*/false, /*strict=*/true);
  out_t = w_t.t() * x_t;
}

INFER_REGISTER_KERNEL(MatmulOp, base::DeviceType::kCPU, base::DataType::kF32, matmul_f32_cpu);

}  // namespace
}  // namespace infer::kernels

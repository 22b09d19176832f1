// fp32 matmul: one row (decode) through the SIMD GEMV, several rows (prefill, batched decode)
// through the batched kernels, which form every row's sums exactly as the GEMV does, so a
// row's result is the same whatever batch it runs in (kernels/cpu/gemv.h).
#include "gemv.h"
#include "infer/kernels/registry.h"

namespace infer::kernels {
namespace {

void matmul_f32_cpu(const KernelContext&, const float* x, const WeightRef& weight, float* out,
                    int64_t m, int64_t n, int64_t k) {
  if (m == 1) {
    cpu::gemv(base::DataType::kF32, weight, x, out, n, k);
    return;
  }
  cpu::gemm(base::DataType::kF32, weight, x, m, n, k, out);
}

INFER_REGISTER_KERNEL(MatmulOp, base::DeviceType::kCPU, base::DataType::kF32, matmul_f32_cpu);

}  // namespace
}  // namespace infer::kernels

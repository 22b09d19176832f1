// Batch-1 matmuls of several weights sharing one input (q/k/v, gate/up): one parallel region
// over the rows of all of them, instead of one fork/join and one barrier per weight.
#include "gemv.h"
#include "infer/kernels/registry.h"

namespace infer::kernels {
namespace {

template <base::DataType kType>
void matmul_group_cpu(const KernelContext& ctx, const float* x, const WeightRef* w,
                      float* const* outs, const int64_t* n, int count, int64_t k) {
  if (kType == base::DataType::kBF16 && ctx.bf16_activations) {
    cpu::gemv_bf16_activations(w, x, outs, n, count, k);
    return;
  }
  cpu::gemv_group(kType, w, x, outs, n, count, k);
}

INFER_REGISTER_KERNEL(MatmulGroupOp, base::DeviceType::kCPU, base::DataType::kF32,
                      matmul_group_cpu<base::DataType::kF32>);
INFER_REGISTER_KERNEL(MatmulGroupOp, base::DeviceType::kCPU, base::DataType::kF16,
                      matmul_group_cpu<base::DataType::kF16>);
INFER_REGISTER_KERNEL(MatmulGroupOp, base::DeviceType::kCPU, base::DataType::kBF16,
                      matmul_group_cpu<base::DataType::kBF16>);
INFER_REGISTER_KERNEL(MatmulGroupOp, base::DeviceType::kCPU, base::DataType::kI8,
                      matmul_group_cpu<base::DataType::kI8>);

}  // namespace
}  // namespace infer::kernels

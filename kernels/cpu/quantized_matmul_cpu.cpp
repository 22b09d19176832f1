// Matmul and embedding for weights stored as f16, bf16 or i8 (group-wise scales). Weights stay
// in their dtype in memory and are widened in registers, accumulating in f32; no whole-model
// upcast ever happens. One row (decode) goes through the SIMD GEMV, several rows (prefill,
// batched decode) through the batched kernels, which form every row's sums exactly as the
// GEMV does (kernels/cpu/gemv.h).
#include "gemv.h"
#include "infer/kernels/registry.h"

namespace infer::kernels {
namespace {

using base::DataType;

template <DataType kType>
void matmul_dequant_cpu(const KernelContext& ctx, const float* x, const WeightRef& w, float* out,
                        int64_t m, int64_t n, int64_t k) {
  if (kType == DataType::kBF16 && ctx.bf16_activations) {
    cpu::gemm_bf16_activations(w, x, m, n, k, out);
    return;
  }
  if (m == 1) {
    cpu::gemv(kType, w, x, out, n, k);
    return;
  }
  cpu::gemm(kType, w, x, m, n, k, out);
}

template <DataType kType>
void embedding_dequant_cpu(const KernelContext&, const WeightRef& table, const int32_t* ids,
                           int64_t n_tokens, int64_t dim, float* out) {
  const cpu::DequantRowsFn dequant = cpu::dequant_rows_kernel(kType, base::cpu_isa());
  for (int64_t t = 0; t < n_tokens; ++t) dequant(table, ids[t], ids[t] + 1, dim, out + t * dim);
}

INFER_REGISTER_KERNEL(MatmulOp, base::DeviceType::kCPU, DataType::kF16,
                      matmul_dequant_cpu<DataType::kF16>);
INFER_REGISTER_KERNEL(MatmulOp, base::DeviceType::kCPU, DataType::kBF16,
                      matmul_dequant_cpu<DataType::kBF16>);
INFER_REGISTER_KERNEL(MatmulOp, base::DeviceType::kCPU, DataType::kI8,
                      matmul_dequant_cpu<DataType::kI8>);
INFER_REGISTER_KERNEL(EmbeddingOp, base::DeviceType::kCPU, DataType::kF16,
                      embedding_dequant_cpu<DataType::kF16>);
INFER_REGISTER_KERNEL(EmbeddingOp, base::DeviceType::kCPU, DataType::kBF16,
                      embedding_dequant_cpu<DataType::kBF16>);
INFER_REGISTER_KERNEL(EmbeddingOp, base::DeviceType::kCPU, DataType::kI8,
                      embedding_dequant_cpu<DataType::kI8>);

}  // namespace
}  // namespace infer::kernels

// The CPU attention kernel: attention_rows (attention_rows.h) for the instruction set in use.
#include "attention_rows.h"
#include "infer/base/cpu_isa.h"
#include "infer/kernels/registry.h"

namespace infer::kernels {
namespace {

void attention_f32_cpu(const KernelContext&, const float* q, const float* k_pool,
                       const float* v_pool, float* out, int64_t n_tokens, const KvPages& pages,
                       int64_t n_heads, int64_t n_kv_heads, int64_t head_dim) {
  switch (base::cpu_isa()) {
    case base::CpuIsa::kAvx512:
    case base::CpuIsa::kAvx512Bf16:
      return cpu::attention_rows_avx512(q, k_pool, v_pool, out, n_tokens, pages, n_heads,
                                        n_kv_heads, head_dim);
    case base::CpuIsa::kAvx2:
      return cpu::attention_rows_avx2(q, k_pool, v_pool, out, n_tokens, pages, n_heads, n_kv_heads,
                                      head_dim);
    case base::CpuIsa::kGeneric:
      break;
  }
  cpu::attention_rows(q, k_pool, v_pool, out, n_tokens, pages, n_heads, n_kv_heads, head_dim);
}

INFER_REGISTER_KERNEL(AttentionOp, base::DeviceType::kCPU, base::DataType::kF32, attention_f32_cpu);

}  // namespace
}  // namespace infer::kernels

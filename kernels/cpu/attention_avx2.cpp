// attention_rows (attention_rows.h) compiled for AVX2 with FMA; runs only where base::cpu_isa()
// allows AVX2.
#include "attention_rows.h"

namespace infer::kernels::cpu {

void attention_rows_avx2(const float* q, const float* k_pool, const float* v_pool, float* out,
                         int64_t n_tokens, const KvPages& pages, int64_t n_heads,
                         int64_t n_kv_heads, int64_t head_dim) {
  attention_rows(q, k_pool, v_pool, out, n_tokens, pages, n_heads, n_kv_heads, head_dim);
}

}  // namespace infer::kernels::cpu

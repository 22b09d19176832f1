// attention_rows (attention_rows.h) compiled for AVX2 with FMA; runs only where base::cpu_isa()
// allows it.
#include "attention_rows.h"

namespace infer::kernels::cpu {

INFER_ATTENTION_ROWS_FOR_ISA(attention_rows_avx2) {
  attention_rows(q, k_pool, v_pool, out, n_tokens, pages, n_heads, n_kv_heads, head_dim);
}

}  // namespace infer::kernels::cpu

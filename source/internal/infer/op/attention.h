#pragma once
// Non-param layers of attention over a paged KV cache: the attention itself (causal, grouped
// query) and the write of new keys and values into their slots of the pool.
#include "infer/base/device.h"
#include "infer/kernels/ops.h"
#include "infer/tensor/tensor.h"

namespace infer::op {

class Attention {
 public:
  Attention(base::DeviceType device, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim);
  // q, out: [n_tokens, n_heads * head_dim]; k_pool, v_pool: [slots, n_kv_heads * head_dim]
  // holding every position each row sees, found through `pages` (kernels/ops.h), whose arrays
  // the caller has checked against the pool.
  void forward(const kernels::KernelContext& ctx, const tensor::Tensor& q,
               const tensor::Tensor& k_pool, const tensor::Tensor& v_pool, tensor::Tensor& out,
               const kernels::KvPages& pages) const;

 private:
  int64_t n_heads_;
  int64_t n_kv_heads_;
  int64_t head_dim_;
  kernels::AttentionOp::Fn kernel_;
};

}  // namespace infer::op

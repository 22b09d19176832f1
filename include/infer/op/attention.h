#pragma once
// Non-param layer: causal grouped-query attention over a KV cache.
#include "infer/base/device.h"
#include "infer/kernels/ops.h"
#include "infer/tensor/tensor.h"

namespace infer::op {

class Attention {
 public:
  Attention(base::DeviceType device, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim);
  // q, out: [n_tokens, n_heads * head_dim]; k_cache, v_cache: [capacity, n_kv_heads * head_dim]
  // holding positions [0, start_pos + n_tokens).
  void forward(const kernels::KernelContext& ctx, const tensor::Tensor& q,
               const tensor::Tensor& k_cache, const tensor::Tensor& v_cache, tensor::Tensor& out,
               int64_t start_pos) const;

 private:
  int64_t n_heads_;
  int64_t n_kv_heads_;
  int64_t head_dim_;
  kernels::AttentionOp::Fn kernel_;
};

}  // namespace infer::op

#include "infer/op/attention.h"

#include <glog/logging.h>

#include "infer/kernels/registry.h"

namespace infer::op {

Attention::Attention(base::DeviceType device, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim)
    : n_heads_(n_heads),
      n_kv_heads_(n_kv_heads),
      head_dim_(head_dim),
      kernel_(kernels::get_kernel<kernels::AttentionOp>(device, base::DataType::kF32)) {
  CHECK(n_kv_heads > 0 && n_heads % n_kv_heads == 0) << n_heads << " heads, " << n_kv_heads;
}

void Attention::forward(const kernels::KernelContext& ctx, const tensor::Tensor& q,
                        const tensor::Tensor& k_cache, const tensor::Tensor& v_cache,
                        tensor::Tensor& out, int64_t start_pos) const {
  const int64_t n_tokens = q.dim(0);
  CHECK_EQ(q.numel(), n_tokens * n_heads_ * head_dim_);
  CHECK_EQ(out.numel(), q.numel());
  CHECK_EQ(k_cache.dim(1), n_kv_heads_ * head_dim_);
  CHECK_LE(start_pos + n_tokens, k_cache.dim(0));
  kernel_(ctx, q.data<float>(), k_cache.data<float>(), v_cache.data<float>(), out.data<float>(),
          n_tokens, start_pos, n_heads_, n_kv_heads_, head_dim_);
}

}  // namespace infer::op

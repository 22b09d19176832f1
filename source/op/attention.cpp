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
                        const tensor::Tensor& k_pool, const tensor::Tensor& v_pool,
                        tensor::Tensor& out, const kernels::KvPages& pages) const {
  const int64_t n_tokens = q.dim(0);
  CHECK_EQ(q.numel(), n_tokens * n_heads_ * head_dim_);
  CHECK_EQ(out.numel(), q.numel());
  CHECK_EQ(k_pool.dim(1), n_kv_heads_ * head_dim_);
  CHECK(k_pool.shape() == v_pool.shape());
  CHECK_GT(pages.block_size, 0);
  CHECK_GT(pages.max_keys, 0);
  kernel_(ctx, q.data<float>(), k_pool.data<float>(), v_pool.data<float>(), out.data<float>(),
          n_tokens, pages, n_heads_, n_kv_heads_, head_dim_);
}

}  // namespace infer::op

#include "infer/op/rmsnorm.h"

#include <glog/logging.h>

#include "infer/kernels/registry.h"

namespace infer::op {

RmsNorm::RmsNorm(tensor::Tensor weight, float eps)
    : weight_(std::move(weight)),
      eps_(eps),
      kernel_(kernels::get_kernel<kernels::RmsNormOp>(weight_.device(), weight_.dtype())) {
  CHECK_EQ(weight_.ndim(), 1);
}

void RmsNorm::forward(const kernels::KernelContext& ctx, const tensor::Tensor& x,
                      tensor::Tensor& out) const {
  const int64_t dim = weight_.dim(0);
  CHECK_EQ(x.numel() % dim, 0);
  CHECK_EQ(out.numel(), x.numel());
  kernel_(ctx, x.data<float>(), nullptr, nullptr, weight_.raw_data(), out.data<float>(),
          x.numel() / dim, dim, eps_);
}

void RmsNorm::forward_add(const kernels::KernelContext& ctx, tensor::Tensor& x,
                          const tensor::Tensor& residual, tensor::Tensor& out) const {
  const int64_t dim = weight_.dim(0);
  CHECK_EQ(x.numel() % dim, 0);
  CHECK_EQ(residual.numel(), x.numel());
  CHECK_EQ(out.numel(), x.numel());
  CHECK_NE(out.raw_data(), x.raw_data()) << "x keeps the sum";
  kernel_(ctx, x.data<float>(), residual.data<float>(), x.data<float>(), weight_.raw_data(),
          out.data<float>(), x.numel() / dim, dim, eps_);
}

}  // namespace infer::op

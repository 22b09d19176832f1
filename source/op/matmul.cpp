#include "infer/op/matmul.h"

#include <glog/logging.h>

#include "infer/kernels/block_formats.h"
#include "infer/kernels/registry.h"

namespace infer::op {

Matmul::Matmul(Weight weight, std::optional<tensor::Tensor> bias)
    : weight_(std::move(weight)),
      bias_(std::move(bias)),
      kernel_(kernels::get_kernel<kernels::MatmulOp>(weight_.device(), weight_.dtype())) {
  CHECK_EQ(weight_.data.ndim(), 2);
  if (weight_.device() == base::DeviceType::kCPU && weight_.prepared.empty() &&
      kernels::uses_prepared_layout(weight_.dtype())) {
    weight_.prepared =
        tensor::Tensor::empty(weight_.data.shape(), weight_.dtype(), base::DeviceType::kCPU);
    kernels::prepare_blocks(weight_.dtype(), weight_.data.raw_data(), out_features(), in_features(),
                            weight_.prepared.raw_data());
  }
  if (bias_) {
    CHECK(bias_->shape() == tensor::Shape({out_features()})) << tensor::shape_str(bias_->shape());
    bias_kernel_ = kernels::get_kernel<kernels::BiasAddOp>(bias_->device(), bias_->dtype());
  }
}

void Matmul::forward(const kernels::KernelContext& ctx, const tensor::Tensor& x,
                     tensor::Tensor& out) const {
  const int64_t m = x.dim(0);
  CHECK_EQ(x.numel(), m * in_features()) << tensor::shape_str(x.shape());
  CHECK_EQ(out.numel(), m * out_features()) << tensor::shape_str(out.shape());
  kernel_(ctx, x.data<float>(), weight_.ref(), out.data<float>(), m, out_features(), in_features());
  add_bias(ctx, out);
}

void Matmul::add_bias(const kernels::KernelContext& ctx, tensor::Tensor& out) const {
  if (bias_)
    bias_kernel_(ctx, out.data<float>(), bias_->data<float>(), out.numel() / out_features(),
                 out_features());
}

}  // namespace infer::op

#pragma once
// Param layer: RMS normalisation of each row, scaled by a learned weight.
#include "infer/kernels/ops.h"
#include "infer/tensor/tensor.h"

namespace infer::op {

class RmsNorm {
 public:
  RmsNorm(tensor::Tensor weight, float eps);
  // x, out: [rows, dim] f32; out may alias x.
  void forward(const kernels::KernelContext& ctx, const tensor::Tensor& x,
               tensor::Tensor& out) const;
  // x += residual, then out = the norm of x, in one pass (a residual connection followed by the
  // next sub-block's norm): one launch on a GPU instead of two. out must not alias x.
  void forward_add(const kernels::KernelContext& ctx, tensor::Tensor& x,
                   const tensor::Tensor& residual, tensor::Tensor& out) const;

 private:
  tensor::Tensor weight_;
  float eps_;
  kernels::RmsNormOp::Fn kernel_;
};

}  // namespace infer::op

#pragma once
// Param layer: y = x · Wᵀ (+ b) with W in the HF [out_features, in_features] layout.
#include <optional>

#include "infer/kernels/ops.h"
#include "infer/op/weight.h"
#include "infer/tensor/tensor.h"

namespace infer::op {

class Matmul {
 public:
  // bias, when given: [out_features] f32 on the weight's device.
  explicit Matmul(Weight weight, std::optional<tensor::Tensor> bias = std::nullopt);
  // x: [m, in] f32; out: [m, out] f32 (may be a view, e.g. rows of the KV cache).
  void forward(const kernels::KernelContext& ctx, const tensor::Tensor& x,
               tensor::Tensor& out) const;
  // out += bias (no-op without one); `forward` does this itself.
  void add_bias(const kernels::KernelContext& ctx, tensor::Tensor& out) const;
  const Weight& weight() const { return weight_; }
  int64_t in_features() const { return weight_.data.dim(1); }
  int64_t out_features() const { return weight_.data.dim(0); }

 private:
  Weight weight_;
  std::optional<tensor::Tensor> bias_;
  kernels::MatmulOp::Fn kernel_;
  kernels::BiasAddOp::Fn bias_kernel_ = nullptr;
};

}  // namespace infer::op

#pragma once
// Non-param layers without state: SwiGLU, Add, Softmax and Argmax. Each resolves its kernel for
// one device at construction.
#include "infer/base/device.h"
#include "infer/kernels/ops.h"
#include "infer/tensor/tensor.h"

namespace infer::op {

class SwiGLU {
 public:
  explicit SwiGLU(base::DeviceType device);
  // out = silu(gate) * up, all the same shape; out may alias gate or up.
  void forward(const kernels::KernelContext& ctx, const tensor::Tensor& gate,
               const tensor::Tensor& up, tensor::Tensor& out) const;

 private:
  kernels::SwiGLUOp::Fn kernel_;
};

class Add {
 public:
  explicit Add(base::DeviceType device);
  // out = a + b, all the same shape; out may alias a or b.
  void forward(const kernels::KernelContext& ctx, const tensor::Tensor& a, const tensor::Tensor& b,
               tensor::Tensor& out) const;

 private:
  kernels::AddOp::Fn kernel_;
};

class Softmax {
 public:
  explicit Softmax(base::DeviceType device);
  // In place over the last dimension.
  void forward(const kernels::KernelContext& ctx, tensor::Tensor& x) const;

 private:
  kernels::SoftmaxOp::Fn kernel_;
};

class Argmax {
 public:
  explicit Argmax(base::DeviceType device);
  // x: [cols] (one row) or [rows, cols]; out: i32 [rows] on the same device, each the arg-max of
  // its row (lowest index on ties) or -1 for a row holding a NaN.
  void forward(const kernels::KernelContext& ctx, const tensor::Tensor& x,
               tensor::Tensor& out) const;

 private:
  kernels::ArgmaxOp::Fn kernel_;
};

}  // namespace infer::op

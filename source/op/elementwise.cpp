#include "infer/op/elementwise.h"

#include <glog/logging.h>

#include <algorithm>

#include "infer/kernels/registry.h"

namespace infer::op {

using base::DataType;

SwiGLU::SwiGLU(base::DeviceType device)
    : kernel_(kernels::get_kernel<kernels::SwiGLUOp>(device, DataType::kF32)) {}

void SwiGLU::forward(const kernels::KernelContext& ctx, const tensor::Tensor& gate,
                     const tensor::Tensor& up, tensor::Tensor& out) const {
  CHECK(gate.numel() == up.numel() && up.numel() == out.numel());
  kernel_(ctx, gate.data<float>(), up.data<float>(), out.data<float>(), out.numel());
}

Add::Add(base::DeviceType device)
    : kernel_(kernels::get_kernel<kernels::AddOp>(device, DataType::kF32)) {}

void Add::forward(const kernels::KernelContext& ctx, const tensor::Tensor& a,
                  const tensor::Tensor& b, tensor::Tensor& out) const {
  CHECK(a.numel() == b.numel() && b.numel() == out.numel());
  kernel_(ctx, a.data<float>(), b.data<float>(), out.data<float>(), out.numel());
}

Softmax::Softmax(base::DeviceType device)
    : kernel_(kernels::get_kernel<kernels::SoftmaxOp>(device, DataType::kF32)) {}

void Softmax::forward(const kernels::KernelContext& ctx, tensor::Tensor& x) const {
  const int64_t cols = x.dim(x.ndim() - 1);
  kernel_(ctx, x.data<float>(), x.numel() / std::max<int64_t>(cols, 1), cols);
}

Argmax::Argmax(base::DeviceType device)
    : kernel_(kernels::get_kernel<kernels::ArgmaxOp>(device, DataType::kF32)) {}

void Argmax::forward(const kernels::KernelContext& ctx, const tensor::Tensor& x,
                     tensor::Tensor& out) const {
  const int64_t rows = x.shape().size() == 1 ? 1 : x.dim(0);
  const int64_t cols = x.numel() / std::max<int64_t>(rows, 1);
  CHECK_GT(cols, 0);
  CHECK_EQ(out.numel(), rows);
  kernel_(ctx, x.data<float>(), rows, cols, out.data<int32_t>());
}

}  // namespace infer::op

#include "infer/op/matmul.h"

#include <glog/logging.h>

#include "infer/kernels/registry.h"

namespace infer::op {

Matmul::Matmul(tensor::Tensor weight)
    : weight_(std::move(weight)),
      kernel_(kernels::get_kernel<kernels::MatmulOp>(weight_.device(), weight_.dtype())) {
  CHECK_EQ(weight_.ndim(), 2);
}

void Matmul::forward(const kernels::KernelContext& ctx, const tensor::Tensor& x,
                     tensor::Tensor& out) const {
  const int64_t m = x.dim(0);
  CHECK_EQ(x.numel(), m * in_features()) << tensor::shape_str(x.shape());
  CHECK_EQ(out.numel(), m * out_features()) << tensor::shape_str(out.shape());
  kernel_(ctx, x.data<float>(), weight_.raw_data(), out.data<float>(), m, out_features(),
          in_features());
}

}  // namespace infer::op

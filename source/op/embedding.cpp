#include "infer/op/embedding.h"

#include <glog/logging.h>

#include "infer/kernels/registry.h"

namespace infer::op {

Embedding::Embedding(Weight table)
    : table_(std::move(table)),
      kernel_(kernels::get_kernel<kernels::EmbeddingOp>(table_.device(), table_.dtype())) {
  CHECK_EQ(table_.data.ndim(), 2);
}

void Embedding::forward(const kernels::KernelContext& ctx, const tensor::Tensor& ids,
                        tensor::Tensor& out) const {
  CHECK(out.shape() == tensor::Shape({ids.numel(), dim()})) << tensor::shape_str(out.shape());
  kernel_(ctx, table_.ref(), ids.data<int32_t>(), ids.numel(), dim(), out.data<float>());
}

}  // namespace infer::op

#pragma once
// Param layer: token ids -> rows of the embedding table.
#include "infer/kernels/ops.h"
#include "infer/tensor/tensor.h"

namespace infer::op {

class Embedding {
 public:
  // table: [vocab, dim], any dtype with a kernel on its device.
  explicit Embedding(tensor::Tensor table);
  // ids: [n] i32 on the table's device (validated by the caller); out: [n, dim] f32.
  void forward(const kernels::KernelContext& ctx, const tensor::Tensor& ids,
               tensor::Tensor& out) const;
  int64_t vocab_size() const { return table_.dim(0); }
  int64_t dim() const { return table_.dim(1); }
  const tensor::Tensor& table() const { return table_; }

 private:
  tensor::Tensor table_;
  kernels::EmbeddingOp::Fn kernel_;
};

}  // namespace infer::op

#pragma once
// Param layer: token ids -> rows of the embedding table.
#include "infer/kernels/ops.h"
#include "infer/op/weight.h"
#include "infer/tensor/tensor.h"

namespace infer::op {

class Embedding {
 public:
  // table: [vocab, dim], any dtype with a kernel on its device.
  explicit Embedding(Weight table);
  // ids: [n] i32 on the table's device (validated by the caller); out: [n, dim] f32.
  void forward(const kernels::KernelContext& ctx, const tensor::Tensor& ids,
               tensor::Tensor& out) const;
  int64_t vocab_size() const { return table_.data.dim(0); }
  int64_t dim() const { return table_.data.dim(1); }
  const Weight& table() const { return table_; }

 private:
  Weight table_;
  kernels::EmbeddingOp::Fn kernel_;
};

}  // namespace infer::op

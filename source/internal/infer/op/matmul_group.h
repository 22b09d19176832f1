#pragma once
// Several matmuls that read the same input (q/k/v from the normed residual, gate/up from the
// normed attention output). At batch 1, where a device has a group kernel and the weights agree
// in dtype and int8 grouping, they run as one pass with one fork/join; otherwise one by one.
#include <initializer_list>
#include <vector>

#include "infer/op/matmul.h"

namespace infer::op {

class MatmulGroup {
 public:
  explicit MatmulGroup(std::vector<Matmul> members);
  // x: [m, in] f32; outs: one [m, members[i].out_features()] f32 tensor per member, in order
  // (a braced list, so that a decode step allocates nothing).
  void forward(const kernels::KernelContext& ctx, const tensor::Tensor& x,
               std::initializer_list<tensor::Tensor*> outs) const;
  const std::vector<Matmul>& members() const { return members_; }

 private:
  std::vector<Matmul> members_;
  std::vector<kernels::WeightRef> refs_;
  std::vector<int64_t> out_features_;
  kernels::MatmulGroupOp::Fn group_kernel_ = nullptr;  // null: no fused path for these weights
};

}  // namespace infer::op

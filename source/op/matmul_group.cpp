#include "infer/op/matmul_group.h"

#include <glog/logging.h>

#include "infer/kernels/registry.h"

namespace infer::op {

namespace {

// The fused kernel shares x's per-group sums among the weights, so int8 weights must agree in
// group size and in having offsets.
bool fusable(const std::vector<Matmul>& members) {
  const Weight& first = members.front().weight();
  for (const Matmul& m : members) {
    const Weight& w = m.weight();
    if (w.dtype() != first.dtype() || w.device() != first.device() ||
        m.in_features() != members.front().in_features() || w.group_size != first.group_size ||
        w.offsets.empty() != first.offsets.empty())
      return false;
  }
  return true;
}

}  // namespace

MatmulGroup::MatmulGroup(std::vector<Matmul> members) : members_(std::move(members)) {
  CHECK(!members_.empty());
  for (const Matmul& m : members_) {
    refs_.push_back(m.weight().ref());
    out_features_.push_back(m.out_features());
  }
  if (fusable(members_)) {
    const Weight& w = members_.front().weight();
    group_kernel_ = reinterpret_cast<kernels::MatmulGroupOp::Fn>(
        kernels::find_kernel({kernels::OpKind::kMatmulGroup, w.device(), w.dtype()}));
  }
}

void MatmulGroup::forward(const kernels::KernelContext& ctx, const tensor::Tensor& x,
                          std::initializer_list<tensor::Tensor*> outs) const {
  CHECK_EQ(outs.size(), members_.size());
  tensor::Tensor* const* out = outs.begin();
  if (group_kernel_ == nullptr || x.dim(0) != 1) {
    for (size_t i = 0; i < members_.size(); ++i) members_[i].forward(ctx, x, *out[i]);
    return;
  }
  const int64_t k = members_.front().in_features();
  CHECK_EQ(x.numel(), k) << tensor::shape_str(x.shape());
  // At most a handful of members: fixed-size arrays keep the decode step free of allocations.
  constexpr size_t kMaxMembers = 8;
  CHECK_LE(members_.size(), kMaxMembers);
  float* out_data[kMaxMembers];
  for (size_t i = 0; i < members_.size(); ++i) {
    CHECK_EQ(out[i]->numel(), out_features_[i]) << tensor::shape_str(out[i]->shape());
    out_data[i] = out[i]->data<float>();
  }
  group_kernel_(ctx, x.data<float>(), refs_.data(), out_data, out_features_.data(),
                static_cast<int>(members_.size()), k);
  for (size_t i = 0; i < members_.size(); ++i) members_[i].add_bias(ctx, *out[i]);
}

}  // namespace infer::op

#pragma once
// Non-param layer: rotary position embedding (HF rotate-half convention). The sin/cos tables are
// computed once, in double precision, for the positions the model was loaded for.
#include <vector>

#include "infer/base/device.h"
#include "infer/kernels/ops.h"
#include "infer/model/config.h"
#include "infer/tensor/tensor.h"

namespace infer::op {

using model::RopeScaling;

class Rope {
 public:
  Rope(int64_t head_dim, double theta, const RopeScaling& scaling, int64_t max_positions,
       base::DeviceType device);
  // Rotates x: [n_tokens, n_heads * head_dim] f32 in place, row t for position positions[t]
  // (an i32 tensor of n_tokens on x's device, each below max_positions(): the caller checks).
  void forward(const kernels::KernelContext& ctx, tensor::Tensor& x, int64_t n_heads,
               const tensor::Tensor& positions) const;
  int64_t max_positions() const { return max_positions_; }

  // The inverse frequencies, computed in float32 as HF's rotary embedding does, scaling included.
  static std::vector<float> inverse_frequencies(int64_t head_dim, double theta,
                                                const RopeScaling& scaling = {});

 private:
  int64_t head_dim_;
  int64_t max_positions_;
  tensor::Tensor cos_;  // [max_positions, head_dim / 2]
  tensor::Tensor sin_;
  kernels::RopeOp::Fn kernel_;
};

}  // namespace infer::op

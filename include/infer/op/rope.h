#pragma once
// Non-param layer: rotary position embedding (HF rotate-half convention). The sin/cos tables are
// computed once, in double precision, for the positions the model was loaded for.
#include "infer/base/device.h"
#include "infer/kernels/ops.h"
#include "infer/tensor/tensor.h"

namespace infer::op {

class Rope {
 public:
  Rope(int64_t head_dim, double theta, int64_t max_positions, base::DeviceType device);
  // Rotates x: [n_tokens, n_heads * head_dim] f32 in place for positions start_pos.. .
  void forward(const kernels::KernelContext& ctx, tensor::Tensor& x, int64_t n_heads,
               int64_t start_pos) const;
  int64_t max_positions() const { return max_positions_; }

  // The inverse frequencies, computed as HF's rotary embedding does (float32 of theta^(-2i/d)).
  static std::vector<float> inverse_frequencies(int64_t head_dim, double theta);

 private:
  int64_t head_dim_;
  int64_t max_positions_;
  tensor::Tensor cos_;  // [max_positions, head_dim / 2]
  tensor::Tensor sin_;
  kernels::RopeOp::Fn kernel_;
};

}  // namespace infer::op

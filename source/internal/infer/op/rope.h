#pragma once
// Non-param layer: rotary position embedding (HF rotate-half convention). The sin/cos tables are
// computed in double precision for the positions actually reached, growing (doubling) as
// sequences get longer, never past max_positions: a model claiming a context of 2^31 costs
// nothing until a sequence is that long.
#include <memory>
#include <mutex>
#include <vector>

#include "infer/base/device.h"
#include "infer/kernels/ops.h"
#include "infer/model/config.h"
#include "infer/tensor/tensor.h"

namespace infer::op {

using model::RopeScaling;

class Rope {
 public:
  struct Tables {
    int64_t positions = 0;  // rows of each table
    tensor::Tensor cos;     // [positions, head_dim / 2], on the layer's device
    tensor::Tensor sin;
  };

  Rope(int64_t head_dim, double theta, const RopeScaling& scaling, int64_t max_positions,
       base::DeviceType device);
  // Tables covering positions [0, end) (end <= max_positions()); thread-safe. A table once
  // handed out stays valid for the layer's life, so kernels still reading it (on a GPU stream)
  // never see it freed.
  const Tables& tables_for(int64_t end) const;
  // Rotates x: [n_tokens, n_heads * head_dim] f32 in place, row t for position positions[t]
  // (an i32 tensor of n_tokens on x's device, each below tables.positions: the caller checks).
  void forward(const kernels::KernelContext& ctx, tensor::Tensor& x, int64_t n_heads,
               const tensor::Tensor& positions, const Tables& tables) const;
  int64_t max_positions() const { return max_positions_; }

  // The inverse frequencies, computed in float32 as HF's rotary embedding does, scaling included.
  static std::vector<float> inverse_frequencies(int64_t head_dim, double theta,
                                                const RopeScaling& scaling = {});

 private:
  int64_t head_dim_;
  int64_t max_positions_;
  base::DeviceType device_;
  std::vector<float> inv_freq_;
  kernels::RopeOp::Fn kernel_;
  mutable std::mutex grow_;
  mutable std::vector<std::unique_ptr<const Tables>> tables_;  // growing; the last is current
};

}  // namespace infer::op

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
  // Encodes the positions of a pass's new rows and stores their keys and values: q [n_tokens,
  // n_heads * head_dim] rotated in place, k [n_tokens, kv_dim] rotated into the rows `slots` of
  // k_pool [*, kv_dim], v copied into the same rows of v_pool (kv_dim = n_kv_heads * head_dim).
  // positions and slots: i32 [n_tokens] on the layer's device, each position below
  // tables.positions and each slot a row of the pools (the caller checks).
  void forward(const kernels::KernelContext& ctx, tensor::Tensor& q, const tensor::Tensor& k,
               const tensor::Tensor& v, int64_t n_heads, int64_t n_kv_heads,
               const tensor::Tensor& positions, const Tables& tables, const tensor::Tensor& slots,
               tensor::Tensor& k_pool, tensor::Tensor& v_pool) const;
  int64_t max_positions() const { return max_positions_; }

  // The inverse frequencies, computed in float32 as HF's rotary embedding does, scaling included.
  static std::vector<float> inverse_frequencies(int64_t head_dim, double theta,
                                                const RopeScaling& scaling = {});

 private:
  int64_t head_dim_;
  int64_t max_positions_;
  base::DeviceType device_;
  std::vector<float> inv_freq_;
  kernels::RopeKvOp::Fn kernel_;
  mutable std::mutex grow_;
  mutable std::vector<std::unique_ptr<const Tables>> tables_;  // growing; the last is current
};

}  // namespace infer::op

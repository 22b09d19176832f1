#pragma once
// The mutable part of running a model: the KV cache of one token sequence and the activation
// buffers of a forward pass. Buffers only grow, so after the first decode step nothing is
// allocated per token.
#include <cstdint>
#include <vector>

#include "infer/base/device.h"
#include "infer/kernels/kernel_context.h"
#include "infer/model/config.h"
#include "infer/tensor/tensor.h"

namespace infer::model {

class InferenceState {
 public:
  InferenceState(const ModelConfig& config, int64_t max_seq_len, base::DeviceType device);

  // Number of positions already in the KV cache.
  int64_t n_past() const { return n_past_; }
  int64_t capacity() const { return max_seq_len_; }
  // Forgets every position from `n` on (n <= n_past()); the cache memory is reused as is.
  void truncate(int64_t n);

  // The cached keys and values of positions [0, n_past()), copied to the host: for each layer,
  // its keys then its values, each [n_past(), n_kv_heads * head_dim] row-major.
  std::vector<float> cached_kv() const;
  // Replaces the cache with `n` positions laid out as cached_kv() gives them; n_past() becomes
  // n. Throws InvalidArgument when n exceeds the capacity or `kv` has another size.
  void restore_kv(int64_t n, const std::vector<float>& kv);

 private:
  friend class Model;

  // Makes sure every activation buffer holds at least `rows` tokens.
  void reserve_rows(int64_t rows);

  const ModelConfig* config_;
  int64_t max_seq_len_;
  base::DeviceType device_;
  int64_t n_past_ = 0;
  int64_t rows_ = 0;
  kernels::KernelContext ctx_;

  std::vector<tensor::Tensor> k_cache_;  // per layer: [max_seq_len, n_kv_heads * head_dim]
  std::vector<tensor::Tensor> v_cache_;

  tensor::Tensor ids_;        // [rows] i32, the chunk's token ids on the device
  tensor::Tensor x_;          // [rows, dim] residual stream
  tensor::Tensor xn_;         // [rows, dim] normalised input of a sub-block
  tensor::Tensor q_;          // [rows, n_heads * head_dim]
  tensor::Tensor attn_;       // [rows, n_heads * head_dim] attention output
  tensor::Tensor proj_;       // [rows, dim] output of o / down projections
  tensor::Tensor gate_;       // [rows, hidden_dim]
  tensor::Tensor up_;         // [rows, hidden_dim]
  tensor::Tensor last_norm_;  // [1, dim]
  tensor::Tensor logits_;     // [1, vocab] on the device
  std::vector<float> logits_host_;
};

}  // namespace infer::model

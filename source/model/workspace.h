#pragma once
// The buffers of Model::forward, kept by the KvCache it runs on: activations for a chunk of
// rows, and the batch's metadata (ids, positions, pool slots, block tables) on the device. Every
// buffer only grows, so after the first steps of a given size nothing is allocated.
#include <cstdint>
#include <utility>
#include <vector>

#include "infer/model/config.h"
#include "infer/model/kv_cache.h"
#include "infer/tensor/tensor.h"

namespace infer::model {

struct KvCache::Workspace {
  int64_t rows = 0;          // the activation buffers hold this many rows
  int64_t logit_rows = 0;    // the logits buffers hold this many rows
  tensor::Tensor x;          // [rows, dim] residual stream
  tensor::Tensor xn;         // [rows, dim] normalised input of a sub-block
  tensor::Tensor q;          // [rows, n_heads * head_dim]
  tensor::Tensor k;          // [rows, n_kv_heads * head_dim] new keys, before they go to the pool
  tensor::Tensor v;          // [rows, n_kv_heads * head_dim]
  tensor::Tensor attn;       // [rows, n_heads * head_dim] attention output
  tensor::Tensor proj;       // [rows, dim] output of o / down projections
  tensor::Tensor gate;       // [rows, hidden_dim]
  tensor::Tensor up;         // [rows, hidden_dim]
  tensor::Tensor last;       // [logit_rows, dim] the rows whose logits are wanted
  tensor::Tensor last_norm;  // [logit_rows, dim]
  tensor::Tensor logits;     // [logit_rows, vocab] on the device
  std::vector<float> logits_host;
  // ids, positions, slots, table offsets of every row, then the block tables; host and device.
  std::vector<int32_t> meta_host;
  tensor::Tensor meta;
  // prepare_batch's scratch: (sequence, next position) and (sequence, offset of its table), in
  // first-seen order.
  std::vector<std::pair<int32_t, int64_t>> next_position;
  std::vector<std::pair<int32_t, int32_t>> table_offset;

  void reserve_rows(const ModelConfig& c, base::DeviceType device, int64_t n);
  void reserve_logit_rows(const ModelConfig& c, base::DeviceType device, int64_t n);
  // Copies meta_host to the device; returns it there.
  const tensor::Tensor& upload_meta(base::DeviceType device);
};

}  // namespace infer::model

#pragma once
// One sequence's context for the single-conversation API (Model::forward(state, tokens)): a
// KvCache of its own, sized for max_seq_len positions, holding one sequence. After the first
// decode step nothing is allocated per token.
#include <cstdint>
#include <memory>
#include <vector>

#include "infer/model/batch.h"
#include "infer/model/kv_cache.h"

namespace infer::model {

class Model;

class InferenceState {
 public:
  explicit InferenceState(const Model& model);

  // Number of positions already in the KV cache.
  int64_t n_past() const { return cache_->length(sequence_); }
  int64_t capacity() const { return capacity_; }
  // Forgets every position from `n` on (n <= n_past()); the cache memory is reused as is.
  void truncate(int64_t n) { cache_->truncate(sequence_, n); }

  // The tokens the cache holds, and their keys and values copied to the host: for each layer,
  // its keys then its values, each [n_past(), n_kv_heads * head_dim] row-major.
  const std::vector<int32_t>& cached_tokens() const { return cache_->tokens(sequence_); }
  std::vector<float> cached_kv() const { return cache_->read(sequence_); }
  // Replaces the cache with `tokens` and their keys and values laid out as cached_kv() gives
  // them. Throws InvalidArgument when there are more tokens than the capacity or `kv` has
  // another size.
  void restore_kv(const std::vector<int32_t>& tokens, const std::vector<float>& kv);

 private:
  friend class Model;

  const Model* model_;
  int64_t capacity_;
  std::unique_ptr<KvCache> cache_;
  int32_t sequence_;
  Batch batch_;  // reused by every forward
};

}  // namespace infer::model

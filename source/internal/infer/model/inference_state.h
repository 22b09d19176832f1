#pragma once
// One sequence with a KV cache of its own: the single-conversation path under generate() and
// Session, and the tests and tools that score or step a model token by token. After the first
// decode step nothing is allocated per token.
#include <cstdint>
#include <memory>
#include <vector>

#include "infer/model/batch.h"
#include "infer/model/kv_cache.h"
#include "infer/model/model.h"

namespace infer::model {

class InferenceState {
 public:
  // Room for `capacity` positions (0: the model's max_seq_len(); never more than that).
  explicit InferenceState(const Model& model, int64_t capacity = 0);

  const Model& model() const { return *model_; }
  // Number of positions already in the KV cache.
  int64_t n_past() const { return cache_->length(sequence_); }
  int64_t capacity() const { return capacity_; }
  // Forgets every position from `n` on (n <= n_past()); the cache memory is reused as is.
  void truncate(int64_t n) { cache_->truncate(sequence_, n); }

  // Appends `tokens` to the context (positions n_past()..), runs them through the model as one
  // matrix pass (in chunks for long prompts) and returns the logits of the last token, on the
  // host. Throws InvalidArgument for an empty input, a token id outside the vocabulary, or a
  // context that would exceed capacity(); the state is unchanged then.
  const std::vector<float>& forward(const std::vector<int32_t>& tokens);
  // Like forward(), but returns only the arg-max token of the last logits (-1 when they hold a
  // NaN), found where the logits are (Model::forward_argmax): greedy decoding on a GPU.
  int32_t forward_argmax(const std::vector<int32_t>& tokens);
  // The cache's counters (on CUDA, how many passes were replayed from graphs).
  KvCacheStats cache_stats() const { return cache_->stats(); }
  // Like forward(), but returns the logits of every token, [tokens.size(), vocab_size]
  // row-major: for scoring a text (perplexity, teacher-forced comparisons).
  std::vector<float> forward_all_logits(const std::vector<int32_t>& tokens);

  // The tokens the cache holds, and their keys and values copied to the host: for each layer,
  // its keys then its values, each [n_past(), n_kv_heads * head_dim] row-major.
  const std::vector<int32_t>& cached_tokens() const { return cache_->tokens(sequence_); }
  std::vector<float> cached_kv() const { return cache_->read(sequence_); }
  // Replaces the cache with `tokens` and their keys and values laid out as cached_kv() gives
  // them. Throws InvalidArgument when there are more tokens than the capacity or `kv` has
  // another size.
  void restore_kv(const std::vector<int32_t>& tokens, const std::vector<float>& kv);

 private:
  void check_input(const std::vector<int32_t>& tokens) const;
  // The checked batch of `tokens` after the context, logits asked for the last one.
  const Batch& batch_of(const std::vector<int32_t>& tokens);

  const Model* model_;
  int64_t capacity_;
  std::unique_ptr<KvCache> cache_;
  int32_t sequence_;
  Batch batch_;  // reused by every forward
};

}  // namespace infer::model

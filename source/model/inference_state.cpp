#include "infer/model/inference_state.h"

#include <algorithm>

#include "infer/base/error.h"

namespace infer::model {

namespace {

// forward_all_logits runs this many tokens per pass, so that the device holds the logits of
// one chunk at a time.
constexpr int64_t kScoreChunk = 512;

int64_t resolve_capacity(const Model& model, int64_t capacity) {
  if (capacity < 0 || capacity > model.max_seq_len()) {
    throw base::InvalidArgument("a context of " + std::to_string(capacity) +
                                " positions does not fit max_seq_len " +
                                std::to_string(model.max_seq_len()));
  }
  return capacity == 0 ? model.max_seq_len() : capacity;
}

}  // namespace

InferenceState::InferenceState(const Model& model, int64_t capacity)
    : model_(&model),
      capacity_(resolve_capacity(model, capacity)),
      // Its own pool, sized for the whole context; no prefix cache, since nothing is shared.
      cache_(std::make_unique<KvCache>(
          model, (capacity_ + KvCache::kDefaultBlockSize - 1) / KvCache::kDefaultBlockSize,
          KvCache::kDefaultBlockSize, /*prefix_caching=*/false)),
      sequence_(cache_->add_sequence()) {}

void InferenceState::check_input(const std::vector<int32_t>& tokens) const {
  if (tokens.empty()) throw base::InvalidArgument("forward: no tokens to process");
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n_past() + n > capacity_) {
    throw base::InvalidArgument(
        "context overflow: " + std::to_string(n_past()) + " tokens in context + " +
        std::to_string(n) + " new > " +
        (capacity_ == model_->max_seq_len() ? "max_seq_len " : "this context's capacity ") +
        std::to_string(capacity_));
  }
}

const Batch& InferenceState::batch_of(const std::vector<int32_t>& tokens) {
  check_input(tokens);
  batch_.clear();
  const int64_t start = n_past(), n = static_cast<int64_t>(tokens.size());
  for (int64_t i = 0; i < n; ++i)
    batch_.add(tokens[i], sequence_, static_cast<int32_t>(start + i), i == n - 1);
  return batch_;
}

const std::vector<float>& InferenceState::forward(const std::vector<int32_t>& tokens) {
  return model_->forward(batch_of(tokens), *cache_);
}

int32_t InferenceState::forward_argmax(const std::vector<int32_t>& tokens) {
  return model_->forward_argmax(batch_of(tokens), *cache_).front();
}

std::vector<float> InferenceState::forward_all_logits(const std::vector<int32_t>& tokens) {
  check_input(tokens);
  const int64_t n = static_cast<int64_t>(tokens.size());
  std::vector<float> logits;
  logits.reserve(static_cast<size_t>(n * model_->config().vocab_size));
  for (int64_t begin = 0; begin < n; begin += kScoreChunk) {
    batch_.clear();
    const int64_t start = n_past(), count = std::min(kScoreChunk, n - begin);
    for (int64_t i = 0; i < count; ++i)
      batch_.add(tokens[begin + i], sequence_, static_cast<int32_t>(start + i), true);
    const std::vector<float>& chunk = model_->forward(batch_, *cache_);
    logits.insert(logits.end(), chunk.begin(), chunk.end());
  }
  return logits;
}

void InferenceState::restore_kv(const std::vector<int32_t>& tokens, const std::vector<float>& kv) {
  if (static_cast<int64_t>(tokens.size()) > capacity_) {
    throw base::InvalidArgument("cannot restore " + std::to_string(tokens.size()) +
                                " cached positions into a context of " + std::to_string(capacity_));
  }
  cache_->write(sequence_, tokens, kv);
}

}  // namespace infer::model

#include "infer/model/inference_state.h"

#include "infer/base/error.h"
#include "infer/model/model.h"

namespace infer::model {

InferenceState::InferenceState(const Model& model)
    : model_(&model),
      capacity_(model.max_seq_len()),
      // Its own pool, sized for the whole context; no prefix cache, since nothing is shared.
      cache_(std::make_unique<KvCache>(
          model, (capacity_ + KvCache::kDefaultBlockSize - 1) / KvCache::kDefaultBlockSize,
          KvCache::kDefaultBlockSize, /*prefix_caching=*/false)),
      sequence_(cache_->add_sequence()) {}

void InferenceState::restore_kv(const std::vector<int32_t>& tokens, const std::vector<float>& kv) {
  if (static_cast<int64_t>(tokens.size()) > capacity_) {
    throw base::InvalidArgument("cannot restore " + std::to_string(tokens.size()) +
                                " cached positions into a context of " + std::to_string(capacity_));
  }
  cache_->write(sequence_, tokens, kv);
}

}  // namespace infer::model

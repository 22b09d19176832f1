#pragma once
// The generation loop: prefill the prompt in one pass, then decode one token at a time until an
// end-of-sequence token, the token budget, or a full context.
#include <cstdint>
#include <functional>
#include <vector>

#include "infer/model/model.h"
#include "infer/sampler/sampler.h"

namespace infer::generate {

enum class StopReason { kEos, kLength, kContext };
const char* stop_reason_name(StopReason reason);  // "eos", "length", "context"

struct GenerateOptions {
  int64_t max_new_tokens = 256;
  std::vector<int32_t> eos_token_ids;  // generation stops after emitting any of these
};

struct GenerateStats {
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  double time_to_first_token_s = 0;  // prompt prefill + first sampled token
  double prefill_s = 0;
  double decode_s = 0;  // every step after the first token
  double prefill_tokens_per_s() const;
  double decode_tokens_per_s() const;
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids, including a final EOS id if one stopped it
  StopReason stop_reason = StopReason::kLength;
  GenerateStats stats;
};

// Called with each generated token as soon as it is known (EOS ids included).
using TokenCallback = std::function<void(int32_t token)>;

// Runs `prompt` (non-empty, starting at the state's current position) and generates. Throws
// InvalidArgument when the prompt does not fit in the context.
GenerateResult generate(const model::Model& model, model::InferenceState& state,
                        const std::vector<int32_t>& prompt, const GenerateOptions& options,
                        sampler::Sampler& sampler, const TokenCallback& on_token = nullptr);

}  // namespace infer::generate

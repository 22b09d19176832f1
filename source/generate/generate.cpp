#include "infer/generate/generate.h"

#include <algorithm>
#include <chrono>

#include "infer/base/error.h"

namespace infer::generate {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
}  // namespace

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::kEos:
      return "eos";
    case StopReason::kLength:
      return "length";
    case StopReason::kContext:
      return "context";
  }
  return "unknown";
}

double GenerateStats::prefill_tokens_per_s() const {
  return prefill_s > 0 ? static_cast<double>(prompt_tokens) / prefill_s : 0;
}

double GenerateStats::decode_tokens_per_s() const {
  // The first generated token comes from the prefill pass; the rest from decode steps.
  return decode_s > 0 && generated_tokens > 1 ? static_cast<double>(generated_tokens - 1) / decode_s
                                              : 0;
}

GenerateResult generate(const model::Model& model, model::InferenceState& state,
                        const std::vector<int32_t>& prompt, const GenerateOptions& options,
                        sampler::Sampler& sampler, const TokenCallback& on_token) {
  if (prompt.empty()) throw base::InvalidArgument("the prompt is empty");
  if (options.max_new_tokens < 0) {
    throw base::InvalidArgument("max_new_tokens must be >= 0, got " +
                                std::to_string(options.max_new_tokens));
  }
  const int64_t prompt_len = static_cast<int64_t>(prompt.size());
  if (state.n_past() + prompt_len > state.capacity()) {
    throw base::InvalidArgument(
        "the prompt has " + std::to_string(prompt_len) + " tokens but only " +
        std::to_string(state.capacity() - state.n_past()) + " fit in the context (max_seq_len " +
        std::to_string(state.capacity()) + ")");
  }

  sampler.begin(prompt);
  GenerateResult result;
  result.stats.prompt_tokens = prompt_len;
  const auto start = Clock::now();
  const std::vector<float>* logits = &model.forward(state, prompt);
  result.stats.prefill_s = seconds_since(start);
  const auto decode_start = Clock::now();

  // Stops at EOS or a full context; otherwise the token budget ends it (stop_reason's default).
  result.stop_reason = StopReason::kLength;
  while (static_cast<int64_t>(result.tokens.size()) < options.max_new_tokens) {
    const int32_t token = sampler.sample(*logits);
    result.tokens.push_back(token);
    if (result.tokens.size() == 1) result.stats.time_to_first_token_s = seconds_since(start);
    if (on_token) on_token(token);
    if (std::find(options.eos_token_ids.begin(), options.eos_token_ids.end(), token) !=
        options.eos_token_ids.end()) {
      result.stop_reason = StopReason::kEos;
      break;
    }
    if (state.n_past() >= state.capacity()) {
      result.stop_reason = StopReason::kContext;
      break;
    }
    if (static_cast<int64_t>(result.tokens.size()) == options.max_new_tokens) break;
    logits = &model.forward(state, {token});
  }
  result.stats.generated_tokens = static_cast<int64_t>(result.tokens.size());
  // Time spent in decode steps proper, excluding the prefill and the first sample.
  result.stats.decode_s =
      std::max(0.0, seconds_since(decode_start) -
                        (result.stats.time_to_first_token_s - result.stats.prefill_s));
  return result;
}

}  // namespace infer::generate

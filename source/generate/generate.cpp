#include "infer/generate/generate.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include "infer/base/error.h"
#include "infer/generate/generate_in_state.h"
#include "infer/generate/generation.h"

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
    case StopReason::kStopString:
      return "stop_string";
    case StopReason::kCancelled:
      return "cancelled";
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

void validate(const GenerateOptions& options) {
  if (options.max_new_tokens < 0) {
    throw base::InvalidArgument("max_new_tokens must be >= 0, got " +
                                std::to_string(options.max_new_tokens));
  }
  for (const std::string& stop : options.stop_strings) {
    if (stop.empty()) throw base::InvalidArgument("a stop string is empty");
  }
  if (!options.stop_strings.empty() && options.tokenizer == nullptr) {
    throw base::InvalidArgument("stop strings need a tokenizer to read the generated text");
  }
  if (options.top_logprobs < -1 || options.top_logprobs > kMaxTopLogprobs) {
    throw base::InvalidArgument("top_logprobs must be in [0, " + std::to_string(kMaxTopLogprobs) +
                                "] (or -1 for none), got " + std::to_string(options.top_logprobs));
  }
}

GenerateResult generate(model::InferenceState& state, const std::vector<int32_t>& prompt,
                        const GenerateOptions& options, sampler::Sampler& sampler,
                        const StreamCallback& on_piece) {
  check_prompt_fits(static_cast<int64_t>(prompt.size()), state.n_past(), state.capacity());
  Generation generation(options, sampler, prompt, state.cached_tokens());

  // Greedy without penalties needs only the arg-max, found where the logits are: on a GPU only
  // the token id crosses to the host.
  const bool argmax_only = generation.argmax_only();
  const std::vector<float>* logits = nullptr;
  int32_t argmax = -1;
  const auto run = [&](const std::vector<int32_t>& tokens) {
    if (argmax_only) {
      argmax = state.forward_argmax(tokens);
    } else {
      logits = &state.forward(tokens);
    }
  };
  const auto start = Clock::now();
  run(prompt);
  GenerateResult& result = generation.result();
  result.stats.prefill_s = seconds_since(start);
  const auto decode_start = Clock::now();

  while (!generation.finished()) {
    const bool context_full = state.n_past() >= state.capacity();
    const Generation::Step step = argmax_only ? generation.next_argmax(argmax, context_full)
                                              : generation.next(*logits, context_full);
    if (generation.generated() == 1) result.stats.time_to_first_token_s = seconds_since(start);
    if (on_piece && !on_piece(step.piece) && !step.stop) generation.cancel();
    if (!generation.finished()) run({step.piece.token});
  }
  result.stats.generated_tokens = generation.generated();
  // Time spent in decode steps proper, excluding the prefill and the first sample.
  result.stats.decode_s =
      std::max(0.0, seconds_since(decode_start) -
                        (result.stats.time_to_first_token_s - result.stats.prefill_s));
  return std::move(result);
}

GenerateResult generate(const model::Model& model, const std::vector<int32_t>& prompt,
                        const GenerateOptions& options, sampler::Sampler& sampler,
                        const StreamCallback& on_piece) {
  // Room for the prompt and every token but the last generated one, which is never run; a
  // prompt that cannot fit gets a context of max_seq_len and check_prompt_fits explains.
  const int64_t wanted =
      static_cast<int64_t>(prompt.size()) + std::max<int64_t>(options.max_new_tokens, 1);
  model::InferenceState state(model, std::clamp<int64_t>(wanted, 1, model.max_seq_len()));
  return generate(state, prompt, options, sampler, on_piece);
}

}  // namespace infer::generate

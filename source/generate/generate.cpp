#include "infer/generate/generate.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include "infer/base/error.h"
#include "infer/tokenizer/stream_decoder.h"

namespace infer::generate {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Decoded text on its way out: emits what can no longer be part of a stop string and holds back
// the longest tail that could still begin one, so a stop string split over tokens is never shown.
class StopStringFilter {
 public:
  explicit StopStringFilter(const std::vector<std::string>& stops) : stops_(stops) {}

  // Appends `text`; returns what may be shown now. Sets `stopped` when a stop string completed:
  // the returned text then ends just before it, and nothing after it is ever shown.
  std::string push(const std::string& text, bool& stopped) {
    pending_ += text;
    size_t first = std::string::npos;
    for (const std::string& stop : stops_) first = std::min(first, pending_.find(stop));
    if (first != std::string::npos) {
      stopped = true;
      std::string out = pending_.substr(0, first);
      pending_.clear();
      return out;
    }
    const size_t hold = longest_stop_prefix_suffix();
    std::string out = pending_.substr(0, pending_.size() - hold);
    pending_.erase(0, pending_.size() - hold);
    return out;
  }
  // The held-back tail, once no stop string can follow.
  std::string flush() { return std::exchange(pending_, std::string()); }

 private:
  size_t longest_stop_prefix_suffix() const {
    size_t best = 0;
    for (const std::string& stop : stops_) {
      for (size_t n = std::min(stop.size() - 1, pending_.size()); n > best; --n) {
        if (pending_.compare(pending_.size() - n, n, stop, 0, n) == 0) {
          best = n;
          break;
        }
      }
    }
    return best;
  }

  const std::vector<std::string>& stops_;
  std::string pending_;
};

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
}

GenerateResult generate(const model::Model& model, model::InferenceState& state,
                        const std::vector<int32_t>& prompt, const GenerateOptions& options,
                        sampler::Sampler& sampler, const StreamCallback& on_piece,
                        const std::vector<int32_t>& context) {
  if (prompt.empty()) throw base::InvalidArgument("the prompt is empty");
  validate(options);
  const int64_t prompt_len = static_cast<int64_t>(prompt.size());
  if (state.n_past() + prompt_len > state.capacity()) {
    throw base::InvalidArgument(
        "the prompt has " + std::to_string(prompt_len) + " tokens but only " +
        std::to_string(state.capacity() - state.n_past()) + " fit in the context (max_seq_len " +
        std::to_string(state.capacity()) + ")");
  }

  std::vector<int32_t> seen = context;
  seen.insert(seen.end(), prompt.begin(), prompt.end());
  sampler.begin(seen);
  std::optional<tokenizer::StreamDecoder> decoder;
  if (options.tokenizer) {
    decoder.emplace(*options.tokenizer);
    if (options.text_continues_prompt) decoder->set_context(prompt);
  }
  StopStringFilter filter(options.stop_strings);

  GenerateResult result;
  result.stats.prompt_tokens = prompt_len;
  const auto start = Clock::now();
  const std::vector<float>* logits = &model.forward(state, prompt);
  result.stats.prefill_s = seconds_since(start);
  const auto decode_start = Clock::now();

  bool stopping = options.max_new_tokens == 0;
  while (!stopping) {
    StreamPiece piece;
    piece.token = sampler.sample(*logits);
    result.tokens.push_back(piece.token);
    if (result.tokens.size() == 1) result.stats.time_to_first_token_s = seconds_since(start);

    // Why this token would be the last one, before its text is known.
    std::optional<StopReason> reason;
    if (std::find(options.eos_token_ids.begin(), options.eos_token_ids.end(), piece.token) !=
        options.eos_token_ids.end()) {
      reason = StopReason::kEos;
    } else if (static_cast<int64_t>(result.tokens.size()) == options.max_new_tokens) {
      reason = StopReason::kLength;
    } else if (state.n_past() >= state.capacity()) {
      reason = StopReason::kContext;  // no room left to run this token
    }
    if (decoder) {
      bool stop_string = false;
      piece.text = filter.push(decoder->push(piece.token), stop_string);
      if (stop_string) {
        reason = StopReason::kStopString;
      } else if (reason) {
        piece.text += filter.push(decoder->flush(), stop_string);
        if (stop_string)
          reason = StopReason::kStopString;
        else
          piece.text += filter.flush();
      }
    }
    result.text += piece.text;
    if (on_piece && !on_piece(piece) && !reason) reason = StopReason::kCancelled;
    if (reason) {
      result.stop_reason = *reason;
      stopping = true;
    } else {
      logits = &model.forward(state, {piece.token});
    }
  }
  result.stats.generated_tokens = static_cast<int64_t>(result.tokens.size());
  // Time spent in decode steps proper, excluding the prefill and the first sample.
  result.stats.decode_s =
      std::max(0.0, seconds_since(decode_start) -
                        (result.stats.time_to_first_token_s - result.stats.prefill_s));
  return result;
}

}  // namespace infer::generate

#pragma once
// The generation loop: prefill the prompt in one pass, then decode one token at a time until an
// end-of-sequence token, a stop string, the token budget, a full context, or the caller says
// stop. Text comes out as UTF-8-safe pieces while it is generated.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "infer/model/model.h"
#include "infer/sampler/sampler.h"
#include "infer/tokenizer/tokenizer.h"

namespace infer::generate {

enum class StopReason { kEos, kStopString, kLength, kContext, kCancelled };
// "eos", "stop_string", "length", "context", "cancelled"
const char* stop_reason_name(StopReason reason);

struct GenerateOptions {
  int64_t max_new_tokens = 256;
  std::vector<int32_t> eos_token_ids;  // generation stops after emitting any of these
  // Generation runs on past end-of-sequence tokens (benchmarks that need every request to produce
  // its full budget).
  bool ignore_eos = false;
  // Generation stops when the text contains one of these; the text from it on is not emitted.
  // Needs `tokenizer`.
  std::vector<std::string> stop_strings;
  // Decodes the generated tokens into text pieces; without it pieces carry token ids only.
  const tokenizer::Tokenizer* tokenizer = nullptr;
  // The text continues the prompt's (a completion, not a chat reply): its first piece keeps the
  // leading space a tokenizer would otherwise strip.
  bool text_continues_prompt = false;
  // >= 0: every generated token comes with its log-probability and those of the `top_logprobs`
  // most likely tokens at its position (at most kMaxTopLogprobs); -1: none are computed.
  int top_logprobs = -1;
};

inline constexpr int kMaxTopLogprobs = 20;

// A token's log-probability under the model: the log-softmax of the raw logits, before
// temperature, penalties and top-k/top-p/min-p reshape them for sampling (what OpenAI's and
// vLLM's logprobs report).
struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0;
};
struct PieceLogprobs {
  TokenLogprob chosen;            // the generated token
  std::vector<TokenLogprob> top;  // the most likely tokens at its position, most likely first
};
// The log-probabilities at one position: `chosen`'s and the `top_n` highest (ties by lower id).
PieceLogprobs position_logprobs(const std::vector<float>& logits, int32_t chosen, int top_n);

struct GenerateStats {
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  double time_to_first_token_s = 0;  // prompt prefill + first sampled token
  int64_t reused_tokens = 0;         // sessions: prompt tokens found in the KV cache, not run again
  double prefill_s = 0;
  double decode_s = 0;  // every step after the first token
  double prefill_tokens_per_s() const;
  double decode_tokens_per_s() const;
};

struct GenerateResult {
  // Generated ids, including the final EOS id or the token that completed a stop string. All but
  // the last have been run through the model (are in the state's KV cache).
  std::vector<int32_t> tokens;
  // With a tokenizer: the generated text up to (not including) a stop string; exactly the
  // concatenation of the pieces passed to the callback.
  std::string text;
  StopReason stop_reason = StopReason::kLength;
  GenerateStats stats;
  // One per generated token when options.top_logprobs >= 0 (tokens fed rather than sampled from
  // logits have none).
  std::vector<PieceLogprobs> logprobs;
};

// One step of the stream: the token just generated, and the text that became final with it
// (possibly empty: part of a character, or text that might begin a stop string, is held back).
struct StreamPiece {
  int32_t token = 0;
  std::string text;
  std::optional<PieceLogprobs> logprobs;  // when options.top_logprobs >= 0
};
// Called after every generated token; returning false stops generation (StopReason::kCancelled).
using StreamCallback = std::function<bool(const StreamPiece& piece)>;

// Throws InvalidArgument for options generate() would refuse (a negative budget, an empty stop
// string, stop strings without a tokenizer).
void validate(const GenerateOptions& options);

// Generates a continuation of `prompt` (non-empty) in a context of its own, sized for the prompt
// and options.max_new_tokens (at most the model's max_seq_len()). Throws InvalidArgument when
// the prompt does not fit in max_seq_len() or `options` fail validate(). For many requests at
// once use the Engine; for a conversation that keeps its cache between turns, a Session.
GenerateResult generate(const model::Model& model, const std::vector<int32_t>& prompt,
                        const GenerateOptions& options, sampler::Sampler& sampler,
                        const StreamCallback& on_piece = nullptr);

}  // namespace infer::generate

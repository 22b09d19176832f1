#pragma once
// One generation in progress, advanced a token at a time by whatever runs the model
// (generate(), Session, the Engine): it samples with the caller's sampler and owns the stop rules
// (end-of-sequence ids, stop strings matched across token boundaries, the token budget, a full
// context), the stream decoder and the result so far. Also the few checks every driver shares:
// which ids end a reply, whether a tokenizer belongs to a model, whether a prompt fits.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "infer/generate/generate.h"
#include "infer/model/config.h"
#include "infer/sampler/sampler.h"
#include "infer/tokenizer/stream_decoder.h"
#include "infer/tokenizer/tokenizer.h"

namespace infer::generate {

// Every end-of-sequence id the model's config and the tokenizer name.
std::vector<int32_t> default_eos_ids(const model::ModelConfig& config,
                                     const tokenizer::Tokenizer* tokenizer);

// Throws InvalidArgument when the tokenizer has more tokens than the model's vocabulary (a
// tokenizer from another model). `tokenizer_name` and `model_name` name them in the message.
void check_tokenizer_fits(const model::ModelConfig& config, const tokenizer::Tokenizer& tokenizer,
                          const std::string& tokenizer_name = "the tokenizer",
                          const std::string& model_name = "the model");

// Throws InvalidArgument when `prompt_tokens` new tokens do not fit after `n_past` in a context
// of `capacity` positions, or the prompt is empty.
void check_prompt_fits(int64_t prompt_tokens, int64_t n_past, int64_t capacity);

class Generation {
 public:
  // `prompt` is what the model is about to run and `context` what it holds before it (the
  // repetition penalty sees both). The sampler and options.tokenizer must outlive this object.
  // Throws InvalidArgument for options generate() would refuse.
  Generation(const GenerateOptions& options, sampler::Sampler& sampler,
             const std::vector<int32_t>& prompt, const std::vector<int32_t>& context = {});

  // What one token brought: the token, the text that became final with it, and, when it is the
  // last one, why.
  struct Step {
    StreamPiece piece;
    std::optional<StopReason> stop;
  };
  // Samples the next token from the logits of the last position and feeds it. `context_full`:
  // the context has no room to run another token.
  Step next(const std::vector<float>& logits, bool context_full);
  // Feeds a token chosen elsewhere.
  Step feed(int32_t token, bool context_full);
  // Feeds the arg-max of the logits found where they are (Model::forward_argmax), for a sampler
  // whose params are argmax_only() and no log-probabilities; -1 (logits holding a NaN) throws
  // InvalidArgument, as next() would.
  Step next_argmax(int32_t argmax, bool context_full);
  // Whether next_argmax() can stand for next(): greedy, no penalties, no log-probabilities.
  bool argmax_only() const;
  // Ends the generation early (StopReason::kCancelled); text held back is dropped.
  void cancel();

  bool finished() const { return finished_; }
  int64_t generated() const { return static_cast<int64_t>(result_.tokens.size()); }
  // Tokens, text and stop reason so far; the caller fills the stats.
  GenerateResult& result() { return result_; }

 private:
  // Decoded text on its way out: emits what can no longer be part of a stop string and holds
  // back the longest tail that could still begin one.
  class StopStringFilter {
   public:
    explicit StopStringFilter(std::vector<std::string> stops) : stops_(std::move(stops)) {}
    std::string push(const std::string& text, bool& stopped);
    std::string flush() { return std::exchange(pending_, std::string()); }

   private:
    size_t longest_stop_prefix_suffix() const;
    std::vector<std::string> stops_;
    std::string pending_;
  };

  GenerateOptions options_;
  sampler::Sampler& sampler_;
  std::optional<tokenizer::StreamDecoder> decoder_;
  StopStringFilter filter_;
  GenerateResult result_;
  bool finished_ = false;
};

}  // namespace infer::generate

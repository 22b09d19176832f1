#pragma once
// Picks the next token from the logits of the last position: greedy, or sampling with the
// processors HF transformers applies, in its order — repetition penalty (HF), frequency and
// presence penalties (OpenAI), temperature, top-k, top-p, min-p — then a seeded draw.
#include <cstdint>
#include <optional>
#include <random>
#include <unordered_map>
#include <utility>
#include <vector>

namespace infer::sampler {

struct SamplingParams {
  float temperature = 0.0f;  // 0 = greedy (argmax, the lowest id on ties, as torch.argmax)
  int64_t top_k = 0;         // keep the k most likely tokens; 0 = off
  float top_p = 1.0f;        // keep the smallest set whose probability reaches top_p; 1 = off
  float min_p = 0.0f;        // drop tokens less likely than min_p x the most likely; 0 = off
  // HF semantics: every token already in the context (prompt included) has its logit divided by
  // the penalty when positive, multiplied when negative; 1 = off.
  float repetition_penalty = 1.0f;
  // OpenAI semantics, over the tokens generated so far: logit -= frequency_penalty x count
  // + presence_penalty x (count > 0); 0 = off.
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  std::optional<uint64_t> seed;  // unset: a random seed

  // Throws InvalidArgument naming the parameter, its value and the accepted range.
  void validate() const;
  bool greedy() const { return temperature == 0.0f; }
  bool penalised() const {
    return repetition_penalty != 1.0f || frequency_penalty != 0.0f || presence_penalty != 0.0f;
  }
  // The choice is the logits' arg-max and nothing else (greedy, no penalties): a GPU can make it
  // without sending the logits to the host (Model::forward_argmax).
  bool argmax_only() const { return greedy() && !penalised(); }
};

class Sampler {
 public:
  explicit Sampler(SamplingParams params = {});

  // Starts a new reply: `context` is every token the model has seen so far (the prompt, and for a
  // chat the earlier turns), which the repetition penalty looks at; the frequency and presence
  // counts start from zero.
  void begin(const std::vector<int32_t>& context);
  // The next token for these logits; the token is recorded for the penalties. Logits of +inf
  // share all the probability; InvalidArgument when a logit is NaN or every logit is -inf.
  int32_t sample(const std::vector<float>& logits);
  // The distribution sample() draws from for these logits, as (token, probability) pairs in
  // decreasing probability; greedy gives the one arg-max token with probability 1. Records
  // nothing.
  std::vector<std::pair<int32_t, float>> distribution(const std::vector<float>& logits);

  const SamplingParams& params() const { return params_; }

 private:
  void apply_penalties(std::vector<float>& logits) const;
  // The tokens still in play after the penalties and truncations, as (scaled logit, id),
  // unsorted; greedy leaves the one arg-max token.
  const std::vector<std::pair<float, int32_t>>& truncate(const std::vector<float>& logits);
  void record(int32_t token);

  SamplingParams params_;
  std::mt19937_64 rng_;
  std::unordered_map<int32_t, int64_t> in_context_;  // token -> count, prompt and generated
  std::unordered_map<int32_t, int64_t> generated_;   // token -> count, this reply
  std::vector<float> scratch_;
  std::vector<std::pair<float, int32_t>> candidates_;
};

}  // namespace infer::sampler

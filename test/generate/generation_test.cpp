// Generation's own rules without a model: position_logprobs (the log-softmax of the logits at one
// position, against a plain computation in double precision) and ignore_eos.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "infer/generate/generate.h"
#include "infer/generate/generation.h"

namespace infer::generate {
namespace {

double log_sum_exp(const std::vector<float>& logits) {
  double sum = 0;
  for (float v : logits) sum += std::exp(static_cast<double>(v));
  return std::log(sum);
}

TEST(Logprobs, AreTheLogSoftmaxOfTheLogits) {
  const std::vector<float> logits = {1.0f, 3.0f, -2.0f, 3.0f, 0.5f, 2.5f};
  const double norm = log_sum_exp(logits);
  const PieceLogprobs lp = position_logprobs(logits, 2, 4);
  EXPECT_EQ(lp.chosen.token, 2);
  EXPECT_NEAR(lp.chosen.logprob, -2.0 - norm, 1e-6);
  // Most likely first; equal logits in id order.
  const std::vector<int32_t> order = {1, 3, 5, 0};
  ASSERT_EQ(lp.top.size(), order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    EXPECT_EQ(lp.top[i].token, order[i]) << "rank " << i;
    EXPECT_NEAR(lp.top[i].logprob, logits[static_cast<size_t>(order[i])] - norm, 1e-6);
  }
}

TEST(Logprobs, StayFiniteForLargeLogitsAndCoverTheWholeVocabulary) {
  std::vector<float> logits(1000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = 800.0f + static_cast<float>(i % 37);
  double total = 0;
  for (int32_t id = 0; id < static_cast<int32_t>(logits.size()); ++id) {
    const float logprob = position_logprobs(logits, id, 0).chosen.logprob;
    ASSERT_TRUE(std::isfinite(logprob)) << "token " << id;
    total += std::exp(static_cast<double>(logprob));
  }
  EXPECT_NEAR(total, 1.0, 1e-4);
  EXPECT_TRUE(position_logprobs(logits, 0, 0).top.empty());
  EXPECT_EQ(position_logprobs(logits, 0, kMaxTopLogprobs).top.size(),
            static_cast<size_t>(kMaxTopLogprobs));
}

TEST(Generation, IgnoreEosRunsToTheBudget) {
  sampler::Sampler greedy(sampler::SamplingParams{});
  GenerateOptions options;
  options.max_new_tokens = 3;
  options.eos_token_ids = {7};
  Generation stops(options, greedy, {1, 2});
  EXPECT_EQ(stops.feed(7, false).stop, StopReason::kEos);
  options.ignore_eos = true;
  Generation runs_on(options, greedy, {1, 2});
  EXPECT_FALSE(runs_on.feed(7, false).stop.has_value());
  EXPECT_FALSE(runs_on.feed(7, false).stop.has_value());
  EXPECT_EQ(runs_on.feed(7, false).stop, StopReason::kLength);
  EXPECT_EQ(runs_on.result().tokens, (std::vector<int32_t>{7, 7, 7}));
}

}  // namespace
}  // namespace infer::generate

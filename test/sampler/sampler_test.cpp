// Samplers against HF transformers' logits processors (test/data/sampler_goldens.json, made by
// hf_infer/make_sampler_goldens.py): the distribution each setting samples from, and the
// empirical distribution of 20k seeded draws; OpenAI penalties by their formula; a 150k-token
// vocabulary against a plain full-sort reference; seeds; parameter validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "infer/base/error.h"
#include "infer/sampler/sampler.h"
#include "test_data.h"

namespace infer {
namespace {

using nlohmann::json;
using sampler::Sampler;
using sampler::SamplingParams;

constexpr int kDraws = 20000;

const json& goldens() {
  static const json g = json::parse(test::read_file(test::golden_dir() + "/sampler_goldens.json"));
  return g;
}

SamplingParams params_from(const json& s, uint64_t seed) {
  SamplingParams p;
  p.temperature = s.value("temperature", 1.0f);
  p.top_k = s.value("top_k", int64_t{0});
  p.top_p = s.value("top_p", 1.0f);
  p.min_p = s.value("min_p", 0.0f);
  p.repetition_penalty = s.value("repetition_penalty", 1.0f);
  p.seed = seed;
  return p;
}

std::vector<float> as_dense(const std::vector<std::pair<int32_t, float>>& dist, size_t vocab) {
  std::vector<float> dense(vocab, 0.0f);
  for (const auto& [id, p] : dist) dense.at(id) = p;
  return dense;
}

// Half the L1 distance between an empirical histogram and probabilities.
double total_variation(const std::vector<int64_t>& counts, const std::vector<double>& probs) {
  const double n = std::accumulate(counts.begin(), counts.end(), 0.0);
  double tv = 0;
  for (size_t i = 0; i < probs.size(); ++i) tv += std::abs(counts[i] / n - probs[i]);
  return tv / 2;
}

TEST(SamplerGolden, DistributionEqualsHfProcessors) {
  const auto logits = goldens()["logits"].get<std::vector<float>>();
  const auto context = goldens()["context"].get<std::vector<int32_t>>();
  for (const json& c : goldens()["cases"]) {
    Sampler s(params_from(c["settings"], 1));
    s.begin(context);
    const auto ours = as_dense(s.distribution(logits), logits.size());
    const auto hf = c["probabilities"].get<std::vector<double>>();
    for (size_t i = 0; i < hf.size(); ++i) {
      if (hf[i] == 0) {
        EXPECT_EQ(ours[i], 0.0f) << c["settings"].dump() << " token " << i << " must be cut";
      } else {
        EXPECT_NEAR(ours[i], hf[i], 2e-6) << c["settings"].dump() << " token " << i;
      }
    }
  }
}

TEST(SamplerGolden, DrawsFollowTheHfDistribution) {
  const auto logits = goldens()["logits"].get<std::vector<float>>();
  const auto context = goldens()["context"].get<std::vector<int32_t>>();
  for (const json& c : goldens()["cases"]) {
    Sampler s(params_from(c["settings"], 1234));
    const auto hf = c["probabilities"].get<std::vector<double>>();
    std::vector<int64_t> counts(hf.size(), 0);
    for (int i = 0; i < kDraws; ++i) {
      s.begin(context);  // the penalties see the same context on every draw
      ++counts.at(s.sample(logits));
    }
    for (size_t i = 0; i < hf.size(); ++i)
      if (hf[i] == 0) EXPECT_EQ(counts[i], 0) << c["settings"].dump() << " drew cut token " << i;
    // With 20k draws over <= 40 outcomes the expected distance is ~0.01; 0.025 fails a sampler
    // that is off by a few percent anywhere (a wrong temperature or cut gives > 0.05).
    EXPECT_LT(total_variation(counts, hf), 0.025) << c["settings"].dump();
  }
}

TEST(Sampler, GreedyIsArgmaxWhateverTheOtherSettings) {
  const std::vector<float> logits = {0.5f, 3.0f, -1.0f, 3.0f, 2.9f};
  SamplingParams p;
  p.temperature = 0;
  p.top_k = 2;
  p.top_p = 0.1f;
  Sampler s(p);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(s.sample(logits), 1);  // the first of equal maxima
  const auto dist = s.distribution(logits);
  ASSERT_EQ(dist.size(), 1u);
  EXPECT_EQ(dist[0], (std::pair<int32_t, float>{1, 1.0f}));
}

TEST(Sampler, FrequencyAndPresencePenaltiesChangeExactlyTheGeneratedTokens) {
  // OpenAI: logit -= frequency x count + presence x (count > 0), over generated tokens only.
  SamplingParams p;
  p.temperature = 1.0f;
  p.frequency_penalty = 0.5f;
  p.presence_penalty = 0.25f;
  Sampler probe(p);
  probe.begin({0, 1});  // context tokens are not penalised by these two
  // Two generated 4s, drawn from logits that make 4 certain.
  for (int i = 0; i < 2; ++i) EXPECT_EQ(probe.sample({-1e9f, -1e9f, -1e9f, -1e9f, 0.0f}), 4);
  // On flat logits token 4 now scores 0 - 0.5 x 2 - 0.25 = -1.25; the others keep 0.
  const std::vector<float> flat = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  const auto dense = as_dense(probe.distribution(flat), flat.size());
  const double other = 1.0 / (4.0 + std::exp(-1.25));
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(dense[i], other, 1e-6);
  EXPECT_NEAR(dense[4], std::exp(-1.25) * other, 1e-6);
}

TEST(Sampler, RepetitionPenaltySeesContextAndGeneratedTokens) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.repetition_penalty = 2.0f;
  Sampler s(p);
  s.begin({0});
  const std::vector<float> logits = {2.0f, -2.0f, 0.0f};
  // Token 0 (in the context, positive) is halved: softmax over {1, -2, 0}.
  auto dense = as_dense(s.distribution(logits), 3);
  const double z = std::exp(1.0) + std::exp(-2.0) + 1.0;
  EXPECT_NEAR(dense[0], std::exp(1.0) / z, 1e-6);
  // After generating token 1 (negative), it is doubled: {1, -4, 0}.
  EXPECT_EQ(s.sample({-1e9f, 0.0f, -1e9f}), 1);
  dense = as_dense(s.distribution(logits), 3);
  const double z2 = std::exp(1.0) + std::exp(-4.0) + 1.0;
  EXPECT_NEAR(dense[1], std::exp(-4.0) / z2, 1e-6);
}

// The distribution by the letter of HF's warpers, with full sorts: the slow reference.
std::vector<double> reference_top_p(const std::vector<float>& logits, float temperature,
                                    float top_p) {
  std::vector<double> z(logits.begin(), logits.end());
  for (double& v : z) v /= temperature;
  const double top = *std::max_element(z.begin(), z.end());
  double total = 0;
  for (double v : z) total += std::exp(v - top);
  std::vector<size_t> ascending(z.size());
  std::iota(ascending.begin(), ascending.end(), 0);
  std::stable_sort(ascending.begin(), ascending.end(),
                   [&](size_t a, size_t b) { return z[a] < z[b] || (z[a] == z[b] && a > b); });
  std::vector<bool> keep(z.size(), false);
  double cumulative = 0;
  for (size_t i = 0; i < ascending.size(); ++i) {
    cumulative += std::exp(z[ascending[i]] - top) / total;
    keep[ascending[i]] = cumulative > 1.0 - top_p || i + 1 == ascending.size();
  }
  double kept = 0;
  for (size_t i = 0; i < z.size(); ++i)
    if (keep[i]) kept += std::exp(z[i] - top);
  std::vector<double> probs(z.size(), 0.0);
  for (size_t i = 0; i < z.size(); ++i)
    if (keep[i]) probs[i] = std::exp(z[i] - top) / kept;
  return probs;
}

TEST(Sampler, TopPOnALargeVocabularyMatchesAFullSort) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> logits(151936);
  for (float& l : logits) l = normal(rng);
  for (float top_p : {0.5f, 0.9f, 0.99f}) {
    SamplingParams p;
    p.temperature = 0.8f;
    p.top_p = top_p;
    Sampler s(p);
    const auto ours = as_dense(s.distribution(logits), logits.size());
    const auto expected = reference_top_p(logits, 0.8f, top_p);
    size_t kept = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
      ASSERT_EQ(ours[i] > 0, expected[i] > 0) << "top_p " << top_p << " token " << i;
      kept += expected[i] > 0;
      EXPECT_NEAR(ours[i], expected[i], 1e-6);
    }
    EXPECT_GT(kept, 10u) << "the test should keep a real nucleus";
  }
}

TEST(Sampler, SameSeedSameTokens) {
  const auto logits = goldens()["logits"].get<std::vector<float>>();
  SamplingParams p;
  p.temperature = 1.2f;
  p.seed = 99;
  Sampler a(p), b(p);
  std::vector<int32_t> from_a, from_b;
  for (int i = 0; i < 200; ++i) {
    from_a.push_back(a.sample(logits));
    from_b.push_back(b.sample(logits));
  }
  EXPECT_EQ(from_a, from_b);
  p.seed = 100;
  Sampler c(p);
  std::vector<int32_t> from_c;
  for (int i = 0; i < 200; ++i) from_c.push_back(c.sample(logits));
  EXPECT_NE(from_a, from_c);
}

TEST(Sampler, OutOfRangeParametersAreRefusedByName) {
  const auto refused = [](auto edit, const std::string& needle) {
    SamplingParams p;
    edit(p);
    try {
      Sampler s(p);
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const base::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  refused([](SamplingParams& p) { p.temperature = -0.5f; }, "temperature must be >= 0");
  refused([](SamplingParams& p) { p.temperature = NAN; }, "temperature must be >= 0");
  refused([](SamplingParams& p) { p.top_p = 1.5f; }, "top_p must be in (0, 1]");
  refused([](SamplingParams& p) { p.top_p = 0.0f; }, "top_p must be in (0, 1]");
  refused([](SamplingParams& p) { p.top_k = -1; }, "top_k must be >= 0");
  refused([](SamplingParams& p) { p.min_p = 2.0f; }, "min_p must be in [0, 1]");
  refused([](SamplingParams& p) { p.repetition_penalty = 0.0f; }, "repetition_penalty must be > 0");
  refused([](SamplingParams& p) { p.frequency_penalty = 3.0f; }, "frequency_penalty must be in");
  refused([](SamplingParams& p) { p.presence_penalty = -2.5f; }, "presence_penalty must be in");
  Sampler s;
  EXPECT_THROW(s.sample({}), base::InvalidArgument);
}

TEST(Sampler, NanLogitsAreAnErrorWhateverTheFilters) {
  // A NaN used to make top-k or min-p drop every candidate: a heap overflow under ASan, token 0
  // in a release build.
  std::vector<float> logits(64, 1.0f);
  logits[5] = NAN;
  for (const auto& edit : std::vector<std::function<void(SamplingParams&)>>{
           [](SamplingParams&) {}, [](SamplingParams& p) { p.temperature = 1.0f; },
           [](SamplingParams& p) { p.temperature = 1.0f, p.top_k = 3; },
           [](SamplingParams& p) { p.temperature = 0.7f, p.min_p = 0.5f; },
           [](SamplingParams& p) { p.temperature = 0.7f, p.top_p = 0.3f; }}) {
    SamplingParams p;
    edit(p);
    Sampler s(p);
    try {
      s.sample(logits);
      ADD_FAILURE() << "sampled from NaN logits";
    } catch (const base::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("the logit of token 5 is NaN"), std::string::npos);
    }
    EXPECT_THROW(s.distribution(logits), base::InvalidArgument);
  }
}

TEST(Sampler, InfiniteLogitsShareTheMass) {
  const float inf = std::numeric_limits<float>::infinity();
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 2;
  p.seed = 3;
  Sampler s(p);
  const auto d = s.distribution({0.0f, inf, -inf, inf, 5.0f});
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0], std::make_pair(1, 0.5f));
  EXPECT_EQ(d[1], std::make_pair(3, 0.5f));
  // A tiny temperature is greedy in the limit, not an overflow to -inf everywhere.
  p.temperature = 1e-30f;
  p.top_k = 0;
  Sampler cold(p);
  EXPECT_EQ(cold.sample({-5.0f, -3.0f, -4.0f}), 1);
  try {
    s.sample({-inf, -inf});
    ADD_FAILURE() << "sampled when every logit is -inf";
  } catch (const base::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("every logit is -inf"), std::string::npos);
  }
}

// Any logits with any valid parameters give a token inside the vocabulary and a distribution of
// finite probabilities summing to 1, or a clear InvalidArgument: never an id out of bounds.
TEST(SamplerProperty, AnyLogitsAnyValidParameters) {
  const float inf = std::numeric_limits<float>::infinity();
  std::mt19937 rng(2026);
  const auto pick = [&](std::initializer_list<float> values) {
    return *(values.begin() + rng() % values.size());
  };
  for (int round = 0; round < 3000; ++round) {
    const size_t vocab = round % 500 == 0 ? (size_t{1} << 20) : 1 + rng() % 300;
    std::vector<float> logits(vocab);
    const int kind = static_cast<int>(rng() % 7);
    for (float& l : logits) {
      switch (kind) {
        case 0:
          l = std::normal_distribution<float>(0, 3)(rng);
          break;
        case 1:
          l = 2.5f;
          break;  // all equal
        case 2:
          l = -inf;
          break;
        case 3:
          l = pick({-inf, inf, 0.0f, 1e38f, -1e38f});
          break;
        case 4:
          l = rng() % 50 ? std::normal_distribution<float>(0, 3)(rng) : NAN;
          break;
        case 5:
          l = pick({3e38f, -3e38f, 1e-45f});
          break;
        default:
          l = std::normal_distribution<float>(0, 1e4f)(rng);
          break;
      }
    }
    SamplingParams p;
    p.temperature = pick({0.0f, 1e-30f, 0.3f, 1.0f, 80.0f});
    p.top_k = static_cast<int64_t>(rng() % 4 == 0 ? 0 : rng() % (vocab + 3));
    p.top_p = pick({1.0f, 0.9f, 0.5f, 1e-6f});
    p.min_p = pick({0.0f, 0.05f, 1.0f});
    p.repetition_penalty = pick({1.0f, 1.3f, 0.7f});
    p.frequency_penalty = pick({0.0f, 2.0f, -2.0f});
    p.presence_penalty = pick({0.0f, 1.5f});
    p.seed = round;
    Sampler s(p);
    std::vector<int32_t> context;
    for (int i = 0; i < 5; ++i) context.push_back(static_cast<int32_t>(rng() % (vocab + 10)));
    s.begin(context);
    const bool has_nan =
        std::any_of(logits.begin(), logits.end(), [](float l) { return std::isnan(l); });
    // -inf everywhere, or so close that a penalty takes it there.
    const bool all_minus_inf =
        std::all_of(logits.begin(), logits.end(), [](float l) { return l <= -1e38f; });
    try {
      for (int draw = 0; draw < 3; ++draw) {
        const int32_t token = s.sample(logits);
        ASSERT_GE(token, 0);
        ASSERT_LT(token, static_cast<int32_t>(vocab));
      }
      const auto d = s.distribution(logits);
      ASSERT_FALSE(d.empty());
      double total = 0;
      for (const auto& [token, prob] : d) {
        ASSERT_GE(token, 0);
        ASSERT_LT(token, static_cast<int32_t>(vocab));
        ASSERT_TRUE(std::isfinite(prob) && prob >= 0) << prob;
        total += prob;
      }
      ASSERT_NEAR(total, 1.0, 1e-3) << "round " << round;
      ASSERT_FALSE(has_nan) << "round " << round << ": NaN logits were sampled from";
    } catch (const base::InvalidArgument& e) {
      const std::string why = e.what();
      const bool expected = has_nan || (!p.greedy() && all_minus_inf &&
                                        why.find("every logit is -inf") != std::string::npos);
      ASSERT_TRUE(expected) << "round " << round << ": " << why;
    }
  }
}

}  // namespace
}  // namespace infer

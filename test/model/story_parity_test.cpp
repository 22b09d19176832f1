// The story model against HF transformers goldens (test/data/story_goldens.json, made by
// hf_infer/make_story_goldens.py): identical prompt ids, last-position logits within 1e-4,
// identical greedy continuations. Also: prefill in one pass == token by token, CUDA == CPU.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "infer/base/error.h"
#include "infer/generate/generate.h"
#include "infer/model/model.h"
#include "infer/sampler/sampler.h"
#include "infer/tokenizer/tokenizer.h"
#include "test_data.h"

namespace infer {
namespace {

using nlohmann::json;

constexpr double kLogitTolerance = 1e-4;

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - b[i]));
  return worst;
}

class StoryModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string bin = test::exported_model_dir() + "/story.bin";
    const std::string tok = test::shared_data_dir() + "/models/story/tokenizer.json";
    if (!test::file_exists(bin) || !test::file_exists(tok)) return;
    model_ = model::Model::load(bin).release();
    tokenizer_ = tokenizer::Tokenizer::load(tok).release();
    goldens_ = new json(json::parse(test::read_file(test::golden_dir() + "/story_goldens.json")));
  }
  static void TearDownTestSuite() {
    delete model_;
    delete tokenizer_;
    delete goldens_;
    model_ = nullptr;
    tokenizer_ = nullptr;
    goldens_ = nullptr;
  }
  void SetUp() override {
    if (!model_)
      GTEST_SKIP() << "story model not available (set INFER_TEST_DATA and run via ctest)";
  }

  static model::Model* model_;
  static tokenizer::Tokenizer* tokenizer_;
  static json* goldens_;
};

model::Model* StoryModelTest::model_ = nullptr;
tokenizer::Tokenizer* StoryModelTest::tokenizer_ = nullptr;
json* StoryModelTest::goldens_ = nullptr;

TEST_F(StoryModelTest, PromptIdsMatchHf) {
  for (const json& c : (*goldens_)["cases"]) {
    EXPECT_EQ(tokenizer_->encode(c["prompt"].get<std::string>()),
              c["prompt_ids"].get<std::vector<int32_t>>())
        << c["prompt"];
  }
}

TEST_F(StoryModelTest, LastLogitsMatchHf) {
  for (const json& c : (*goldens_)["cases"]) {
    auto state = model_->new_state();
    const auto& logits = model_->forward(*state, c["prompt_ids"].get<std::vector<int32_t>>());
    EXPECT_LE(max_abs_diff(logits, c["last_logits"].get<std::vector<float>>()), kLogitTolerance)
        << c["prompt"];
  }
}

TEST_F(StoryModelTest, GreedyContinuationsMatchHfTokenForToken) {
  int long_cases = 0;
  for (const json& c : (*goldens_)["cases"]) {
    const auto expected = c["greedy_ids"].get<std::vector<int32_t>>();
    auto state = model_->new_state();
    generate::GenerateOptions options;
    options.max_new_tokens = (*goldens_)["new_tokens"].get<int64_t>();
    options.eos_token_ids = model_->config().eos_token_ids;
    sampler::ArgmaxSampler greedy;
    const auto result = generate::generate(
        *model_, *state, c["prompt_ids"].get<std::vector<int32_t>>(), options, greedy);
    EXPECT_EQ(result.tokens, expected) << c["prompt"];
    EXPECT_EQ(tokenizer_->decode(result.tokens), c["greedy_text"].get<std::string>());
    long_cases += expected.size() == 100;
  }
  EXPECT_GE(long_cases, 5) << "the goldens should hold at least 5 continuations of 100 tokens";
}

TEST_F(StoryModelTest, OnePassPrefillEqualsTokenByToken) {
  const auto prompt = (*goldens_)["cases"][1]["prompt_ids"].get<std::vector<int32_t>>();
  auto whole = model_->new_state();
  const std::vector<float> one_pass = model_->forward(*whole, prompt);
  auto stepwise = model_->new_state();
  std::vector<float> last;
  for (int32_t id : prompt) last = model_->forward(*stepwise, {id});
  EXPECT_LE(max_abs_diff(one_pass, last), 1e-5);
  EXPECT_EQ(whole->n_past(), static_cast<int64_t>(prompt.size()));
}

TEST_F(StoryModelTest, LongPromptsRunInChunks) {
  // More tokens than one prefill chunk (512) needs a context longer than the story model's 512.
  std::vector<int32_t> prompt(300, 0);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>(3 + (i * 37) % 2000);
  auto state = model_->new_state();
  const std::vector<float> whole = model_->forward(*state, prompt);
  auto halves = model_->new_state();
  model_->forward(*halves, std::vector<int32_t>(prompt.begin(), prompt.begin() + 150));
  const std::vector<float> second =
      model_->forward(*halves, std::vector<int32_t>(prompt.begin() + 150, prompt.end()));
  EXPECT_LE(max_abs_diff(whole, second), 1e-5);
}

TEST_F(StoryModelTest, BadInputIsRefusedAndStateKept) {
  auto state = model_->new_state();
  model_->forward(*state, {1, 80});
  EXPECT_THROW(model_->forward(*state, {}), base::InvalidArgument);
  EXPECT_THROW(model_->forward(*state, {1, 5000}), base::InvalidArgument);
  EXPECT_THROW(model_->forward(*state, {-1}), base::InvalidArgument);
  EXPECT_THROW(model_->forward(*state, std::vector<int32_t>(511, 5)), base::InvalidArgument);
  EXPECT_EQ(state->n_past(), 2);
}

TEST_F(StoryModelTest, GenerationStopsWhenTheContextIsFull) {
  model::LoadOptions options;
  options.max_seq_len = 10;
  auto small = model::Model::load(test::exported_model_dir() + "/story.bin", options);
  auto state = small->new_state();
  generate::GenerateOptions gen;
  gen.max_new_tokens = 100;
  sampler::ArgmaxSampler greedy;
  const auto result = generate::generate(*small, *state, {1, 80, 429, 598, 303, 489}, gen, greedy);
  EXPECT_EQ(result.stop_reason, generate::StopReason::kContext);
  EXPECT_EQ(result.tokens.size(), 5u);
  EXPECT_THROW(
      generate::generate(*small, *small->new_state(), std::vector<int32_t>(11, 5), gen, greedy),
      base::InvalidArgument);
  options.max_seq_len = 513;
  EXPECT_THROW(model::Model::load(test::exported_model_dir() + "/story.bin", options),
               base::InvalidArgument);
}

TEST_F(StoryModelTest, CudaMatchesCpu) {
  if (!base::cuda_available()) GTEST_SKIP() << "no usable CUDA GPU on this machine";
  model::LoadOptions options;
  options.device = base::DeviceType::kCUDA;
  auto gpu = model::Model::load(test::exported_model_dir() + "/story.bin", options);
  for (const json& c : (*goldens_)["cases"]) {
    auto state = gpu->new_state();
    const auto& logits = gpu->forward(*state, c["prompt_ids"].get<std::vector<int32_t>>());
    EXPECT_LE(max_abs_diff(logits, c["last_logits"].get<std::vector<float>>()), kLogitTolerance)
        << c["prompt"];
    generate::GenerateOptions gen;
    gen.max_new_tokens = 100;
    gen.eos_token_ids = gpu->config().eos_token_ids;
    sampler::ArgmaxSampler greedy;
    auto state2 = gpu->new_state();
    EXPECT_EQ(
        generate::generate(*gpu, *state2, c["prompt_ids"].get<std::vector<int32_t>>(), gen, greedy)
            .tokens,
        c["greedy_ids"].get<std::vector<int32_t>>());
  }
}

}  // namespace
}  // namespace infer

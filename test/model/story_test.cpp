// The story model with its tokenizer: prompt ids equal HF's, prefill in one pass equals token by
// token and in chunks, bad input and a full context. Logits and greedy continuations against
// HF are in model_parity_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "compare.h"
#include "infer/base/error.h"
#include "infer/generate/generate.h"
#include "infer/model/model.h"
#include "infer/sampler/sampler.h"
#include "infer/tokenizer/tokenizer.h"
#include "test_data.h"

namespace infer {
namespace {

using nlohmann::json;

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

TEST_F(StoryModelTest, OnePassPrefillEqualsTokenByToken) {
  const auto prompt = (*goldens_)["cases"][1]["prompt_ids"].get<std::vector<int32_t>>();
  auto whole = model_->new_state();
  const std::vector<float> one_pass = model_->forward(*whole, prompt);
  auto stepwise = model_->new_state();
  std::vector<float> last;
  for (int32_t id : prompt) last = model_->forward(*stepwise, {id});
  EXPECT_LE(test::max_abs_diff(one_pass, last), 1e-5);
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
  EXPECT_LE(test::max_abs_diff(whole, second), 1e-5);
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
  sampler::Sampler greedy;
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

}  // namespace
}  // namespace infer

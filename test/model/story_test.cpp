// The story model with its tokenizer: prompt ids equal HF's, prefill in one pass equals token by
// token and in chunks, bad input and a full context; the generation loop's text stream, stop
// strings and cancellation. Logits and greedy continuations against HF are in
// model_parity_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "compare.h"
#include "infer/base/error.h"
#include "infer/generate/generate_in_state.h"
#include "infer/model/inference_state.h"
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
  auto whole = std::make_unique<model::InferenceState>(*model_);
  const std::vector<float> one_pass = whole->forward(prompt);
  auto stepwise = std::make_unique<model::InferenceState>(*model_);
  std::vector<float> last;
  for (int32_t id : prompt) last = stepwise->forward({id});
  // The one-pass GEMM (OpenBLAS) and the per-token GEMVs sum in different orders (the generic
  // GEMV strictly left to right), so they agree to fp32 rounding of logits about 10 in size.
  EXPECT_LE(test::max_abs_diff(one_pass, last), 5e-5);
  EXPECT_EQ(whole->n_past(), static_cast<int64_t>(prompt.size()));
}

TEST_F(StoryModelTest, LongPromptsRunInChunks) {
  // More tokens than one prefill chunk (512) needs a context longer than the story model's 512.
  std::vector<int32_t> prompt(300, 0);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>(3 + (i * 37) % 2000);
  auto state = std::make_unique<model::InferenceState>(*model_);
  const std::vector<float> whole = state->forward(prompt);
  auto halves = std::make_unique<model::InferenceState>(*model_);
  halves->forward(std::vector<int32_t>(prompt.begin(), prompt.begin() + 150));
  const std::vector<float> second =
      halves->forward(std::vector<int32_t>(prompt.begin() + 150, prompt.end()));
  EXPECT_LE(test::max_abs_diff(whole, second), 1e-5);
}

TEST_F(StoryModelTest, BadInputIsRefusedAndStateKept) {
  auto state = std::make_unique<model::InferenceState>(*model_);
  state->forward({1, 80});
  EXPECT_THROW(state->forward({}), base::InvalidArgument);
  EXPECT_THROW(state->forward({1, 5000}), base::InvalidArgument);
  EXPECT_THROW(state->forward({-1}), base::InvalidArgument);
  EXPECT_THROW(state->forward(std::vector<int32_t>(511, 5)), base::InvalidArgument);
  EXPECT_EQ(state->n_past(), 2);
}

TEST_F(StoryModelTest, GenerationStopsWhenTheContextIsFull) {
  model::LoadOptions options;
  options.max_seq_len = 10;
  auto small = model::Model::load(test::exported_model_dir() + "/story.bin", options);
  generate::GenerateOptions gen;
  gen.max_new_tokens = 100;
  sampler::Sampler greedy;
  const auto result = generate::generate(*small, {1, 80, 429, 598, 303, 489}, gen, greedy);
  EXPECT_EQ(result.stop_reason, generate::StopReason::kContext);
  EXPECT_EQ(result.tokens.size(), 5u);
  EXPECT_THROW(generate::generate(*small, std::vector<int32_t>(11, 5), gen, greedy),
               base::InvalidArgument);
  options.max_seq_len = 513;
  EXPECT_THROW(model::Model::load(test::exported_model_dir() + "/story.bin", options),
               base::InvalidArgument);
}

generate::GenerateResult generate_story(const model::Model& model,
                                        const tokenizer::Tokenizer& tokenizer,
                                        generate::GenerateOptions options,
                                        std::vector<generate::StreamPiece>* pieces = nullptr,
                                        int cancel_after = -1) {
  options.tokenizer = &tokenizer;
  options.text_continues_prompt = true;
  sampler::Sampler greedy;
  int calls = 0;
  return generate::generate(model, tokenizer.encode("Once upon a time"), options, greedy,
                            [&](const generate::StreamPiece& piece) {
                              if (pieces) pieces->push_back(piece);
                              return ++calls != cancel_after;
                            });
}

TEST_F(StoryModelTest, StreamedPiecesConcatenateToTheDecodedText) {
  generate::GenerateOptions options;
  options.max_new_tokens = 80;
  std::vector<generate::StreamPiece> pieces;
  const auto result = generate_story(*model_, *tokenizer_, options, &pieces);
  ASSERT_EQ(pieces.size(), result.tokens.size());
  std::string joined;
  for (size_t i = 0; i < pieces.size(); ++i) {
    EXPECT_EQ(pieces[i].token, result.tokens[i]);
    joined += pieces[i].text;
  }
  EXPECT_EQ(joined, result.text);
  const auto prompt = tokenizer_->encode("Once upon a time");
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), result.tokens.begin(), result.tokens.end());
  EXPECT_EQ("Once upon a time" + result.text, tokenizer_->decode(all));
}

TEST_F(StoryModelTest, AStopStringSplitOverTokensEndsGenerationAndIsNeverShown) {
  generate::GenerateOptions options;
  options.max_new_tokens = 80;
  std::vector<generate::StreamPiece> free_pieces;
  const auto free_run = generate_story(*model_, *tokenizer_, options, &free_pieces);
  // A stop string made of the last two characters of one token's text and the first two of the
  // next, both multi-character pieces, somewhere in the middle of the continuation.
  std::string stop;
  size_t token_index = 0;
  for (size_t i = 10; i + 1 < free_pieces.size() && stop.empty(); ++i) {
    const std::string& a = free_pieces[i].text;
    const std::string& b = free_pieces[i + 1].text;
    if (a.size() >= 3 && b.size() >= 3) {
      stop = a.substr(a.size() - 2) + b.substr(0, 2);
      token_index = i + 1;
    }
  }
  ASSERT_FALSE(stop.empty()) << "no two long adjacent pieces in: " << free_run.text;
  const size_t at = free_run.text.find(stop);
  ASSERT_NE(at, std::string::npos);

  options.stop_strings = {"never appears in a story", stop};
  std::vector<generate::StreamPiece> pieces;
  const auto result = generate_story(*model_, *tokenizer_, options, &pieces);
  EXPECT_EQ(result.stop_reason, generate::StopReason::kStopString);
  EXPECT_EQ(result.text, free_run.text.substr(0, at));
  std::string joined;
  for (const auto& p : pieces) joined += p.text;
  EXPECT_EQ(joined, result.text);
  // The token that completed the stop string is the last one generated (it is in the cache).
  EXPECT_LE(result.tokens.size(), token_index + 1);
  EXPECT_EQ(result.tokens, std::vector<int32_t>(free_run.tokens.begin(),
                                                free_run.tokens.begin() + result.tokens.size()));
}

TEST_F(StoryModelTest, TheCallbackCanCancel) {
  generate::GenerateOptions options;
  options.max_new_tokens = 80;
  const auto result = generate_story(*model_, *tokenizer_, options, nullptr, /*cancel_after=*/5);
  EXPECT_EQ(result.stop_reason, generate::StopReason::kCancelled);
  EXPECT_EQ(result.tokens.size(), 5u);
}

TEST_F(StoryModelTest, StopStringsNeedATokenizerAndContent) {
  generate::GenerateOptions options;
  options.stop_strings = {"x"};
  auto state = std::make_unique<model::InferenceState>(*model_);
  sampler::Sampler greedy;
  EXPECT_THROW(generate::generate(*state, {1, 80}, options, greedy), base::InvalidArgument);
  options.tokenizer = tokenizer_;
  options.stop_strings = {""};
  EXPECT_THROW(generate::generate(*state, {1, 80}, options, greedy), base::InvalidArgument);
  EXPECT_EQ(state->n_past(), 0) << "a refused call leaves the state as it was";
}

}  // namespace
}  // namespace infer

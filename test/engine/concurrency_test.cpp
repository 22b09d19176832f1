// What a server shares between threads, used from several at once (run under ThreadSanitizer by
// .ci/run): chat sessions on one Model, each with its own cache, reply exactly as they do one at
// a time, also while one of them grows the model's RoPE tables past their first size; one
// tokenizer of each kind encodes and decodes from many threads as it does from one.
#include <gtest/gtest.h>

#include <functional>
#include <thread>
#include <vector>

#include "infer/generate/session.h"
#include "infer/model/model.h"
#include "infer/tokenizer/stream_decoder.h"
#include "infer/tokenizer/tokenizer.h"
#include "test_data.h"

namespace infer {
namespace {

constexpr int kThreads = 4;

// Runs job(i) for i in [0, n) on n threads at once.
void run_together(int n, const std::function<void(int)>& job) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back(job, i);
  for (std::thread& t : threads) t.join();
}

class ConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string model_path = test::exported_model_dir() + "/story.bin";
    const std::string tokenizer_path = test::shared_data_dir() + "/models/story/tokenizer.json";
    INFER_SKIP_UNLESS_FILE(model_path);
    INFER_SKIP_UNLESS_FILE(tokenizer_path);
    model_ = model::Model::load(model_path);
    tokenizer_ = tokenizer::Tokenizer::load(tokenizer_path);
  }

  // Two turns of a conversation whose first message is `words` words long; the token ids the
  // session holds afterwards.
  std::vector<int32_t> converse(int words) const {
    generate::Session s(*model_, *tokenizer_,
                        generate::ChatTemplate::for_tokenizer(*tokenizer_, "chatml"));
    generate::GenerateOptions options;
    options.max_new_tokens = 8;
    sampler::Sampler greedy;
    std::string first;
    for (int w = 0; w < words; ++w) first += "tree ";
    s.reply(first, options, greedy);
    s.reply("And then?", options, greedy);
    return s.cached_tokens();
  }

  std::unique_ptr<model::Model> model_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
};

TEST_F(ConcurrencyTest, SessionsOnOneModelReplyAsTheyDoAlone) {
  // Conversation 3 passes position 256, where the RoPE tables first grow, while the others read
  // them.
  const std::vector<int> words = {3, 20, 60, 280};
  std::vector<std::vector<int32_t>> together(words.size());
  run_together(kThreads, [&](int i) { together[i] = converse(words[i]); });
  ASSERT_GT(together[3].size(), 256u);
  for (size_t i = 0; i < words.size(); ++i)
    EXPECT_EQ(together[i], converse(words[i])) << "conversation " << i;
}

TEST(TokenizerConcurrency, SharedTokenizersGiveWhatTheyGiveAlone) {
  const std::string dir = test::shared_data_dir();
  const std::vector<std::string> texts = {"Hello, world! It's 2026 and the café serves 日本語 tea.",
                                          "  leading spaces\n\nand\ttabs\r\n<|im_start|>user</s>",
                                          "def f(x):\n    return x ** 2  # 🙂",
                                          "Der Straßenbahnfahrer sagt: «Bonjour» — ¿qué tal?"};
  for (const char* rel :
       {"/tokenizers/llama3/tokenizer.json", "/tokenizers/qwen/tokenizer.json",
        "/tokenizers/llama2/tokenizer.json", "/tokenizers/mistral-spm/tokenizer.model"}) {
    const std::string path = dir + rel;
    INFER_SKIP_UNLESS_FILE(path);
    const auto tokenizer = tokenizer::Tokenizer::load(path);
    tokenizer::EncodeOptions parse_special;
    parse_special.parse_special = true;
    const auto work = [&](const std::string& text) {
      std::vector<int32_t> ids = tokenizer->encode(text);
      const std::vector<int32_t> special = tokenizer->encode(text, parse_special);
      ids.insert(ids.end(), special.begin(), special.end());
      tokenizer::StreamDecoder stream(*tokenizer);
      std::string streamed;
      for (int32_t id : ids) streamed += stream.push(id);
      return std::make_pair(ids, tokenizer->decode(ids) + "|" + streamed + stream.flush());
    };
    std::vector<std::pair<std::vector<int32_t>, std::string>> alone;
    for (const std::string& text : texts) alone.push_back(work(text));
    std::vector<std::vector<std::pair<std::vector<int32_t>, std::string>>> together(kThreads);
    run_together(kThreads, [&](int t) {
      for (int round = 0; round < 5; ++round)
        for (const std::string& text : texts) together[t].push_back(work(text));
    });
    for (int t = 0; t < kThreads; ++t)
      for (size_t i = 0; i < together[t].size(); ++i)
        EXPECT_EQ(together[t][i], alone[i % texts.size()]) << rel << " thread " << t;
  }
}

}  // namespace
}  // namespace infer

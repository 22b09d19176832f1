// Tokenizers against HF goldens (test/data/tokenizer_goldens.json, made by
// hf_infer/make_tokenizer_goldens.py), streaming decode, and malformed input.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "infer/base/error.h"
#include "infer/tokenizer/stream_decoder.h"
#include "infer/tokenizer/tokenizer.h"
#include "test_data.h"

namespace infer {
namespace {

using nlohmann::json;

const std::vector<std::string>& corpus() {
  static const auto texts =
      json::parse(test::read_file(test::golden_dir() + "/tokenizer_corpus.json"))["texts"]
          .get<std::vector<std::string>>();
  return texts;
}

// One golden file per tokenizer in test/data/tokenizer_goldens, named after it.
std::vector<std::string> golden_names() {
  std::vector<std::string> names;
  for (const auto& entry :
       std::filesystem::directory_iterator(test::golden_dir() + "/tokenizer_goldens"))
    names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

class TokenizerGoldenTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    golden_ = json::parse(
        test::read_file(test::golden_dir() + "/tokenizer_goldens/" + GetParam() + ".json"));
    const std::string path = test::golden_file_path(golden_["file"].get<std::string>());
    INFER_SKIP_UNLESS_FILE(path);
    tokenizer_ = tokenizer::Tokenizer::load(path);
    ASSERT_EQ(golden_["cases"].size(), corpus().size());
  }
  const json& case_at(size_t i) const { return golden_["cases"][i]; }
  std::vector<int32_t> ids_at(size_t i) const {
    return case_at(i)["ids"].get<std::vector<int32_t>>();
  }

  json golden_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
};

TEST_P(TokenizerGoldenTest, EncodeMatchesHfExactly) {
  size_t mismatches = 0;
  for (size_t i = 0; i < corpus().size(); ++i) {
    const auto ids = tokenizer_->encode(corpus()[i]);
    if (ids != ids_at(i) && ++mismatches <= 5) {
      ADD_FAILURE() << "text " << json(corpus()[i]).dump() << "\n  ours " << json(ids).dump()
                    << "\n  hf   " << json(ids_at(i)).dump();
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << corpus().size();
}

TEST_P(TokenizerGoldenTest, ParsingSpecialTokensMatchesHfDefault) {
  tokenizer::EncodeOptions options;
  options.parse_special = true;
  for (size_t i = 0; i < corpus().size(); ++i) {
    const json& c = case_at(i);
    const auto expected = c.contains("ids_parse_special")
                              ? c["ids_parse_special"].get<std::vector<int32_t>>()
                              : ids_at(i);
    EXPECT_EQ(tokenizer_->encode(corpus()[i], options), expected) << json(corpus()[i]).dump();
  }
}

TEST_P(TokenizerGoldenTest, DecodeMatchesHf) {
  for (size_t i = 0; i < corpus().size(); ++i) {
    const json& c = case_at(i);
    const std::string expected =
        c.contains("decoded") ? c["decoded"].get<std::string>() : corpus()[i];
    EXPECT_EQ(tokenizer_->decode(ids_at(i)), expected) << json(corpus()[i]).dump();
  }
}

TEST_P(TokenizerGoldenTest, RoundTripsWhereHfDoes) {
  size_t round_trips = 0;
  for (size_t i = 0; i < corpus().size(); ++i) {
    if (!case_at(i)["round_trips"].get<bool>()) continue;
    ++round_trips;
    EXPECT_EQ(tokenizer_->decode(tokenizer_->encode(corpus()[i])), corpus()[i]);
  }
  EXPECT_GT(round_trips, 0u);
}

TEST_P(TokenizerGoldenTest, StreamingDecodeEqualsDecodingAllAtOnce) {
  for (size_t i = 0; i < corpus().size(); ++i) {
    const auto ids = ids_at(i);
    tokenizer::StreamDecoder stream(*tokenizer_);
    std::string streamed;
    for (int32_t id : ids) {
      const std::string piece = stream.push(id);
      EXPECT_EQ(piece.find("\xEF\xBF\xBD"), std::string::npos)
          << "partial character emitted for " << json(corpus()[i]).dump();
      streamed += piece;
    }
    streamed += stream.flush();
    EXPECT_EQ(streamed, tokenizer_->decode(ids)) << json(corpus()[i]).dump();
  }
}

TEST_P(TokenizerGoldenTest, InvalidUtf8IsReadAsPythonReadsItWithReplacement) {
  const auto hex = json::parse(
      test::read_file(test::golden_dir() + "/tokenizer_corpus.json"))["invalid_utf8_hex"];
  ASSERT_EQ(hex.size(), golden_["invalid_utf8"].size());
  for (size_t i = 0; i < hex.size(); ++i) {
    const std::string h = hex[i].get<std::string>();
    std::string bytes;
    for (size_t k = 0; k + 1 < h.size(); k += 2)
      bytes.push_back(static_cast<char>(std::stoi(h.substr(k, 2), nullptr, 16)));
    EXPECT_EQ(tokenizer_->encode(bytes), golden_["invalid_utf8"][i].get<std::vector<int32_t>>())
        << "bytes " << h;
  }
}

TEST_P(TokenizerGoldenTest, RandomBytesNeverBreakTheEncoder) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 300; ++round) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() % 256);
    if (round % 3 == 0) {
      // Mostly plausible text: ASCII with the odd multi-byte character.
      for (char& c : bytes) c = static_cast<char>(rng() % 4 ? 32 + rng() % 95 : 0xC0 + rng() % 64);
    }
    const auto ids = tokenizer_->encode(bytes);
    for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < tokenizer_->vocab_size());
    EXPECT_NO_THROW(tokenizer_->decode(ids));
  }
}

TEST_P(TokenizerGoldenTest, IdsBeyondTheTokenizerDecodeAsNothing) {
  // A model's vocabulary may be padded past its tokenizer's (Qwen2's is); HF decodes such ids as
  // empty text, and generating one must not end a reply with an error.
  const auto beyond = static_cast<int32_t>(tokenizer_->vocab_size());
  EXPECT_EQ(tokenizer_->decode({1, beyond, 1}, false), tokenizer_->decode({1, 1}, false));
  EXPECT_EQ(tokenizer_->decode({beyond + 7}), "");
  EXPECT_THROW(tokenizer_->decode({-3}), base::InvalidArgument);
  tokenizer::StreamDecoder stream(*tokenizer_);
  std::string streamed = stream.push(1);
  streamed += stream.push(beyond);
  streamed += stream.push(1);
  EXPECT_EQ(streamed + stream.flush(), tokenizer_->decode({1, 1}));
}

INSTANTIATE_TEST_SUITE_P(Hf, TokenizerGoldenTest, ::testing::ValuesIn(golden_names()),
                         test::ParamName());

// A scratch tokenizer.json with `body` as its content; returns the load error message.
std::string load_error(const std::string& body) {
  const std::string dir = test::temp_path("tok");
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/tokenizer.json";
  test::write_file(path, body);
  try {
    tokenizer::Tokenizer::load(path);
  } catch (const base::FormatError& e) {
    return e.what();
  }
  return "(loaded without error)";
}

TEST(TokenizerErrors, MissingFile) {
  EXPECT_THROW(tokenizer::Tokenizer::load("/nonexistent/tokenizer.json"), base::FileError);
  EXPECT_THROW(tokenizer::Tokenizer::load("/nonexistent/tokenizer.model"), base::FileError);
}

TEST(TokenizerErrors, MalformedFilesNameTheField) {
  EXPECT_NE(load_error("{not json").find("not a valid tokenizer.json"), std::string::npos);
  EXPECT_NE(load_error(R"({"model": {"type": "WordPiece", "vocab": {}}})")
                .find("model.type: unsupported model type 'WordPiece'"),
            std::string::npos);
  EXPECT_NE(load_error(R"({"model": {"type": "BPE", "merges": []}})").find("model.vocab: missing"),
            std::string::npos);
  EXPECT_NE(
      load_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}}})").find("model.merges: missing"),
      std::string::npos);
  EXPECT_NE(load_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})")
                .find("model.merges[0]"),
            std::string::npos);
  EXPECT_NE(
      load_error(
          R"({"normalizer": {"type": "Lowercase"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})")
          .find("normalizer.type: unsupported normalizer 'Lowercase'"),
      std::string::npos);
}

TEST(TokenizerErrors, UnsupportedFeaturesAreNamed) {
  const std::string model = R"("model": {"type": "BPE", "vocab": {"a": 0}, "merges": []})";
  EXPECT_NE(load_error("{" + model + R"(, "pre_tokenizer": {"type": "Whitespace"}})")
                .find("pre_tokenizer.type: unsupported pre-tokenizer 'Whitespace'"),
            std::string::npos);
  EXPECT_NE(
      load_error(
          "{" + model +
          R"(, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(["}, "behavior": "Isolated"}})")
          .find("does not compile"),
      std::string::npos);
  EXPECT_NE(load_error("{" + model + R"(, "decoder": {"type": "WordPiece"}})")
                .find("decoder.type: unsupported decoder 'WordPiece'"),
            std::string::npos);
  EXPECT_NE(load_error("{" + model + R"(, "post_processor": {"type": "BertProcessing"}})")
                .find("post_processor.type"),
            std::string::npos);
  EXPECT_NE(load_error("{" + model +
                       R"(, "added_tokens": [{"id": 1, "content": "<x>", "single_word": true}]})")
                .find("single_word"),
            std::string::npos);
}

TEST(TokenizerErrors, NotASentencePieceModel) {
  const std::string path = test::temp_path("bad.model");
  test::write_file(path, "this is not a protobuf");
  try {
    tokenizer::Tokenizer::load(path);
    FAIL() << "loaded";
  } catch (const base::FormatError& e) {
    // Without sentencepiece's own source positions ("foo.cc(123) [...]").
    EXPECT_NE(std::string(e.what()).find(path + ": not a valid sentencepiece model"),
              std::string::npos);
    EXPECT_EQ(std::string(e.what()).find(".cc("), std::string::npos) << e.what();
  }
}

TEST(TokenizerErrors, IdsAreIntegersInRange) {
  const auto with_vocab = [](const std::string& vocab, const std::string& rest = "") {
    return load_error(R"({"model": {"type": "BPE", "vocab": )" + vocab + R"(, "merges": []})" +
                      rest + "}");
  };
  // 2^40 used to wrap to 0 and 3.7 to truncate to 3.
  EXPECT_NE(with_vocab(R"({"a": 1099511627776})")
                .find("model.vocab['a'] must be an integer in [0, 2147483647], got 1099511627776"),
            std::string::npos);
  EXPECT_NE(with_vocab(R"({"a": 3.7})").find("model.vocab['a'] must be an integer"),
            std::string::npos);
  EXPECT_NE(with_vocab(R"({"a": 1e999})").find("a number too large to represent"),
            std::string::npos);
  EXPECT_NE(with_vocab(R"({"a": 0})", R"(, "added_tokens": [{"id": -1, "content": "<x>"}])")
                .find("added_tokens[].id must be an integer in [0, 2147483647], got -1"),
            std::string::npos);
  // One id of 10^8 used to cost 3 GB and 15 s before anything was refused.
  EXPECT_NE(with_vocab(R"({"a": 0, "b": 100000000})")
                .find("token id 100000000 is far beyond the 2 tokens the file defines"),
            std::string::npos);
}

TEST(TokenizerErrors, EmptyReplacePatternIsRefused) {
  // It matched everywhere: an endless loop with memory growing without limit.
  const std::string model = R"("model": {"type": "BPE", "vocab": {"a": 0}, "merges": []})";
  for (const char* part : {"normalizer", "decoder"}) {
    EXPECT_NE(load_error("{" + model + ", \"" + part +
                         R"(": {"type": "Replace", "pattern": {"String": ""}, "content": "x"}})")
                  .find(std::string(part) + ".pattern: the String to replace is empty"),
              std::string::npos)
        << part;
  }
}

TEST(TokenizerErrors, DeepNestingAndBadConfigKeysAreNamed) {
  EXPECT_NE(load_error(std::string(200000, '[') + std::string(200000, ']'))
                .find("nested deeper than 256 levels"),
            std::string::npos);
  const std::string dir = test::temp_path("tok_config");
  std::filesystem::create_directories(dir);
  test::write_file(dir + "/tokenizer.json",
                   R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})");
  test::write_file(dir + "/tokenizer_config.json",
                   R"({"added_tokens_decoder": {"1e3": {"content": "<x>"}}})");
  try {
    tokenizer::Tokenizer::load(dir + "/tokenizer.json");
    FAIL() << "loaded";
  } catch (const base::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer_config.json: added_tokens_decoder key '1e3' "
                                         "is not a token id"),
              std::string::npos)
        << e.what();
  }
}

TEST(TokenizerErrors, OnlyRegularFilesAreRead) {
  // A FIFO used to block forever; a directory gave "basic_filebuf::underflow".
  const std::string fifo = test::temp_path("tokenizer.fifo");
  std::remove(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string model_fifo = test::temp_path("fifo.model");
  std::remove(model_fifo.c_str());
  ASSERT_EQ(mkfifo(model_fifo.c_str(), 0600), 0);
  const std::string dir = test::temp_path("a_dir.json");
  std::filesystem::create_directories(dir);
  for (const auto& [path, kind] : {std::pair<std::string, std::string>{fifo, "a FIFO"},
                                   {model_fifo, "a FIFO"},
                                   {dir, "a directory"}}) {
    try {
      tokenizer::Tokenizer::load(path);
      ADD_FAILURE() << path << " loaded";
    } catch (const base::FileError& e) {
      EXPECT_NE(std::string(e.what()).find(path +
                                           ": the tokenizer must be a regular file, and "
                                           "this is " +
                                           kind),
                std::string::npos)
          << e.what();
    }
  }
  std::remove(fifo.c_str());
  std::remove(model_fifo.c_str());
}

// Random valid UTF-8 (any code point but surrogates and U+2581, which metaspace tokenizers turn
// into a space by design) round-trips through tokenizers without normalisation or clean-up.
TEST(TokenizerRobustness, RandomUnicodeRoundTrips) {
  for (const char* rel :
       {"/tokenizers/llama2/tokenizer.json", "/tokenizers/mistral-spm/tokenizer.json",
        "/tokenizers/mistral-spm/tokenizer.model"}) {
    const std::string path = test::shared_data_dir() + rel;
    INFER_SKIP_UNLESS_FILE(path);
    auto tok = tokenizer::Tokenizer::load(path);
    tokenizer::EncodeOptions plain;
    plain.add_special_tokens = false;
    std::mt19937 rng(99);
    for (int round = 0; round < 200; ++round) {
      std::string text;
      for (int n = rng() % 40; n > 0; --n) {
        uint32_t cp = rng() % 3 ? 32 + rng() % 95 : rng() % 0x10FFFF;
        if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0x2581) cp = 'x';
        // Encode by hand: the test must not depend on the code under test.
        if (cp < 0x80) {
          text += static_cast<char>(cp);
        } else if (cp < 0x800) {
          text += {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
        } else if (cp < 0x10000) {
          text +=
              {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
               static_cast<char>(0x80 | (cp & 0x3F))};
        } else {
          text +=
              {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
               static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
        }
      }
      EXPECT_EQ(tok->decode(tok->encode(text, plain)), text) << rel << " " << json(text).dump();
    }
  }
}

// One metaspace "word" of ~100k tokens: BPE merging must stay O(n log n), so this finishes in
// well under a second (ctest's timeout catches a quadratic regression).
TEST(TokenizerRobustness, HundredThousandTokenPromptEncodes) {
  const std::string path = test::shared_data_dir() + "/tokenizers/llama2/tokenizer.json";
  INFER_SKIP_UNLESS_FILE(path);
  auto tok = tokenizer::Tokenizer::load(path);
  std::string text;
  std::mt19937 rng(5);
  while (text.size() < 300000) text += "abcdefghijklmnopqrstuvwxyz.,!0123456789"[rng() % 39];
  const auto ids = tok->encode(text);
  EXPECT_GT(ids.size(), 100000u);
  EXPECT_EQ(tok->decode(ids), text);
}

TEST(Tokenizer, SpecialTokensArePlainTextUnlessParsed) {
  const std::string path = test::shared_data_dir() + "/tokenizers/llama2/tokenizer.json";
  INFER_SKIP_UNLESS_FILE(path);
  auto tok = tokenizer::Tokenizer::load(path);
  const auto plain = tok->encode("</s>");
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 2), 0);
  tokenizer::EncodeOptions parse;
  parse.parse_special = true;
  EXPECT_EQ(tok->encode("</s>", parse), (std::vector<int32_t>{1, 2}));
  parse.add_special_tokens = false;
  EXPECT_EQ(tok->encode("</s>", parse), (std::vector<int32_t>{2}));
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_TRUE(tok->is_special(1));
  EXPECT_FALSE(tok->is_special(100));
}

}  // namespace
}  // namespace infer

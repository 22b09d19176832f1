// Tokenizers against HF goldens (test/data/tokenizer_goldens.json, made by
// hf_infer/make_tokenizer_goldens.py), streaming decode, and malformed input.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "infer/base/error.h"
#include "infer/tokenizer/stream_decoder.h"
#include "infer/tokenizer/tokenizer.h"
#include "test_data.h"

namespace infer {
namespace {

using nlohmann::json;

const json& goldens() {
  static const json j =
      json::parse(test::read_file(test::golden_dir() + "/tokenizer_goldens.json"));
  return j;
}

std::vector<std::string> golden_names() {
  std::vector<std::string> names;
  for (const auto& [name, _] : goldens()["tokenizers"].items()) names.push_back(name);
  return names;
}

class TokenizerGoldenTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const json& entry = goldens()["tokenizers"][GetParam()];
    const std::string path = test::shared_data_dir() + "/" + entry["file"].get<std::string>();
    INFER_SKIP_UNLESS_FILE(path);
    tokenizer_ = tokenizer::Tokenizer::load(path);
    cases_ = &entry["cases"];
    is_sentencepiece_ = path.size() > 6 && path.substr(path.size() - 6) == ".model";
  }
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  const json* cases_ = nullptr;
  bool is_sentencepiece_ = false;
};

TEST_P(TokenizerGoldenTest, EncodeMatchesHfExactly) {
  size_t mismatches = 0;
  for (const json& c : *cases_) {
    const auto ids = tokenizer_->encode(c["text"].get<std::string>());
    if (ids != c["ids"].get<std::vector<int32_t>>() && ++mismatches <= 5) {
      ADD_FAILURE() << "text " << c["text"].dump() << "\n  ours " << json(ids).dump() << "\n  hf   "
                    << c["ids"].dump();
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << cases_->size();
}

TEST_P(TokenizerGoldenTest, ParsingSpecialTokensMatchesHfDefault) {
  // sentencepiece models do not know tokens that were added on the HF side (<|im_end|>, ...).
  if (is_sentencepiece_) GTEST_SKIP() << "sentencepiece treats special-token strings as text";
  tokenizer::EncodeOptions options;
  options.parse_special = true;
  for (const json& c : *cases_) {
    EXPECT_EQ(tokenizer_->encode(c["text"].get<std::string>(), options),
              c["ids_parse_special"].get<std::vector<int32_t>>())
        << c["text"].dump();
  }
}

TEST_P(TokenizerGoldenTest, DecodeMatchesHf) {
  for (const json& c : *cases_) {
    EXPECT_EQ(tokenizer_->decode(c["ids"].get<std::vector<int32_t>>()),
              c["decoded"].get<std::string>())
        << c["text"].dump();
  }
}

TEST_P(TokenizerGoldenTest, StreamingDecodeEqualsDecodingAllAtOnce) {
  for (const json& c : *cases_) {
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    tokenizer::StreamDecoder stream(*tokenizer_);
    std::string streamed;
    for (int32_t id : ids) {
      const std::string piece = stream.push(id);
      EXPECT_EQ(piece.find("\xEF\xBF\xBD"), std::string::npos)
          << "partial character emitted for " << c["text"].dump();
      streamed += piece;
    }
    streamed += stream.flush();
    EXPECT_EQ(streamed, tokenizer_->decode(ids)) << c["text"].dump();
  }
}

TEST_P(TokenizerGoldenTest, OutOfRangeIdIsAnError) {
  EXPECT_THROW(tokenizer_->decode({1, static_cast<int32_t>(tokenizer_->vocab_size())}),
               base::InvalidArgument);
  EXPECT_THROW(tokenizer_->decode({-3}), base::InvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Hf, TokenizerGoldenTest, ::testing::ValuesIn(golden_names()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& ch : name)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

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

TEST(TokenizerErrors, NotASentencePieceModel) {
  const std::string path = test::temp_path("bad.model");
  test::write_file(path, "this is not a protobuf");
  EXPECT_THROW(tokenizer::Tokenizer::load(path), base::FormatError);
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

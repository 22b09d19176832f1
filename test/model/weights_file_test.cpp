// The loader refuses every kind of damaged or mismatched weights file with a message that names
// the file and, where one is at fault, the tensor. Damaged files are made from the story model.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>

#include "infer/base/error.h"
#include "infer/model/model.h"
#include "infer/model/weights_file.h"
#include "test_data.h"

namespace infer {
namespace {

using nlohmann::json;

struct Parsed {
  std::string preamble;  // magic + version + flags (16 bytes)
  json header;
  std::string data;  // the data region
};

constexpr size_t kPreamble = 24;

std::string story_bin() { return test::exported_model_dir() + "/story.bin"; }

Parsed parse(const std::string& bytes) {
  uint64_t header_len;
  std::memcpy(&header_len, bytes.data() + 16, 8);
  const size_t data_start = (kPreamble + header_len + 4095) / 4096 * 4096;
  return {bytes.substr(0, 16), json::parse(bytes.substr(kPreamble, header_len)),
          bytes.substr(data_start)};
}

std::string serialize(const Parsed& p, const std::string& header_text) {
  std::string out = p.preamble;
  const uint64_t len = header_text.size();
  out.append(reinterpret_cast<const char*>(&len), 8);
  out += header_text;
  out.resize((out.size() + 4095) / 4096 * 4096, '\0');
  return out + p.data;
}

class WeightsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    INFER_SKIP_UNLESS_FILE(story_bin());
    original_ = test::read_file(story_bin());
  }

  // Writes `bytes` to a scratch file and expects loading it to throw FormatError whose message
  // contains the file name and every string in `needles`.
  void expect_refused(const std::string& bytes, std::vector<std::string> needles) {
    const std::string path = test::temp_path("bad.bin");
    test::write_file(path, bytes);
    try {
      model::Model::load(path);
      ADD_FAILURE() << "loading a damaged file succeeded";
    } catch (const base::FormatError& e) {
      needles.push_back(path);
      for (const auto& n : needles)
        EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
            << "'" << n << "' not in: " << e.what();
    }
    std::remove(path.c_str());
  }

  void expect_header_edit_refused(const std::function<void(json&)>& edit,
                                  std::vector<std::string> needles) {
    Parsed p = parse(original_);
    edit(p.header);
    expect_refused(serialize(p, p.header.dump()), std::move(needles));
  }

  json& tensor_entry(json& header, const std::string& name) {
    for (json& t : header["tensors"])
      if (t["name"] == name) return t;
    throw std::runtime_error("no tensor " + name);
  }

  std::string original_;
};

TEST_F(WeightsFileTest, OriginalLoads) {
  const auto wf = model::WeightsFile::open(story_bin());
  EXPECT_EQ(wf.config().dim, 128);
  EXPECT_EQ(wf.config().n_kv_heads, 4);
  EXPECT_TRUE(wf.config().tied_embeddings);
  EXPECT_TRUE(wf.has("embed.weight"));
  EXPECT_FALSE(wf.has("head.weight"));
}

TEST_F(WeightsFileTest, Truncated) {
  expect_refused(original_.substr(0, original_.size() - 1000), {"tensor", "truncated"});
  expect_refused(original_.substr(0, 10), {"too short"});
  expect_refused(original_.substr(0, 200), {"header length", "truncated"});
}

TEST_F(WeightsFileTest, WrongMagic) {
  std::string bytes = original_;
  bytes[0] = 'X';
  expect_refused(bytes, {"bad magic"});
}

TEST_F(WeightsFileTest, OtherFormatVersion) {
  std::string bytes = original_;
  const uint32_t version = 7;
  std::memcpy(&bytes[8], &version, 4);
  expect_refused(bytes, {"format version 7", "reads version 1"});
}

TEST_F(WeightsFileTest, CorruptedHeader) {
  std::string bytes = original_;
  bytes[kPreamble + 5] = '\x01';
  expect_refused(bytes, {"not valid JSON"});
}

TEST_F(WeightsFileTest, BytesDoNotMatchShape) {
  expect_header_edit_refused(
      [&](json& h) { tensor_entry(h, "layers.1.attn.v.weight")["bytes"] = 1000; },
      {"layers.1.attn.v.weight", "1000 bytes do not match shape 64x128 f32"});
}

TEST_F(WeightsFileTest, ShapeDisagreesWithConfig) {
  expect_header_edit_refused(
      [&](json& h) {
        tensor_entry(h, "layers.0.attn.q.weight")["shape"] = {64, 256};
      },
      {"layers.0.attn.q.weight", "expected shape 128x128, got 64x256"});
}

TEST_F(WeightsFileTest, MissingTensor) {
  expect_header_edit_refused(
      [&](json& h) {
        auto& t = h["tensors"];
        for (size_t i = 0; i < t.size(); ++i)
          if (t[i]["name"] == "layers.1.mlp.down.weight") t.erase(i);
      },
      {"required tensor layers.1.mlp.down.weight is missing"});
}

TEST_F(WeightsFileTest, UnexpectedTensor) {
  expect_header_edit_refused(
      [&](json& h) {
        json extra = tensor_entry(h, "norm.weight");
        extra["name"] = "head.weight";
        h["tensors"].push_back(extra);
      },
      {"unexpected tensor head.weight"});
}

TEST_F(WeightsFileTest, TensorOutsideFile) {
  expect_header_edit_refused([&](json& h) { tensor_entry(h, "norm.weight")["offset"] = 1u << 30; },
                             {"norm.weight", "outside the data region"});
}

TEST_F(WeightsFileTest, UnknownDtypeAndUnsupportedArch) {
  expect_header_edit_refused([&](json& h) { tensor_entry(h, "norm.weight")["dtype"] = "f64"; },
                             {"unknown dtype 'f64'"});
  expect_header_edit_refused([&](json& h) { h["config"]["arch"] = "gpt2"; },
                             {"unsupported architecture 'gpt2'"});
  expect_header_edit_refused([&](json& h) { h["config"].erase("n_heads"); },
                             {"config field 'n_heads' is missing"});
}

TEST_F(WeightsFileTest, Int8ScalesAndOffsetsAreChecked) {
  const std::string int8_bin = test::exported_model_dir() + "/story-int8.bin";
  INFER_SKIP_UNLESS_FILE(int8_bin);
  original_ = test::read_file(int8_bin);
  const std::string q = "layers.0.attn.q.weight";
  expect_header_edit_refused(
      [&](json& h) {
        auto& t = tensor_entry(h, q + ".offsets");
        t["shape"] = {256, 2};  // the same bytes, another shape
      },
      {q + ".offsets", "expected shape 128x4, got 256x2"});
  expect_header_edit_refused(
      [&](json& h) {
        auto& t = tensor_entry(h, q + ".scales");
        t["dtype"] = "i32";  // same bytes, wrong type
      },
      {q + ".scales must be f32"});
  expect_header_edit_refused([&](json& h) { tensor_entry(h, q)["group_size"] = 48; },
                             {q, "group_size dividing its last dimension, got 48"});
}

TEST(WeightsFile, MissingFileNamesThePath) {
  try {
    model::WeightsFile::open("/nonexistent/model.bin");
    FAIL();
  } catch (const base::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.bin"), std::string::npos);
  }
}

}  // namespace
}  // namespace infer

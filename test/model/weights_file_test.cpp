// The loader refuses every kind of damaged or mismatched weights file with a message that names
// the file and, where one is at fault, the tensor. Damaged files are made from the story model.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>

#include "infer/base/error.h"
#include "infer/model/inference_state.h"
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
  Parsed p = parse(original_);
  json extra = tensor_entry(p.header, "norm.weight");
  extra["name"] = "head.weight";
  extra["offset"] = p.data.size();  // its own bytes, after the others
  p.data.append(extra["bytes"].get<size_t>(), '\0');
  p.header["tensors"].push_back(extra);
  expect_refused(serialize(p, p.header.dump()), {"unexpected tensor head.weight"});
}

TEST_F(WeightsFileTest, OverlappingTensorsAreRefused) {
  // A second name for the bytes of another tensor would silently alias it.
  expect_header_edit_refused(
      [&](json& h) {
        json extra = tensor_entry(h, "norm.weight");
        extra["name"] = "head.weight";
        h["tensors"].push_back(extra);
      },
      {"norm.weight", "head.weight", "overlap"});
}

TEST_F(WeightsFileTest, NumbersAreReadAsIntegersOfTheirRange) {
  // Each of these used to be converted without a check: 1e300 became offset 0, 2^32 + 2 became
  // eos id 2, and n_heads near 2^60 wrapped in n_heads * head_dim and crashed in RoPE.
  expect_header_edit_refused([&](json& h) { tensor_entry(h, "norm.weight")["offset"] = 1e300; },
                             {"norm.weight", "offset must be an integer", "1e+300"});
  expect_header_edit_refused([&](json& h) { tensor_entry(h, "norm.weight")["bytes"] = -4; },
                             {"norm.weight", "bytes must be an integer", "-4"});
  expect_header_edit_refused(
      [&](json& h) {
        tensor_entry(h, "norm.weight")["shape"] = {uint64_t{1} << 62, 8};
      },
      {"norm.weight", "overflows"});
  expect_header_edit_refused([&](json& h) { h["config"]["eos_token_ids"] = {4294967298ull}; },
                             {"eos token id must be an integer in [0, 2047]", "4294967298"});
  expect_header_edit_refused([&](json& h) { h["config"]["n_heads"] = uint64_t{1} << 60; },
                             {"'n_heads' must be an integer in [1, 16384]"});
  expect_header_edit_refused([&](json& h) { h["config"]["dim"] = 128.5; },
                             {"'dim' must be an integer", "128.5"});
  expect_header_edit_refused(
      [&](json& h) { h["config"]["max_position_embeddings"] = uint64_t{1} << 61; },
      {"'max_position_embeddings' must be an integer in [1, 2147483647]"});
}

TEST_F(WeightsFileTest, NumberBeyondDoubleIsRefused) {
  Parsed p = parse(original_);
  std::string header = p.header.dump();
  header.insert(header.size() - 1, ",\"x\":1e999");
  expect_refused(serialize(p, header), {"a number too large to represent"});
}

TEST_F(WeightsFileTest, DeeplyNestedHeaderIsRefused) {
  // 200,000 nested lists used to overflow the stack in the JSON serialiser.
  Parsed p = parse(original_);
  std::string header = p.header.dump();
  header.insert(header.size() - 1, ",\"x\":" + std::string(200000, '[') + std::string(200000, ']'));
  expect_refused(serialize(p, header), {"nested deeper than 256 levels"});
}

TEST_F(WeightsFileTest, ContextClaimCostsNothingUntilUsed) {
  // The RoPE tables grow with the positions reached: a header claiming 2^31 - 1 positions
  // loads and runs at once when the user asks for a short context.
  Parsed p = parse(original_);
  p.header["config"]["max_position_embeddings"] = 2147483647;
  const std::string path = test::temp_path("long.bin");
  test::write_file(path, serialize(p, p.header.dump()));
  model::LoadOptions options;
  options.max_seq_len = 64;
  const auto model = model::Model::load(path, options);
  model::InferenceState state(*model);
  EXPECT_EQ(state.capacity(), 64);
  EXPECT_EQ(state.forward({1, 2, 3}).size(), static_cast<size_t>(model->config().vocab_size));
  std::remove(path.c_str());
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

// A q4_0 export: a NaN or infinite block scale, bytes that are not whole blocks, rows that are
// not whole blocks, and a group_size on a block format are refused with the tensor named.
TEST_F(WeightsFileTest, DamagedBlocksAreRefused) {
  const std::string q4_bin = test::exported_model_dir() + "/story-q4_0.bin";
  INFER_SKIP_UNLESS_FILE(q4_bin);
  original_ = test::read_file(q4_bin);
  const std::string q = "layers.1.mlp.up.weight";
  Parsed p = parse(original_);
  const json& entry = tensor_entry(p.header, q);
  ASSERT_EQ(entry["dtype"], "q4_0");
  const size_t offset = entry["offset"].get<size_t>();
  const size_t row_bytes = 128 / 32 * 18;
  for (uint16_t bad : {uint16_t{0x7E00}, uint16_t{0x7C00}, uint16_t{0xFC00}}) {
    Parsed damaged = p;
    // The d of block 2 of row 5.
    std::memcpy(&damaged.data[offset + 5 * row_bytes + 2 * 18], &bad, 2);
    expect_refused(serialize(damaged, damaged.header.dump()),
                   {q, "q4_0 block 2 of row 5 has an infinite or NaN scale"});
  }
  expect_header_edit_refused(
      [&](json& h) { tensor_entry(h, q)["bytes"] = tensor_entry(h, q)["bytes"].get<int>() - 18; },
      {q, "do not match shape", "q4_0"});
  expect_header_edit_refused(
      [&](json& h) {
        tensor_entry(h, q)["shape"] = {256, 72};
      },
      {q, "q4_0 rows of 72 values are not whole blocks of 32"});
  expect_header_edit_refused([&](json& h) { tensor_entry(h, q)["group_size"] = 32; },
                             {q, "group_size is only meaningful for i8 tensors"});
}

TEST(WeightsFile, OnlyRegularFilesAreOpened) {
  // A FIFO used to block open() forever; a directory gave an OS error about reading.
  const std::string fifo = test::temp_path("model.fifo");
  std::remove(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  for (const auto& [path, kind] : {std::pair<std::string, std::string>{fifo, "a FIFO"},
                                   {"/tmp", "a directory"},
                                   {"/dev/zero", "a device"}}) {
    try {
      model::WeightsFile::open(path);
      ADD_FAILURE() << path << " opened";
    } catch (const base::FileError& e) {
      EXPECT_NE(std::string(e.what()).find(
                    path + ": the model must be a regular file, and this is " + kind),
                std::string::npos)
          << e.what();
    }
  }
  std::remove(fifo.c_str());
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

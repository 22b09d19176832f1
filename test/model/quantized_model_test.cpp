// Models with GGUF block weights (q4_0 ... q8_0), exported by the ctest fixture next to a twin
// holding the same weights as f32 (tools/dequantize.py; for SmolLM2, its fp32 export from the
// same GGUF). Teacher-forced over the golden prompts and HF's greedy continuations, the two
// must pick the same top-1 token at >= 99.5% of positions: the only difference between them is
// the int8 quantization of the activations.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "infer/model/inference_state.h"
#include "infer/model/model.h"
#include "test_data.h"

namespace infer {
namespace {

struct QuantizedCase {
  std::string golden;  // test/data/<golden>_goldens.json
  std::string bin;     // the block-format export
  std::string twin;    // the same weights as f32
};

class QuantizedModelTest : public ::testing::TestWithParam<QuantizedCase> {};

TEST_P(QuantizedModelTest, TopOneAgreesWithTheSameWeightsInF32) {
  const QuantizedCase& p = GetParam();
  const std::string dir = test::exported_model_dir() + "/";
  INFER_SKIP_UNLESS_FILE(dir + p.bin);
  INFER_SKIP_UNLESS_FILE(dir + p.twin);
  const auto golden =
      nlohmann::json::parse(test::read_file(test::golden_dir() + "/" + p.golden + "_goldens.json"));
  const auto quantized = model::Model::load(dir + p.bin);
  const auto twin = model::Model::load(dir + p.twin);
  const int64_t vocab = quantized->config().vocab_size;
  int64_t agree = 0, total = 0;
  double worst = 0;
  for (const auto& c : golden["cases"]) {
    std::vector<int32_t> tokens = c["prompt_ids"].get<std::vector<int32_t>>();
    for (int32_t t : c["greedy_ids"]) tokens.push_back(t);
    const std::vector<float> ours = model::InferenceState(*quantized).forward_all_logits(tokens);
    const std::vector<float> want = model::InferenceState(*twin).forward_all_logits(tokens);
    for (size_t pos = 0; pos < tokens.size(); ++pos) {
      const float* a = ours.data() + pos * vocab;
      const float* b = want.data() + pos * vocab;
      agree += std::max_element(a, a + vocab) - a == std::max_element(b, b + vocab) - b;
      ++total;
      for (int64_t v = 0; v < vocab; ++v) worst = std::max(worst, double(std::fabs(a[v] - b[v])));
    }
  }
  const double agreement = double(agree) / double(total);
  RecordProperty("top1_agreement", std::to_string(agreement));
  std::printf("%s: top-1 agreement with f32 %.4f (%lld of %lld positions), max |logit diff| %.4f\n",
              p.bin.c_str(), agreement, static_cast<long long>(agree),
              static_cast<long long>(total), worst);
  EXPECT_GE(agreement, 0.995) << agree << " of " << total;
}

INSTANTIATE_TEST_SUITE_P(
    Exports, QuantizedModelTest,
    ::testing::Values(
        QuantizedCase{"tiny-llama3", "tiny-llama3-q4_0.bin", "tiny-llama3-q4_0-deq.bin"},
        QuantizedCase{"tiny-llama3", "tiny-llama3-q5_1.bin", "tiny-llama3-q5_1-deq.bin"},
        QuantizedCase{"tiny-qwen2", "tiny-qwen2-q4_1.bin", "tiny-qwen2-q4_1-deq.bin"},
        QuantizedCase{"tiny-qwen2", "tiny-qwen2-q8_0.bin", "tiny-qwen2-q8_0-deq.bin"},
        QuantizedCase{"story", "story-q4_0.bin", "story-q4_0-deq.bin"},
        QuantizedCase{"story", "story-q8_0.bin", "story-q8_0-deq.bin"},
        QuantizedCase{"smollm2", "smollm2-q4_1.bin", "smollm2.bin"}),
    [](const auto& info) {
      std::string name = info.param.bin.substr(0, info.param.bin.size() - 4);
      std::replace(name.begin(), name.end(), '-', '_');
      return name;
    });

}  // namespace
}  // namespace infer

// Models with GGUF block weights (q4_0 ... q8_0), exported by the ctest fixture next to a twin
// holding the same weights as f32 (tools/dequantize.py; for SmolLM2, its fp32 export from the
// same GGUF). Teacher-forced over the golden prompts and HF's greedy continuations, the two
// must pick the same top-1 token at >= 99.5% of positions: the only difference between them is
// the int8 quantization of the activations.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "infer/base/device.h"
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

struct Agreement {
  int64_t agree = 0, total = 0;
  double worst = 0;  // max |logit difference|
};

// Teacher-forced over the golden cases: how often `a` and `b` pick the same top-1 token.
Agreement top_one_agreement(const model::Model& a, const model::Model& b,
                            const nlohmann::json& golden) {
  const int64_t vocab = a.config().vocab_size;
  Agreement result;
  for (const auto& c : golden["cases"]) {
    std::vector<int32_t> tokens = c["prompt_ids"].get<std::vector<int32_t>>();
    for (int32_t t : c["greedy_ids"]) tokens.push_back(t);
    const std::vector<float> ours = model::InferenceState(a).forward_all_logits(tokens);
    const std::vector<float> want = model::InferenceState(b).forward_all_logits(tokens);
    for (size_t pos = 0; pos < tokens.size(); ++pos) {
      const float* x = ours.data() + pos * vocab;
      const float* y = want.data() + pos * vocab;
      result.agree += std::max_element(x, x + vocab) - x == std::max_element(y, y + vocab) - y;
      ++result.total;
      for (int64_t v = 0; v < vocab; ++v)
        result.worst = std::max(result.worst, double(std::fabs(x[v] - y[v])));
    }
  }
  return result;
}

// Loads the case's two files on `device` and compares them; the agreement is printed and
// recorded.
Agreement compare_on(const QuantizedCase& p, base::DeviceType device) {
  const std::string dir = test::exported_model_dir() + "/";
  const auto golden =
      nlohmann::json::parse(test::read_file(test::golden_dir() + "/" + p.golden + "_goldens.json"));
  model::LoadOptions options;
  options.device = device;
  const auto quantized = model::Model::load(dir + p.bin, options);
  const auto twin = model::Model::load(dir + p.twin, options);
  const Agreement a = top_one_agreement(*quantized, *twin, golden);
  const double fraction = double(a.agree) / double(a.total);
  ::testing::Test::RecordProperty("top1_agreement", std::to_string(fraction));
  std::printf(
      "%s on %s: top-1 agreement with f32 %.4f (%lld of %lld positions), max |logit diff| "
      "%.4f\n",
      p.bin.c_str(), base::device_name(device), fraction, static_cast<long long>(a.agree),
      static_cast<long long>(a.total), a.worst);
  return a;
}

TEST_P(QuantizedModelTest, TopOneAgreesWithTheSameWeightsInF32) {
  const QuantizedCase& p = GetParam();
  INFER_SKIP_UNLESS_FILE(test::exported_model_dir() + "/" + p.bin);
  INFER_SKIP_UNLESS_FILE(test::exported_model_dir() + "/" + p.twin);
  const Agreement a = compare_on(p, base::DeviceType::kCPU);
  EXPECT_GE(double(a.agree) / double(a.total), 0.995) << a.agree << " of " << a.total;
}

// On CUDA the blocks are dequantized into f32 products with f32 activations: the two files
// hold the same values, so only the order of the sums separates them.
TEST_P(QuantizedModelTest, CudaMatchesTheSameWeightsInF32) {
  if (!base::cuda_available()) GTEST_SKIP() << "no usable CUDA GPU on this machine";
  const QuantizedCase& p = GetParam();
  INFER_SKIP_UNLESS_FILE(test::exported_model_dir() + "/" + p.bin);
  INFER_SKIP_UNLESS_FILE(test::exported_model_dir() + "/" + p.twin);
  const Agreement a = compare_on(p, base::DeviceType::kCUDA);
  EXPECT_GE(double(a.agree) / double(a.total), 0.999) << a.agree << " of " << a.total;
  EXPECT_LE(a.worst, 1e-3);
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

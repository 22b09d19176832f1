// Every test model against HF transformers goldens (test/data/<model>_goldens.json, made by
// hf_infer/make_model_goldens.py with the command recorded inside): last-position logits within
// 1e-4 max abs, greedy continuations identical token for token, on the CPU and (when a GPU is
// present) on CUDA. The models cover the story model (tied head stored as lm_head only), a tiny
// Llama 3 (llama3 rope scaling, GQA, head_dim != hidden/heads, untied head), a tiny Qwen2
// (q/k/v biases, tied head) and SmolLM2-135M-Instruct imported from its Q4_1 GGUF (the HF side
// runs the same dequantised weights; chat prompts).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>

#include "compare.h"
#include "infer/engine/engine.h"
#include "infer/generate/generate.h"
#include "infer/model/inference_state.h"
#include "infer/model/model.h"
#include "infer/sampler/sampler.h"
#include "test_data.h"

namespace infer {
namespace {

using nlohmann::json;

constexpr double kLogitTolerance = 1e-4;

class ModelParityTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    bin_ = test::exported_model_dir() + "/" + GetParam() + ".bin";
    INFER_SKIP_UNLESS_FILE(bin_);
    golden_ = json::parse(test::read_file(test::golden_dir() + "/" + GetParam() + "_goldens.json"));
  }

  void check(base::DeviceType device) {
    model::LoadOptions options;
    options.device = device;
    auto model = model::Model::load(bin_, options);
    int full_length = 0;
    for (const json& c : golden_["cases"]) {
      const auto prompt = c["prompt_ids"].get<std::vector<int32_t>>();
      auto state = std::make_unique<model::InferenceState>(*model);
      const std::vector<float>& logits = state->forward(prompt);
      if (c.contains("last_logits")) {
        EXPECT_LE(test::max_abs_diff(logits, c["last_logits"].get<std::vector<float>>()),
                  kLogitTolerance)
            << "prompt " << json(prompt).dump();
      } else {  // large vocabularies: the goldens keep HF's 64 largest logits, largest first
        for (const json& pair : c["last_logits_top"]) {
          const float expected = pair[1].get<float>();
          // Logits of real models are tens in size: the tolerance scales with them.
          EXPECT_NEAR(logits[pair[0].get<size_t>()], expected,
                      kLogitTolerance * std::max(1.f, std::abs(expected)))
              << "token " << pair[0] << ", prompt " << json(prompt).dump();
        }
        EXPECT_EQ(std::max_element(logits.begin(), logits.end()) - logits.begin(),
                  c["last_logits_top"][0][0].get<int64_t>());
      }

      generate::GenerateOptions gen;
      gen.max_new_tokens = golden_["new_tokens"].get<int64_t>();
      gen.eos_token_ids = model->config().eos_token_ids;
      sampler::Sampler greedy;
      const auto expected = c["greedy_ids"].get<std::vector<int32_t>>();
      EXPECT_EQ(generate::generate(*model, prompt, gen, greedy).tokens, expected)
          << "prompt " << json(prompt).dump();
      full_length += static_cast<int64_t>(expected.size()) == gen.max_new_tokens;
    }
    EXPECT_GE(full_length, 2) << "goldens should hold continuations of full length";
  }

  // Every golden prompt submitted to one Engine at once: each greedy continuation, computed in
  // batches whose makeup changes as requests join and finish, is HF's token for token.
  void check_engine(base::DeviceType device) {
    model::LoadOptions options;
    options.device = device;
    auto model = model::Model::load(bin_, options);
    engine::EngineOptions engine_options;
    engine_options.step_tokens = 32;  // long prompts go in chunks beside other rows
    engine::Engine engine(*model, nullptr, engine_options);
    std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> expected;
    std::vector<std::future<engine::Outcome>> outcomes;
    for (const json& c : golden_["cases"]) {
      engine::Request request;
      request.prompt = c["prompt_ids"].get<std::vector<int32_t>>();
      request.options.max_new_tokens = golden_["new_tokens"].get<int64_t>();
      request.options.eos_token_ids = model->config().eos_token_ids;
      expected.emplace_back(request.prompt, c["greedy_ids"].get<std::vector<int32_t>>());
      auto done = std::make_shared<std::promise<engine::Outcome>>();
      outcomes.push_back(done->get_future());
      engine.submit(std::move(request), nullptr,
                    [done](const engine::Outcome& o) { done->set_value(o); });
    }
    for (size_t i = 0; i < outcomes.size(); ++i) {
      const engine::Outcome outcome = outcomes[i].get();
      ASSERT_TRUE(outcome.error.empty()) << outcome.error;
      EXPECT_EQ(outcome.result.tokens, expected[i].second)
          << "prompt " << json(expected[i].first).dump();
    }
    EXPECT_LT(engine.stats().steps, engine.stats().generated_tokens)
        << "the requests did not share forward passes";
  }

  std::string bin_;
  json golden_;
};

TEST_P(ModelParityTest, CpuMatchesHf) { check(base::DeviceType::kCPU); }

TEST_P(ModelParityTest, CudaMatchesHf) {
  if (!base::cuda_available()) GTEST_SKIP() << "no usable CUDA GPU on this machine";
  check(base::DeviceType::kCUDA);
}

TEST_P(ModelParityTest, EngineOnCpuMatchesHf) { check_engine(base::DeviceType::kCPU); }

TEST_P(ModelParityTest, EngineOnCudaMatchesHf) {
  if (!base::cuda_available()) GTEST_SKIP() << "no usable CUDA GPU on this machine";
  check_engine(base::DeviceType::kCUDA);
}

INSTANTIATE_TEST_SUITE_P(Models, ModelParityTest,
                         ::testing::Values("story", "tiny-llama3", "tiny-qwen2", "smollm2"),
                         test::ParamName());

}  // namespace
}  // namespace infer

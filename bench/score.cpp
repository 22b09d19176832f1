// Teacher-forced scoring: runs a token sequence through a model in one pass and writes the logits
// of every position, for comparisons with HF (hf_infer/precision_report.py).
//   score MODEL.bin IDS.json OUT.f32 [--device cpu|cuda] [--bf16_activations]
// IDS.json is a JSON array of token ids; OUT.f32 receives [n, vocab] float32, row-major.
#include <gflags/gflags.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "infer/base/device.h"
#include "infer/model/inference_state.h"
#include "infer/model/model.h"

DEFINE_string(device, "cpu", "Device to run on: cpu or cuda");
DEFINE_bool(bf16_activations, false, "Round activations to bf16 for bf16 weights (LoadOptions)");

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "score MODEL.bin IDS.json OUT.f32 [--device cpu|cuda] [--bf16_activations]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s\n", gflags::ProgramUsage());
    return 2;
  }
  try {
    std::ifstream in(argv[2]);
    if (!in) throw std::runtime_error(std::string("cannot read ") + argv[2]);
    const auto ids = nlohmann::json::parse(in).get<std::vector<int32_t>>();
    infer::model::LoadOptions options;
    options.device = infer::base::parse_device(FLAGS_device);
    options.bf16_activations = FLAGS_bf16_activations;
    options.max_seq_len = static_cast<int64_t>(ids.size());
    const auto model = infer::model::Model::load(argv[1], options);
    auto state = std::make_unique<infer::model::InferenceState>(*model);
    const std::vector<float> logits = state->forward_all_logits(ids);
    std::ofstream out(argv[3], std::ios::binary);
    out.write(reinterpret_cast<const char*>(logits.data()),
              static_cast<std::streamsize>(logits.size() * sizeof(float)));
    if (!out) throw std::runtime_error(std::string("cannot write ") + argv[3]);
    std::printf("%zu positions x %lld logits -> %s\n", ids.size(),
                static_cast<long long>(model->config().vocab_size), argv[3]);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "score: error: %s\n", e.what());
    return 1;
  }
}

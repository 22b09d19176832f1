// Teacher-forced scoring: runs a token sequence through a model in one pass and writes the logits
// of every position, for comparisons with HF (hf_infer/precision_report.py).
//   score MODEL.bin IDS.json OUT.f32 [--device cpu|cuda]
// IDS.json is a JSON array of token ids; OUT.f32 receives [n, vocab] float32, row-major.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "infer/base/device.h"
#include "infer/model/inference_state.h"
#include "infer/model/model.h"

int main(int argc, char** argv) {
  if (argc != 4 && !(argc == 6 && std::string(argv[4]) == "--device")) {
    std::fprintf(stderr, "usage: score MODEL.bin IDS.json OUT.f32 [--device cpu|cuda]\n");
    return 2;
  }
  try {
    std::ifstream in(argv[2]);
    if (!in) throw std::runtime_error(std::string("cannot read ") + argv[2]);
    const auto ids = nlohmann::json::parse(in).get<std::vector<int32_t>>();
    infer::model::LoadOptions options;
    if (argc == 6) options.device = infer::base::parse_device(argv[5]);
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

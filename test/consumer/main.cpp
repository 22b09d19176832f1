// Links against the installed libinfer: loads a model and greedily continues a token prompt.
//   consumer MODEL.bin
#include <cstdio>
#include <exception>

#include "infer/generate/generate.h"
#include "infer/model/model.h"
#include "infer/sampler/sampler.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer MODEL.bin\n");
    return 2;
  }
  try {
    auto model = infer::model::Model::load(argv[1]);
    auto state = model->new_state();
    infer::sampler::Sampler greedy;
    infer::generate::GenerateOptions options;
    options.max_new_tokens = 8;
    const auto result =
        infer::generate::generate(*model, *state, {1, 80, 429, 598, 303}, options, greedy);
    std::printf("generated %zu tokens:", result.tokens.size());
    for (int32_t id : result.tokens) std::printf(" %d", id);
    std::printf("\n");
    return result.tokens.size() == 8 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: error: %s\n", e.what());
    return 1;
  }
}

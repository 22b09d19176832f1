// libFuzzer target for the weights file: the input is a whole file, loaded with Model::load and,
// when it loads, run for a few tokens (a header whose numbers pass the checks must also be safe to
// run: the n_heads overflow of issue 15 crashed only in the RoPE kernel).
#include <algorithm>
#include <cstdint>

#include "fuzz_common.h"
#include "infer/model/inference_state.h"
#include "infer/model/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = infer::fuzz::scratch_path("model.bin");
  infer::fuzz::write_file(path, data, size);
  infer::fuzz::expect_only_documented_errors([&] {
    const auto model = infer::model::Model::load(path);
    // A short context: the KV cache of the model's full context is the user's choice to pay.
    infer::model::InferenceState state(*model, std::min<int64_t>(model->max_seq_len(), 8));
    const auto vocab = static_cast<int32_t>(model->config().vocab_size);
    state.forward({0, vocab - 1});
    if (state.capacity() > 2) state.forward({vocab / 2});
  });
  return 0;
}

// libFuzzer target for sentencepiece tokenizer.model files: the input is a text, a NUL byte, then
// the model's bytes (protobuf holds NULs, the text does not). The model is loaded and the text
// encoded and decoded.
#include <cstdint>
#include <string>

#include "fuzz_common.h"
#include "infer/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = infer::fuzz::scratch_path("tokenizer.model");
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  if (split == std::string::npos) return 0;
  infer::fuzz::write_file(path, input.data() + split + 1, input.size() - split - 1);
  infer::fuzz::expect_only_documented_errors([&] {
    const auto tokenizer = infer::tokenizer::Tokenizer::load(path);
    infer::tokenizer::EncodeOptions options;
    options.parse_special = true;
    const auto ids = tokenizer->encode(input.substr(0, split), options);
    tokenizer->decode(ids, false);
  });
  return 0;
}

// libFuzzer target for HF tokenizer.json files: the input is the file's bytes, then optionally a
// NUL byte and a text. The file is loaded; the text is encoded (special tokens as text, then
// parsed) and decoded back, whole and streamed, and ids made of the text's bytes are decoded.
#include <cstdint>
#include <string>

#include "fuzz_common.h"
#include "infer/tokenizer/stream_decoder.h"
#include "infer/tokenizer/tokenizer.h"

namespace {

void exercise(const infer::tokenizer::Tokenizer& tokenizer, const std::string& text) {
  for (const bool parse_special : {false, true}) {
    infer::tokenizer::EncodeOptions options;
    options.parse_special = parse_special;
    const std::vector<int32_t> ids = tokenizer.encode(text, options);
    tokenizer.decode(ids, /*skip_special_tokens=*/!parse_special);
    infer::tokenizer::StreamDecoder stream(tokenizer);
    for (const int32_t id : ids) stream.push(id);
    stream.flush();
  }
  std::vector<int32_t> arbitrary;
  for (size_t i = 0; i + 1 < text.size() && arbitrary.size() < 64; i += 2)
    arbitrary.push_back(static_cast<uint8_t>(text[i]) << 8 | static_cast<uint8_t>(text[i + 1]));
  tokenizer.decode(arbitrary, false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = infer::fuzz::scratch_path("tokenizer.json");
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  infer::fuzz::write_file(path, input.data(), std::min(split, input.size()));
  const std::string text =
      split == std::string::npos ? "Hello, world! 12345" : input.substr(split + 1);
  infer::fuzz::expect_only_documented_errors(
      [&] { exercise(*infer::tokenizer::Tokenizer::load(path), text); });
  return 0;
}

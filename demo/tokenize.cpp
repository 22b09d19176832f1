// tokenize: text <-> token ids with any tokenizer libinfer reads, one JSON value per line, so a
// user (and the tests) can compare with HF tokenizers.
//   tokenize tokenizer.json --text "Hello world"        -> [1, 15043, 3186]
//   echo "Hello" | tokenize tokenizer.json              -> one id array per input line
//   echo "[15043, 3186]" | tokenize tokenizer.json --decode  -> "Hello world"
#include <gflags/gflags.h>

#include <cstdio>
#include <exception>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "infer/base/error.h"
#include "infer/tokenizer/tokenizer.h"

DEFINE_string(text, "",
              "Text to encode (or, with --decode, a JSON array of ids); default: stdin lines");
DEFINE_bool(decode, false, "Decode JSON arrays of ids to JSON strings instead of encoding");
DEFINE_bool(add_special_tokens, true, "Add BOS/EOS as the tokenizer's configuration says");
DEFINE_bool(parse_special, false, "Match special-token strings such as <s> in the text");
DEFINE_bool(skip_special_tokens, true, "When decoding, leave special tokens out");

namespace {

using nlohmann::json;

std::string process(const infer::tokenizer::Tokenizer& tokenizer, const std::string& input,
                    size_t line) {
  if (!FLAGS_decode) {
    infer::tokenizer::EncodeOptions options;
    options.add_special_tokens = FLAGS_add_special_tokens;
    options.parse_special = FLAGS_parse_special;
    return json(tokenizer.encode(input, options)).dump();
  }
  std::vector<int32_t> ids;
  try {
    ids = json::parse(input).get<std::vector<int32_t>>();
  } catch (const json::exception&) {
    throw infer::base::InvalidArgument("line " + std::to_string(line) +
                                       ": expected a JSON array of token ids");
  }
  return json(tokenizer.decode(ids, FLAGS_skip_special_tokens))
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "text <-> token ids\nusage: tokenize TOKENIZER.json|tokenizer.model [--text TEXT] "
      "[--decode]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (argc != 2) {
    std::fprintf(stderr, "tokenize: error: expected one TOKENIZER argument\n%s\n",
                 gflags::ProgramUsage());
    return 2;
  }
  try {
    const auto tokenizer = infer::tokenizer::Tokenizer::load(argv[1]);
    if (!gflags::GetCommandLineFlagInfoOrDie("text").is_default) {
      std::cout << process(*tokenizer, FLAGS_text, 1) << "\n";
      return 0;
    }
    std::string line;
    for (size_t n = 1; std::getline(std::cin, line); ++n)
      std::cout << process(*tokenizer, line, n) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokenize: error: %s\n", e.what());
    return 1;
  }
}

// tokenize: text <-> token ids with any tokenizer libinfer reads, one JSON value per line, so a
// user (and the tests) can compare with HF tokenizers.
//   tokenize tokenizer.json --text "Hello world"        -> [1, 15043, 3186]
//   echo "Hello" | tokenize tokenizer.json              -> one id array per input line
//   echo "[15043, 3186]" | tokenize tokenizer.json --decode  -> "Hello world"
#include <gflags/gflags.h>

#include <cstdint>
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
  const std::string where = "line " + std::to_string(line) + ": ";
  const json parsed = json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array())
    throw infer::base::InvalidArgument(where + "expected a JSON array of token ids");
  std::vector<int32_t> ids;
  for (const json& id : parsed) {
    // Checked as written: get<int32_t>() would wrap 4294967297 to 1 and truncate 3.7 to 3.
    const bool in_range = (id.is_number_unsigned() && id.get<uint64_t>() <= INT32_MAX) ||
                          (id.is_number_integer() && !id.is_number_unsigned() &&
                           id.get<int64_t>() >= 0 && id.get<int64_t>() <= INT32_MAX);
    if (!in_range) {
      const std::string text = id.is_number() ? id.dump() : std::string("a ") + id.type_name();
      throw infer::base::InvalidArgument(where + "element " + std::to_string(ids.size()) + " (" +
                                         text + ") is not a token id in [0, 2147483647]");
    }
    ids.push_back(id.get<int32_t>());
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

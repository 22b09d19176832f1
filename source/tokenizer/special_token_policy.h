#pragma once
// What tokenizer_config.json (beside the tokenizer file) says about BOS/EOS (internal).
#include <optional>
#include <string>
#include <vector>

#include "added_tokens.h"

namespace infer::tokenizer {

struct SpecialTokenPolicy {
  std::optional<bool> add_bos;  // add_bos_token
  std::optional<bool> add_eos;  // add_eos_token
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  // added_tokens_decoder: tokens HF added on top of the base vocabulary.
  std::vector<AddedToken> added_tokens;
  // The transformers class; only some of them apply add_bos_token / add_eos_token.
  std::optional<std::string> tokenizer_class;
  // transformers' decode() removes spaces before punctuation when this is set.
  bool clean_up_tokenization_spaces = false;
  std::optional<std::string> chat_template;

  // Reads `dir`/tokenizer_config.json if it exists; throws FormatError if it is malformed.
  static SpecialTokenPolicy read_beside(const std::string& tokenizer_path);
};

}  // namespace infer::tokenizer

#pragma once
// tokenizer.json "decoder": Sequence, Replace, ByteFallback, Fuse, Strip, ByteLevel and
// Metaspace (internal). Decoders work on the list of token strings, as HF's do.
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "hf_normalizer.h"

namespace infer::tokenizer {

class Decoder {
 public:
  static Decoder parse(const nlohmann::json& j, const std::string& source);
  std::string decode(std::vector<std::string> tokens) const;

  struct ByteFallback {};
  struct Fuse {};
  struct Strip {
    std::string content;
    int start, stop;
  };
  struct ByteLevel {};
  // The replacement character becomes a space, except in the first token when the
  // pre-tokenizer prepended it (HF drops it there).
  struct Metaspace {
    std::string replacement;
    bool drop_in_first_token;
  };

 private:
  std::vector<std::variant<Normalizer::Replace, ByteFallback, Fuse, Strip, ByteLevel, Metaspace>>
      steps_;
};

}  // namespace infer::tokenizer

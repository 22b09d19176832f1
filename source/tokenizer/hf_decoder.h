#pragma once
// tokenizer.json "decoder": Sequence, Replace, ByteFallback, Fuse, Strip and ByteLevel
// (internal). Decoders work on the list of token strings, as HF's do.
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

 private:
  std::vector<std::variant<Normalizer::Replace, ByteFallback, Fuse, Strip, ByteLevel>> steps_;
};

}  // namespace infer::tokenizer

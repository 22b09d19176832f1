#pragma once
// tokenizer.json "normalizer": Sequence, Prepend, Replace (string patterns) and NFC (internal).
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace infer::tokenizer {

class Normalizer {
 public:
  // Throws FieldError for a type or pattern this implementation does not support.
  static Normalizer parse(const nlohmann::json& j, const std::string& source);
  std::string apply(std::string_view text) const;

  struct Prepend {
    std::string prefix;
  };
  struct Replace {
    std::string from, to;
  };
  struct Nfc {};

 private:
  std::vector<std::variant<Prepend, Replace, Nfc>> steps_;
};

// A Replace step from {"pattern": {"String": ...}, "content": ...}; shared with the decoder.
Normalizer::Replace parse_replace(const nlohmann::json& j, const std::string& source,
                                  const std::string& path);

}  // namespace infer::tokenizer

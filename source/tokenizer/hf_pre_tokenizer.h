#pragma once
// tokenizer.json "pre_tokenizer": Sequence, Split (regex or string; Isolated or Removed),
// ByteLevel, Digits and Metaspace (internal). Every splitting step is a regex split, so pieces are
// views into the (normalised) text; ByteLevel additionally marks pieces for byte-to-character
// mapping.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "regex.h"

namespace infer::tokenizer {

class PreTokenizer {
 public:
  static PreTokenizer parse(const nlohmann::json& j, const std::string& source);

  // The text the pieces are cut from: ByteLevel's add_prefix_space adds a leading space;
  // Metaspace replaces spaces and prepends its replacement character. `at_text_start` tells
  // whether this piece begins the whole input (Metaspace's "first" scheme prepends only there).
  std::string prepare(std::string_view text, bool at_text_start) const;
  // Appends the pieces of `text` (views into it) to `pieces`.
  void split(std::string_view text, std::vector<std::string_view>& pieces) const;
  // True when pieces must be mapped to byte-level characters before BPE.
  bool byte_level() const { return byte_level_; }

 private:
  struct Step {
    std::shared_ptr<const Regex> regex;
    bool keep_matches;  // Isolated keeps them as pieces; Removed drops them
  };
  void add(std::shared_ptr<const Regex> regex, bool keep_matches) {
    steps_.push_back({std::move(regex), keep_matches});
  }
  void parse_into(const nlohmann::json& j, const std::string& source, bool first);

  std::vector<Step> steps_;
  bool byte_level_ = false;
  bool add_prefix_space_ = false;
  enum class Prepend { kAlways, kFirst, kNever };
  struct Metaspace {
    std::string replacement;
    Prepend prepend;
  };
  std::optional<Metaspace> metaspace_;
};

}  // namespace infer::tokenizer

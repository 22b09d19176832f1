#pragma once
// A compiled PCRE2 pattern in UTF + Unicode-property mode, JIT-compiled when available
// (internal). Used for the Split pre-tokenizer regexes of tokenizer.json, which rely on \p{L},
// \p{N}, (?i:...) and look-ahead that std::regex does not support.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace infer::tokenizer {

class Regex {
 public:
  // Throws FormatError naming `source` and the pattern when it does not compile.
  Regex(const std::string& pattern, const std::string& source);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Calls on_match(begin, end) for each successive non-overlapping match in `text` (valid UTF-8).
  void for_each_match(std::string_view text,
                      const std::function<void(size_t, size_t)>& on_match) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace infer::tokenizer

#pragma once
// Added tokens (special and user-defined) and splitting text around them (internal).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace infer::tokenizer {

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool special = false;
  // HF: the token is matched in normalised text (its content normalised too) rather than in the
  // raw input.
  bool normalized = false;
  // HF: whitespace on that side of the token is absorbed into it.
  bool lstrip = false;
  bool rstrip = false;
};

// Tokenizers keep one entry per id up to the largest, so one id far beyond the tokens a file
// defines would make a small file cost gigabytes. Ids may leave gaps (padding), but the largest
// must stay below 2 × `defined` + 1024; FormatError naming `source` otherwise.
void check_id_density(int64_t max_id, size_t defined, const std::string& source);

// Matches a fixed set of tokens in text, longest first at each position.
class AddedTokenMatcher {
 public:
  // `pattern_of` gives the string to look for (the content, or its normalised form).
  AddedTokenMatcher(const std::vector<AddedToken>& tokens, bool want_normalized,
                    const std::function<std::string(const AddedToken&)>& pattern_of);

  // Calls on_text for the pieces between matches (non-empty only) and on_token for each match.
  // Special tokens are matched only when parse_special is set.
  void split(std::string_view text, bool parse_special,
             const std::function<void(std::string_view)>& on_text,
             const std::function<void(const AddedToken&)>& on_token) const;

  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    std::string pattern;
    AddedToken token;
  };
  std::vector<Entry> entries_;
  // Indices into entries_ by the pattern's first byte, longest pattern first, so that most text
  // positions are rejected with one table look-up.
  std::vector<size_t> by_first_byte_[256];
};

}  // namespace infer::tokenizer

#include "added_tokens.h"

#include <algorithm>

#include "infer/base/error.h"

namespace infer::tokenizer {

void check_id_density(int64_t max_id, size_t defined, const std::string& source) {
  const int64_t limit = 2 * static_cast<int64_t>(defined) + 1024;
  if (max_id >= limit) {
    throw base::FormatError(source + ": token id " + std::to_string(max_id) +
                            " is far beyond the " + std::to_string(defined) +
                            " tokens the file defines (ids must stay below " +
                            std::to_string(limit) + ")");
  }
}

namespace {
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
}  // namespace

AddedTokenMatcher::AddedTokenMatcher(
    const std::vector<AddedToken>& tokens, bool want_normalized,
    const std::function<std::string(const AddedToken&)>& pattern_of) {
  for (const AddedToken& t : tokens) {
    if (t.normalized != want_normalized) continue;
    std::string pattern = pattern_of(t);
    if (!pattern.empty()) entries_.push_back({std::move(pattern), t});
  }
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return a.pattern.size() > b.pattern.size();
  });
  for (size_t i = 0; i < entries_.size(); ++i) {
    by_first_byte_[static_cast<unsigned char>(entries_[i].pattern[0])].push_back(i);
  }
}

void AddedTokenMatcher::split(std::string_view text, bool parse_special,
                              const std::function<void(std::string_view)>& on_text,
                              const std::function<void(const AddedToken&)>& on_token) const {
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    const Entry* match = nullptr;
    for (size_t index : by_first_byte_[static_cast<unsigned char>(text[i])]) {
      const Entry& e = entries_[index];
      if ((parse_special || !e.token.special) &&
          text.compare(i, e.pattern.size(), e.pattern) == 0) {
        match = &e;
        break;
      }
    }
    if (!match) {
      ++i;
      continue;
    }
    size_t begin = i;
    size_t end = i + match->pattern.size();
    if (match->token.lstrip)
      while (begin > start && is_space(text[begin - 1])) --begin;
    if (match->token.rstrip)
      while (end < text.size() && is_space(text[end])) ++end;
    if (begin > start) on_text(text.substr(start, begin - start));
    on_token(match->token);
    i = start = end;
  }
  if (start < text.size()) on_text(text.substr(start));
}

}  // namespace infer::tokenizer

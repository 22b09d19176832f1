#include "added_tokens.h"

#include <algorithm>

namespace infer::tokenizer {

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
}

void AddedTokenMatcher::split(std::string_view text, bool parse_special,
                              const std::function<void(std::string_view)>& on_text,
                              const std::function<void(const AddedToken&)>& on_token) const {
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    const Entry* match = nullptr;
    for (const Entry& e : entries_) {
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
    if (i > start) on_text(text.substr(start, i - start));
    on_token(match->token);
    i += match->pattern.size();
    start = i;
  }
  if (start < text.size()) on_text(text.substr(start));
}

}  // namespace infer::tokenizer

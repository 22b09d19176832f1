#include "regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <mutex>
#include <vector>

#include "infer/base/error.h"
#include "infer/base/json_input.h"

namespace infer::tokenizer {

namespace {

// HF's tokenizers match with Oniguruma, whose \s is Unicode's White_Space. PCRE2's \s under UCP
// also takes U+180E (MONGOLIAN VOWEL SEPARATOR, no longer a space since Unicode 6.3), so \s and
// \S are spelled out as the property, inside character classes as well as outside.
std::string with_unicode_white_space(const std::string& pattern) {
  std::string out;
  out.reserve(pattern.size());
  bool quoted = false;  // inside \Q...\E everything is literal
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c != '\\' || i + 1 == pattern.size()) {
      out += c;
      continue;
    }
    const char next = pattern[++i];
    if (quoted) {
      quoted = next != 'E';
    } else if (next == 'Q') {
      quoted = true;
    } else if (next == 's' || next == 'S') {
      out += next == 's' ? "\\p{White_Space}" : "\\P{White_Space}";
      continue;
    }
    out += c;
    out += next;
  }
  return out;
}

}  // namespace

struct Regex::Impl {
  pcre2_code* code = nullptr;
  // Match data is per call (thread safety); this pool only avoids reallocating it.
  mutable std::mutex pool_mutex;
  mutable std::vector<pcre2_match_data*> pool;
};

Regex::Regex(const std::string& pattern, const std::string& source)
    : impl_(std::make_unique<Impl>()) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  const std::string translated = with_unicode_white_space(pattern);
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                              PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
  if (impl_->code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    throw base::FormatError(source + ": regex '" + base::utf8_prefix(pattern, 80) +
                            "' does not compile: " + reinterpret_cast<const char*>(message));
  }
  pcre2_jit_compile(impl_->code,
                    PCRE2_JIT_COMPLETE);  // falls back to the interpreter if unavailable
}

Regex::~Regex() {
  for (pcre2_match_data* m : impl_->pool) pcre2_match_data_free(m);
  pcre2_code_free(impl_->code);
}

void Regex::for_each_match(std::string_view text,
                           const std::function<void(size_t, size_t)>& on_match) const {
  pcre2_match_data* match = nullptr;
  {
    std::lock_guard<std::mutex> lock(impl_->pool_mutex);
    if (!impl_->pool.empty()) {
      match = impl_->pool.back();
      impl_->pool.pop_back();
    }
  }
  if (match == nullptr) match = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0;
  while (start < text.size()) {
    // The text was validated before, so PCRE2 need not check it again on every call.
    const int rc =
        pcre2_match(impl_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK, match, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {  // a pattern that backtracks past PCRE2's limits: an error, not a silent cut
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof(message));
      std::lock_guard<std::mutex> lock(impl_->pool_mutex);
      impl_->pool.push_back(match);
      throw base::InvalidArgument(std::string("the tokenizer's regex failed on this text: ") +
                                  reinterpret_cast<const char*>(message));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match);
    const size_t begin = ovector[0], end = ovector[1];
    if (end == begin) {
      // An empty match: step over one character so the loop always advances.
      start = end + 1;
      while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80)
        ++start;
      continue;
    }
    on_match(begin, end);
    start = end;
  }
  std::lock_guard<std::mutex> lock(impl_->pool_mutex);
  impl_->pool.push_back(match);
}

}  // namespace infer::tokenizer

#include "regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <mutex>
#include <vector>

#include "infer/base/error.h"

namespace infer::tokenizer {

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
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                              PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
  if (impl_->code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    throw base::FormatError(source + ": regex '" + pattern + "' does not compile at offset " +
                            std::to_string(offset) + ": " + reinterpret_cast<const char*>(message));
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
    if (rc < 0) break;  // no further match (errors cannot occur on valid UTF-8)
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

#pragma once
// Numbers and documents read from JSON that someone else wrote (model headers, tokenizer.json,
// session files, requests). Every integer is read as an integer of a stated range: a fraction,
// a negative or a value past the range is refused naming the field and the value, never
// truncated or wrapped. Documents nest at most kMaxJsonDepth levels, so copying, comparing or
// printing them (all recursive in nlohmann::json) cannot overflow the stack.
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "infer/base/error.h"

namespace infer::base {

constexpr int kMaxJsonDepth = 256;

// Throws FormatError("<where>: JSON nested deeper than 256 levels") for deeper documents. A
// linear scan, meant to run before parsing; it needs no valid JSON.
void check_json_depth(std::string_view text, const std::string& where);

// The first at most `max_bytes` bytes of `text`, cut on a UTF-8 character boundary, with "..."
// when something was cut: for quoting input back in an error message.
std::string utf8_prefix(const std::string& text, size_t max_bytes);
// A value printed for an error message, cut to `max_bytes` as utf8_prefix does.
std::string json_brief(const nlohmann::json& value, size_t max_bytes = 80);
std::string json_brief(const nlohmann::ordered_json& value, size_t max_bytes = 80);

// `value` as an integer in [lo, hi]; throws FormatError "<what> must be an integer in [lo, hi],
// got <value>" otherwise (floats such as 3.0 included: files write integers as integers).
template <typename Json>
int64_t json_integer(const Json& value, const std::string& what, int64_t lo = 0,
                     int64_t hi = std::numeric_limits<int64_t>::max()) {
  bool ok = false;
  int64_t v = 0;
  if (value.is_number_unsigned()) {
    const auto u = value.template get<uint64_t>();
    ok = u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    v = static_cast<int64_t>(u);
  } else if (value.is_number_integer()) {
    v = value.template get<int64_t>();
    ok = true;
  }
  if (!ok || v < lo || v > hi) {
    throw FormatError(what + " must be an integer in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "], got " + json_brief(value));
  }
  return v;
}

// a * b, or FormatError naming `what` when the product does not fit in 64 bits.
uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& what);

}  // namespace infer::base

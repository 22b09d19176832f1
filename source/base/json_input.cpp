#include "infer/base/json_input.h"

namespace infer::base {

void check_json_depth(std::string_view text, const std::string& where) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (const char ch : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (ch == '\\') {
        escaped = true;
      } else if (ch == '"') {
        in_string = false;
      }
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '[' || ch == '{') {
      if (++depth > kMaxJsonDepth) {
        throw FormatError(where + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                          " levels");
      }
    } else if (ch == ']' || ch == '}') {
      --depth;
    }
  }
}

std::string utf8_prefix(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

std::string json_brief(const nlohmann::json& value, size_t max_bytes) {
  return utf8_prefix(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                     max_bytes);
}

std::string json_brief(const nlohmann::ordered_json& value, size_t max_bytes) {
  return utf8_prefix(value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace),
                     max_bytes);
}

uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& what) {
  uint64_t product;
  if (__builtin_mul_overflow(a, b, &product)) {
    throw FormatError(what + ": " + std::to_string(a) + " × " + std::to_string(b) +
                      " overflows 64 bits");
  }
  return product;
}

}  // namespace infer::base

#include "utf8.h"

namespace infer::tokenizer::utf8 {

namespace {
// The expected length of a sequence from its lead byte, or 0 for a byte that cannot lead.
size_t lead_length(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}
}  // namespace

size_t char_length(std::string_view s, size_t i) {
  const auto c0 = static_cast<unsigned char>(s[i]);
  const size_t n = lead_length(c0);
  if (n <= 1 || i + n > s.size()) return 1;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
  }
  const auto c1 = static_cast<unsigned char>(s[i + 1]);
  // Overlong encodings, surrogates and code points past U+10FFFF are invalid.
  if ((c0 == 0xE0 && c1 < 0xA0) || (c0 == 0xED && c1 > 0x9F) || (c0 == 0xF0 && c1 < 0x90) ||
      (c0 == 0xF4 && c1 > 0x8F)) {
    return 1;
  }
  return n;
}

bool is_valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = char_length(s, i);
    if (n == 1 && static_cast<unsigned char>(s[i]) >= 0x80) return false;
    i += n;
  }
  return true;
}

std::string to_valid_lossy(std::string_view s) {
  if (is_valid(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    const size_t n = char_length(s, i);
    const auto c0 = static_cast<unsigned char>(s[i]);
    if (n > 1 || c0 < 0x80) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    // An ill-formed sequence: skip its lead byte and the continuation bytes that could still
    // have belonged to it (the maximal subpart), then emit one replacement character.
    size_t expected = c0 >= 0xF0 && c0 <= 0xF4   ? 4
                      : c0 >= 0xE0 && c0 <= 0xEF ? 3
                      : c0 >= 0xC2 && c0 <= 0xDF ? 2
                                                 : 1;
    size_t j = i + 1;
    for (size_t k = 1; k < expected && j < s.size(); ++k, ++j) {
      const auto c = static_cast<unsigned char>(s[j]);
      unsigned char lo = 0x80, hi = 0xBF;
      if (k == 1) {
        if (c0 == 0xE0) lo = 0xA0;
        if (c0 == 0xED) hi = 0x9F;
        if (c0 == 0xF0) lo = 0x90;
        if (c0 == 0xF4) hi = 0x8F;
      }
      if (c < lo || c > hi) break;
    }
    out.append("\xEF\xBF\xBD");
    i = j;
  }
  return out;
}

void append_codepoint(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

uint32_t next_codepoint(std::string_view s, size_t& i) {
  const size_t n = char_length(s, i);
  const auto c0 = static_cast<unsigned char>(s[i]);
  uint32_t cp = n == 1 ? c0 : n == 2 ? (c0 & 0x1F) : n == 3 ? (c0 & 0x0F) : (c0 & 0x07);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return cp;
}

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  if (from.empty()) return std::string(s);  // it would match between every two bytes
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (true) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s.substr(pos));
  return out;
}

}  // namespace infer::tokenizer::utf8

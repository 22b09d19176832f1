#include "byte_level.h"

#include "utf8.h"

namespace infer::tokenizer::byte_level {

namespace {

// Printable Latin-1 bytes stand for themselves; the others (controls, space, 0x7F-0xA0, 0xAD)
// are moved, in order, to U+0100 onwards.
std::array<uint32_t, 256> make_codepoints() {
  std::array<uint32_t, 256> cps{};
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    cps[b] = printable ? b : next++;
  }
  return cps;
}

const std::array<uint32_t, 256>& codepoints() {
  static const auto cps = make_codepoints();
  return cps;
}

}  // namespace

const std::array<std::string, 256>& byte_to_chars() {
  static const auto table = [] {
    std::array<std::string, 256> t;
    for (int b = 0; b < 256; ++b) utf8::append_codepoint(codepoints()[b], t[b]);
    return t;
  }();
  return table;
}

std::string encode(std::string_view bytes) {
  const auto& table = byte_to_chars();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += table[static_cast<unsigned char>(c)];
  return out;
}

std::optional<unsigned char> byte_of(uint32_t codepoint) {
  static const auto inverse = [] {
    std::array<int, 324> inv;
    inv.fill(-1);
    for (int b = 0; b < 256; ++b) inv[codepoints()[b]] = b;
    return inv;
  }();
  if (codepoint >= inverse.size() || inverse[codepoint] < 0) return std::nullopt;
  return static_cast<unsigned char>(inverse[codepoint]);
}

}  // namespace infer::tokenizer::byte_level

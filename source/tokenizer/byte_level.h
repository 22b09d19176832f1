#pragma once
// GPT-2's byte <-> character mapping used by byte-level BPE (internal): every byte gets a
// printable character, so any byte string becomes a string of vocabulary characters.
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace infer::tokenizer::byte_level {

// The UTF-8 encoding of the character standing for each byte.
const std::array<std::string, 256>& byte_to_chars();

// Maps raw bytes to their characters.
std::string encode(std::string_view bytes);

// The byte a character stands for, if it is one of the 256 characters.
std::optional<unsigned char> byte_of(uint32_t codepoint);

}  // namespace infer::tokenizer::byte_level

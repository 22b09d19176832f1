#pragma once
// Small UTF-8 helpers for the tokenizers (internal).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace infer::tokenizer::utf8 {

// Length in bytes of the character starting at s[i]; an invalid or truncated sequence counts as
// one byte so that arbitrary input still advances.
size_t char_length(std::string_view s, size_t i);

bool is_valid(std::string_view s);

// `s` with every ill-formed sequence replaced by U+FFFD, one per maximal ill-formed subpart (the
// rule of Python's bytes.decode(errors="replace") and Rust's String::from_utf8_lossy).
std::string to_valid_lossy(std::string_view s);

// Appends the UTF-8 encoding of code point `cp` (< 0x110000) to `out`.
void append_codepoint(uint32_t cp, std::string& out);

// The code point of the (valid) character starting at s[i]; advances i past it.
uint32_t next_codepoint(std::string_view s, size_t& i);

bool is_ascii(std::string_view s);

// Replaces every occurrence of `from` (non-empty) by `to`.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);

}  // namespace infer::tokenizer::utf8

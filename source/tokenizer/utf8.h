#pragma once
// Small UTF-8 helpers for the tokenizers (internal).
#include <cstddef>
#include <string>
#include <string_view>

namespace infer::tokenizer::utf8 {

// Length in bytes of the character starting at s[i]; an invalid or truncated sequence counts as
// one byte so that arbitrary input still advances.
size_t char_length(std::string_view s, size_t i);

bool is_valid(std::string_view s);

// Replaces every occurrence of `from` (non-empty) by `to`.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);

}  // namespace infer::tokenizer::utf8

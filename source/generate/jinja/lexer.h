#pragma once
// Splits a template into text and tags, applying whitespace control as HF configures Jinja
// ({%- / -%}, trim_blocks, lstrip_blocks, {%+), and each tag into tokens.
#include <string>
#include <vector>

namespace infer::generate::jinja {

struct Token {
  enum class Type { kName, kString, kInt, kFloat, kOperator, kEnd };
  Type type = Type::kEnd;
  std::string text;  // a name, an operator, a number's digits, a string's decoded contents
  int line = 0;
};

struct Piece {
  enum class Type { kText, kOutput, kStatement };  // text, {{ ... }}, {% ... %}
  Type type = Type::kText;
  std::string text;
  std::vector<Token> tokens;  // ends with a kEnd token
  int line = 0;
};

// Throws base::FormatError naming the line for an unclosed tag or string, or a character no
// token starts with.
std::vector<Piece> lex(const std::string& source);

}  // namespace infer::generate::jinja

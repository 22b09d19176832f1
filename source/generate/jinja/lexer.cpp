#include "lexer.h"

#include <cctype>

#include "infer/base/error.h"

namespace infer::generate::jinja {

namespace {

[[noreturn]] void fail(int line, const std::string& what) {
  throw base::FormatError("chat template line " + std::to_string(line) + ": " + what);
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class TagLexer {
 public:
  TagLexer(const std::string& s, size_t pos, int line) : s_(s), pos_(pos), line_(line) {}

  // Tokens up to the closing `close` ("}}" or "%}"); returns the position after it and whether
  // a '-' asked to strip the whitespace that follows.
  std::vector<Token> run(const std::string& close, size_t& end, bool& strip_after) {
    std::vector<Token> tokens;
    for (;;) {
      while (pos_ < s_.size() && is_space(s_[pos_])) {
        if (s_[pos_] == '\n') ++line_;
        ++pos_;
      }
      if (pos_ >= s_.size()) fail(line_, "a tag is not closed (expected '" + close + "')");
      for (const char* control : {"-", "+", ""}) {
        const std::string ending = std::string(control) + close;
        if (s_.compare(pos_, ending.size(), ending) == 0) {
          strip_after = control[0] == '-';
          end = pos_ + ending.size();
          tokens.push_back({Token::Type::kEnd, "", line_});
          return tokens;
        }
      }
      tokens.push_back(next());
    }
  }

  int line() const { return line_; }

 private:
  Token next() {
    const char c = s_[pos_];
    Token t;
    t.line = line_;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const size_t start = pos_;
      while (pos_ < s_.size() &&
             (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
        ++pos_;
      t.type = Token::Type::kName;
      t.text = s_.substr(start, pos_ - start);
      return t;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      const size_t start = pos_;
      while (pos_ < s_.size() &&
             (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
        ++pos_;
      t.type = Token::Type::kInt;
      if (pos_ + 1 < s_.size() && s_[pos_] == '.' &&
          std::isdigit(static_cast<unsigned char>(s_[pos_ + 1]))) {
        t.type = Token::Type::kFloat;
        ++pos_;
        while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      }
      if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
        t.type = Token::Type::kFloat;
        ++pos_;
        if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
        while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      }
      for (char d : s_.substr(start, pos_ - start))
        if (d != '_') t.text += d;
      return t;
    }
    if (c == '\'' || c == '"') return string_token(c);
    for (const char* op : {"**", "//", "==", "!=", "<=", ">="}) {
      if (s_.compare(pos_, 2, op) == 0) {
        pos_ += 2;
        t.type = Token::Type::kOperator;
        t.text = op;
        return t;
      }
    }
    if (std::string("+-*/%~<>=()[]{},.:|").find(c) != std::string::npos) {
      ++pos_;
      t.type = Token::Type::kOperator;
      t.text = std::string(1, c);
      return t;
    }
    fail(line_, std::string("unexpected character '") + c + "' in a tag");
  }

  Token string_token(char quote) {
    Token t;
    t.type = Token::Type::kString;
    t.line = line_;
    ++pos_;
    for (;;) {
      if (pos_ >= s_.size()) fail(t.line, "a string is not closed");
      const char c = s_[pos_++];
      if (c == quote) return t;
      if (c == '\n') ++line_;
      if (c != '\\' || pos_ >= s_.size()) {
        t.text += c;
        continue;
      }
      const char e = s_[pos_++];
      switch (e) {
        case 'n':
          t.text += '\n';
          break;
        case 't':
          t.text += '\t';
          break;
        case 'r':
          t.text += '\r';
          break;
        case '\\':
        case '\'':
        case '"':
          t.text += e;
          break;
        case '\n':
          ++line_;  // a backslash-newline continues the string
          break;
        case 'x':
        case 'u':
        case 'U': {
          const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (pos_ + n > s_.size())
            fail(line_, "a \\" + std::string(1, e) + " escape is cut short");
          uint32_t cp = 0;
          for (size_t k = 0; k < n; ++k) {
            const char h = s_[pos_ + k];
            if (!std::isxdigit(static_cast<unsigned char>(h)))
              fail(line_, "a \\" + std::string(1, e) + " escape has a non-hex digit");
            cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h))
                                                     ? h - '0'
                                                     : std::tolower(h) - 'a' + 10);
          }
          if (cp > 0x10FFFF) fail(line_, "an escape names no character");
          pos_ += n;
          append_utf8(cp, t.text);
          break;
        }
        default:  // Python keeps unknown escapes as written
          t.text += '\\';
          t.text += e;
      }
    }
  }

  const std::string& s_;
  size_t pos_;
  int line_;
};

}  // namespace

std::vector<Piece> lex(const std::string& source) {
  std::vector<Piece> pieces;
  size_t pos = 0;
  int line = 1;
  bool strip_next = false;    // the last tag ended with '-'
  bool trim_newline = false;  // trim_blocks: the last tag was a block or a comment
  bool line_starting = true;  // the text begins a line
  auto count_lines = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i)
      if (source[i] == '\n') ++line;
  };
  for (;;) {
    size_t start = source.find('{', pos);
    while (start != std::string::npos && start + 1 < source.size() && source[start + 1] != '{' &&
           source[start + 1] != '%' && source[start + 1] != '#')
      start = source.find('{', start + 1);
    if (start != std::string::npos && start + 1 >= source.size()) start = std::string::npos;
    std::string text =
        source.substr(pos, start == std::string::npos ? std::string::npos : start - pos);
    const int text_line = line;
    count_lines(pos, start == std::string::npos ? source.size() : start);
    if (trim_newline && !text.empty() && text[0] == '\n') {
      text.erase(0, 1);
      line_starting = true;
    } else if (trim_newline && text.compare(0, 2, "\r\n") == 0) {
      text.erase(0, 2);
      line_starting = true;
    }
    if (strip_next) {
      size_t k = 0;
      while (k < text.size() && is_space(text[k])) ++k;
      text.erase(0, k);
    }
    if (start == std::string::npos) {
      if (!text.empty()) pieces.push_back({Piece::Type::kText, text, {}, text_line});
      break;
    }
    const char kind = source[start + 1];
    const char control = start + 2 < source.size() ? source[start + 2] : '\0';
    if (control == '-') {
      while (!text.empty() && is_space(text.back())) text.pop_back();
    } else if (control != '+' && kind != '{') {
      // lstrip_blocks: a block or comment tag with only spaces before it on its line takes
      // them; "its line" starts after a newline in the text, or where the text starts when
      // that is a line start (the template's start, or a newline trim_blocks took).
      const size_t newline = text.find_last_of('\n');
      const size_t from = newline == std::string::npos ? 0 : newline + 1;
      bool blank = from < text.size();
      for (size_t k = from; k < text.size() && blank; ++k)
        blank = text[k] == ' ' || text[k] == '\t' || text[k] == '\r' || text[k] == '\f' ||
                text[k] == '\v';
      if (blank && (newline != std::string::npos || line_starting)) text.erase(from);
    }
    if (!text.empty()) pieces.push_back({Piece::Type::kText, text, {}, text_line});
    line_starting = false;
    const size_t body = start + 2 + ((control == '-' || control == '+') ? 1 : 0);
    if (kind == '#') {
      const size_t close = source.find("#}", body);
      if (close == std::string::npos) fail(line, "a comment is not closed");
      strip_next = close > body && source[close - 1] == '-';
      trim_newline = !strip_next;
      count_lines(start, close + 2);
      pos = close + 2;
      continue;
    }
    TagLexer lexer(source, body, line);
    size_t end = 0;
    bool strip_after = false;
    Piece piece;
    piece.type = kind == '{' ? Piece::Type::kOutput : Piece::Type::kStatement;
    piece.line = line;
    piece.tokens = lexer.run(kind == '{' ? "}}" : "%}", end, strip_after);
    line = lexer.line();
    pieces.push_back(std::move(piece));
    strip_next = strip_after;
    trim_newline = kind == '%' && !strip_after;
    pos = end;
  }
  return pieces;
}

}  // namespace infer::generate::jinja

#include "parser.h"

#include <cerrno>
#include <cstdlib>

#include "infer/base/error.h"

namespace infer::generate::jinja {

namespace {

constexpr int kMaxNesting =
    200;  // expression and block depth, so that no template overflows the stack

class ExprParser {
 public:
  ExprParser(const std::vector<Token>& tokens, size_t pos = 0) : t_(tokens), pos_(pos) {}

  ExprPtr expression() { return conditional(); }
  // A for loop's iterable: no conditional expression, so that `for x in xs if c` filters.
  ExprPtr iterable() { return or_expr(); }
  // A comma-separated list becomes a tuple (`for a, b in ...`, `set a, b = ...`).
  ExprPtr tuple_or_expression() {
    ExprPtr first = expression();
    if (!peek_op(",")) return first;
    auto tuple = node(Expr::Kind::kTuple);
    tuple->args.push_back(std::move(first));
    while (accept_op(",")) {
      if (at_end() || peek_name("in") || peek_op("=")) break;
      tuple->args.push_back(expression());
    }
    return tuple;
  }

  const Token& peek() const { return t_[pos_]; }
  bool at_end() const { return t_[pos_].type == Token::Type::kEnd; }
  bool peek_op(const char* op) const {
    return t_[pos_].type == Token::Type::kOperator && t_[pos_].text == op;
  }
  bool peek_name(const char* name) const {
    return t_[pos_].type == Token::Type::kName && t_[pos_].text == name;
  }
  bool accept_op(const char* op) {
    if (!peek_op(op)) return false;
    ++pos_;
    return true;
  }
  bool accept_name(const char* name) {
    if (!peek_name(name)) return false;
    ++pos_;
    return true;
  }
  void expect_op(const char* op) {
    if (!accept_op(op)) error(std::string("expected '") + op + "'");
  }
  std::string expect_name() {
    if (peek().type != Token::Type::kName) error("expected a name");
    return t_[pos_++].text;
  }
  void expect_end() {
    if (!at_end()) error("unexpected '" + peek().text + "'");
  }
  [[noreturn]] void error(const std::string& what) const {
    const Token& t = t_[pos_];
    std::string at = t.type == Token::Type::kEnd ? "the end of the tag" : "'" + t.text + "'";
    throw base::FormatError("chat template line " + std::to_string(t.line) + ": " + what + " at " +
                            at);
  }

 private:
  struct Depth {
    explicit Depth(ExprParser& p) : p(p) {
      if (++p.depth_ > kMaxNesting) p.error("expressions nest too deeply");
    }
    ~Depth() { --p.depth_; }
    ExprParser& p;
  };

  ExprPtr node(Expr::Kind kind) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = peek().line;
    return e;
  }
  ExprPtr binary(Expr::Kind kind, std::string op, ExprPtr a, ExprPtr b) {
    auto e = node(kind);
    e->name = std::move(op);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }

  ExprPtr conditional() {
    Depth depth(*this);
    ExprPtr value = or_expr();
    while (accept_name("if")) {
      auto e = node(Expr::Kind::kConditional);
      e->args.push_back(or_expr());
      e->args.push_back(std::move(value));
      e->args.push_back(accept_name("else") ? or_expr() : nullptr);
      value = std::move(e);
    }
    return value;
  }
  ExprPtr or_expr() {
    ExprPtr left = and_expr();
    while (accept_name("or")) left = binary(Expr::Kind::kOr, "or", std::move(left), and_expr());
    return left;
  }
  ExprPtr and_expr() {
    ExprPtr left = not_expr();
    while (accept_name("and")) left = binary(Expr::Kind::kAnd, "and", std::move(left), not_expr());
    return left;
  }
  ExprPtr not_expr() {
    if (peek_name("not")) {
      Depth depth(*this);
      auto e = node(Expr::Kind::kUnary);
      ++pos_;
      e->name = "not";
      e->args.push_back(not_expr());
      return e;
    }
    return compare();
  }
  ExprPtr compare() {
    ExprPtr left = math1();
    for (;;) {
      std::string op;
      for (const char* candidate : {"==", "!=", "<=", ">=", "<", ">"})
        if (peek_op(candidate)) op = candidate;
      if (!op.empty()) {
        ++pos_;
      } else if (accept_name("in")) {
        op = "in";
      } else if (peek_name("not") && t_[pos_ + 1].type == Token::Type::kName &&
                 t_[pos_ + 1].text == "in") {
        pos_ += 2;
        op = "not in";
      } else {
        return left;
      }
      left = binary(Expr::Kind::kBinary, op, std::move(left), math1());
    }
  }
  ExprPtr math1() {
    ExprPtr left = concat();
    while (peek_op("+") || peek_op("-")) {
      const std::string op = t_[pos_++].text;
      left = binary(Expr::Kind::kBinary, op, std::move(left), concat());
    }
    return left;
  }
  ExprPtr concat() {
    ExprPtr left = math2();
    while (accept_op("~")) left = binary(Expr::Kind::kBinary, "~", std::move(left), math2());
    return left;
  }
  ExprPtr math2() {
    ExprPtr left = power();
    while (peek_op("*") || peek_op("/") || peek_op("//") || peek_op("%")) {
      const std::string op = t_[pos_++].text;
      left = binary(Expr::Kind::kBinary, op, std::move(left), power());
    }
    return left;
  }
  ExprPtr power() {
    ExprPtr left = unary();
    while (accept_op("**")) left = binary(Expr::Kind::kBinary, "**", std::move(left), unary());
    return left;
  }
  ExprPtr unary() {
    if (peek_op("-") || peek_op("+")) {
      Depth depth(*this);
      auto e = node(Expr::Kind::kUnary);
      e->name = t_[pos_++].text;
      e->args.push_back(unary());
      return filters_and_tests(std::move(e));
    }
    return filters_and_tests(postfix(primary()));
  }

  ExprPtr primary() {
    Depth depth(*this);
    const Token& t = peek();
    if (t.type == Token::Type::kString) {
      auto e = node(Expr::Kind::kLiteral);
      std::string text;
      while (peek().type == Token::Type::kString) text += t_[pos_++].text;  // "a" "b"
      e->value = Value(std::move(text));
      return e;
    }
    if (t.type == Token::Type::kInt || t.type == Token::Type::kFloat) {
      auto e = node(Expr::Kind::kLiteral);
      ++pos_;
      if (t.type == Token::Type::kInt) {
        errno = 0;
        const long long v = std::strtoll(t.text.c_str(), nullptr, 10);
        if (errno == ERANGE) error("integer too large");
        e->value = Value(static_cast<int64_t>(v));
      } else {
        e->value = Value(std::strtod(t.text.c_str(), nullptr));
      }
      return e;
    }
    if (t.type == Token::Type::kName) {
      auto e = node(Expr::Kind::kLiteral);
      ++pos_;
      if (t.text == "true" || t.text == "True") {
        e->value = Value(true);
      } else if (t.text == "false" || t.text == "False") {
        e->value = Value(false);
      } else if (t.text == "none" || t.text == "None") {
        e->value = Value::none();
      } else {
        e->kind = Expr::Kind::kName;
        e->name = t.text;
      }
      return e;
    }
    if (accept_op("(")) {
      if (accept_op(")")) return node(Expr::Kind::kTuple);
      ExprPtr inner = tuple_or_expression();
      expect_op(")");
      return inner;
    }
    if (accept_op("[")) {
      auto e = node(Expr::Kind::kList);
      while (!accept_op("]")) {
        e->args.push_back(expression());
        if (!accept_op(",")) {
          expect_op("]");
          break;
        }
      }
      return e;
    }
    if (accept_op("{")) {
      auto e = node(Expr::Kind::kDict);
      while (!accept_op("}")) {
        e->args.push_back(expression());
        expect_op(":");
        e->args.push_back(expression());
        if (!accept_op(",")) {
          expect_op("}");
          break;
        }
      }
      return e;
    }
    error("expected a value");
  }

  ExprPtr postfix(ExprPtr value) {
    for (;;) {
      if (accept_op(".")) {
        auto e = node(Expr::Kind::kAttribute);
        const Token& t = peek();
        if (t.type != Token::Type::kName && t.type != Token::Type::kInt) error("expected a name");
        e->name = t_[pos_++].text;
        e->args.push_back(std::move(value));
        value = std::move(e);
      } else if (accept_op("[")) {
        value = subscript(std::move(value));
      } else if (peek_op("(")) {
        auto e = node(Expr::Kind::kCall);
        e->args.push_back(std::move(value));
        call_arguments(*e);
        value = std::move(e);
      } else {
        return value;
      }
    }
  }

  ExprPtr subscript(ExprPtr value) {
    ExprPtr parts[3];
    int part = 0;
    bool slice = false;
    for (;;) {
      if (accept_op("]")) break;
      if (accept_op(":")) {
        slice = true;
        if (++part > 2) error("a slice has at most three parts");
        continue;
      }
      if (parts[part]) error("expected ':' or ']'");
      parts[part] = expression();
    }
    if (!slice) {
      if (!parts[0]) error("an empty subscript");
      auto e = node(Expr::Kind::kIndex);
      e->args.push_back(std::move(value));
      e->args.push_back(std::move(parts[0]));
      return e;
    }
    auto e = node(Expr::Kind::kSlice);
    e->args.push_back(std::move(value));
    for (ExprPtr& p : parts) e->args.push_back(std::move(p));
    return e;
  }

  void call_arguments(Expr& e) {
    expect_op("(");
    while (!accept_op(")")) {
      if (peek().type == Token::Type::kName && t_[pos_ + 1].type == Token::Type::kOperator &&
          t_[pos_ + 1].text == "=") {
        std::string key = t_[pos_].text;
        pos_ += 2;
        e.kwargs.emplace_back(std::move(key), expression());
      } else {
        if (!e.kwargs.empty()) error("a positional argument after keyword arguments");
        e.args.push_back(expression());
      }
      if (!accept_op(",")) {
        expect_op(")");
        break;
      }
    }
  }

  ExprPtr filters_and_tests(ExprPtr value) {
    for (;;) {
      if (accept_op("|")) {
        auto e = node(Expr::Kind::kFilter);
        e->name = expect_name();
        if (!is_known_filter(e->name)) unsupported("filter '" + e->name + "'");
        e->args.push_back(std::move(value));
        if (peek_op("(")) call_arguments(*e);
        value = postfix(std::move(e));
      } else if (accept_name("is")) {
        auto e = node(Expr::Kind::kTest);
        e->negated = accept_name("not");
        e->name = expect_name();
        if (!is_known_test(e->name)) unsupported("test '" + e->name + "'");
        e->args.push_back(std::move(value));
        if (peek_op("(")) {
          call_arguments(*e);
        } else if (starts_test_argument()) {
          e->args.push_back(primary());
        }
        value = std::move(e);
      } else {
        return value;
      }
    }
  }

  // `x is divisibleby 3`: Jinja takes one argument without parentheses when a value follows.
  bool starts_test_argument() const {
    const Token& t = peek();
    if (t.type == Token::Type::kName)
      return t.text != "else" && t.text != "or" && t.text != "and" && t.text != "if" &&
             t.text != "is" && t.text != "in" && t.text != "not";
    return t.type == Token::Type::kString || t.type == Token::Type::kInt ||
           t.type == Token::Type::kFloat || peek_op("[") || peek_op("{");
  }

  [[noreturn]] void unsupported(const std::string& what) const {
    throw base::Unsupported("chat template line " + std::to_string(peek().line) + ": " + what +
                            " is not supported");
  }

  const std::vector<Token>& t_;
  size_t pos_;
  int depth_ = 0;
};

class Parser {
 public:
  explicit Parser(const std::vector<Piece>& pieces) : p_(pieces) {}

  Body run() {
    std::string end;
    Body body = block({}, end, 0);
    return body;
  }

 private:
  // Statements up to one of `ends` (returned in `end`), or the end of the template when `ends`
  // is empty.
  Body block(const std::vector<std::string>& ends, std::string& end, int depth) {
    if (depth > kMaxNesting)
      throw base::FormatError("chat template: blocks nest more than " +
                              std::to_string(kMaxNesting) + " deep");
    Body body;
    while (i_ < p_.size()) {
      const Piece& piece = p_[i_];
      if (piece.type == Piece::Type::kText) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kText;
        s->text = piece.text;
        s->line = piece.line;
        body.push_back(std::move(s));
        ++i_;
        continue;
      }
      ExprParser e(piece.tokens);
      if (piece.type == Piece::Type::kOutput) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kOutput;
        s->line = piece.line;
        s->expr = e.expression();
        e.expect_end();
        body.push_back(std::move(s));
        ++i_;
        continue;
      }
      const std::string keyword = e.expect_name();
      for (const std::string& candidate : ends) {
        if (keyword == candidate) {
          end = keyword;
          return body;
        }
      }
      ++i_;
      body.push_back(statement(keyword, e, piece.line, depth));
    }
    if (!ends.empty()) {
      throw base::FormatError("chat template: '{% " + ends.back() +
                              " %}' is missing at the end of the template");
    }
    return body;
  }

  std::unique_ptr<Stmt> statement(const std::string& keyword, ExprParser& e, int line, int depth) {
    auto s = std::make_unique<Stmt>();
    s->line = line;
    std::string end;
    if (keyword == "if") {
      s->kind = Stmt::Kind::kIf;
      s->conditions.push_back(e.expression());
      e.expect_end();
      for (;;) {
        s->bodies.push_back(block({"elif", "else", "endif"}, end, depth + 1));
        if (end == "endif") break;
        ExprParser next(p_[i_].tokens);
        next.expect_name();
        ++i_;
        if (end == "else") {
          next.expect_end();
          s->else_body = block({"endif"}, end, depth + 1);
          break;
        }
        s->conditions.push_back(next.expression());
        next.expect_end();
      }
      close_tag();
    } else if (keyword == "for") {
      s->kind = Stmt::Kind::kFor;
      do {
        s->targets.push_back(e.expect_name());
      } while (e.accept_op(","));
      if (!e.accept_name("in")) e.error("expected 'in'");
      s->expr = e.iterable();
      if (e.accept_name("if")) s->filter = e.expression();
      if (e.accept_name("recursive")) e.error("recursive loops are not supported");
      e.expect_end();
      s->body = block({"else", "endfor"}, end, depth + 1);
      if (end == "else") {
        close_tag();
        s->else_body = block({"endfor"}, end, depth + 1);
      }
      close_tag();
    } else if (keyword == "set") {
      std::string target = e.expect_name();
      if (e.accept_op(".")) target += "." + e.expect_name();
      s->targets.push_back(target);
      while (e.accept_op(",")) s->targets.push_back(e.expect_name());
      if (e.at_end()) {
        if (s->targets.size() != 1) e.error("a block set takes one name");
        s->kind = Stmt::Kind::kSetBlock;
        s->body = block({"endset"}, end, depth + 1);
        close_tag();
      } else {
        s->kind = Stmt::Kind::kSet;
        e.expect_op("=");
        s->expr = e.tuple_or_expression();
        e.expect_end();
      }
    } else if (keyword == "macro") {
      s->kind = Stmt::Kind::kMacro;
      s->text = e.expect_name();
      e.expect_op("(");
      while (!e.accept_op(")")) {
        std::string name = e.expect_name();
        ExprPtr default_value = e.accept_op("=") ? e.expression() : nullptr;
        s->params.emplace_back(std::move(name), std::move(default_value));
        if (!e.accept_op(",")) {
          e.expect_op(")");
          break;
        }
      }
      e.expect_end();
      s->body = block({"endmacro"}, end, depth + 1);
      close_tag();
    } else if (keyword == "break" || keyword == "continue") {
      s->kind = keyword == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue;
      e.expect_end();
    } else if (keyword == "generation") {
      s->kind = Stmt::Kind::kBlock;
      e.expect_end();
      s->body = block({"endgeneration"}, end, depth + 1);
      close_tag();
    } else {
      throw base::Unsupported("chat template line " + std::to_string(line) + ": statement '" +
                              keyword + "' is not supported");
    }
    return s;
  }

  // The end tag block() stopped at: nothing may follow its keyword.
  void close_tag() {
    ExprParser end(p_[i_].tokens);
    end.expect_name();
    end.expect_end();
    ++i_;
  }

  const std::vector<Piece>& p_;
  size_t i_ = 0;
};

}  // namespace

Body parse(const std::vector<Piece>& pieces) { return Parser(pieces).run(); }

}  // namespace infer::generate::jinja

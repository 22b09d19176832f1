#include "infer/generate/jinja/template.h"

#include <cmath>
#include <unordered_map>

#include "ast.h"
#include "builtins.h"
#include "infer/base/error.h"
#include "lexer.h"
#include "parser.h"

namespace infer::generate::jinja {

namespace {

// How an expression reads, for messages about it ("messages[0].content").
std::string describe(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kName:
      return e.name;
    case Expr::Kind::kAttribute:
      return describe(*e.args[0]) + "." + e.name;
    case Expr::Kind::kIndex:
      return describe(*e.args[0]) + "[" +
             (e.args[1]->kind == Expr::Kind::kLiteral ? e.args[1]->value.repr() : "...") + "]";
    default:
      return "the value";
  }
}

bool contains(const Value& container, const Value& item, int line) {
  if (container.is_string()) {
    if (!item.is_string()) fail(line, "'in <string>' needs a string on the left");
    return container.as_string().find(item.as_string()) != std::string::npos;
  }
  if (container.is_dict()) return item.is_string() && container.as_dict().find(item.as_string());
  if (container.is_list()) {
    for (const Value& v : container.as_list())
      if (v == item) return true;
    return false;
  }
  if (container.is_undefined()) return false;
  fail(line, std::string("'in' needs a string, list or dict, got ") + container.type_name());
}

Value arithmetic(const std::string& op, const Value& a, const Value& b, int line,
                 size_t max_bytes) {
  if (op == "+") {
    if (a.is_string() && b.is_string()) return Value(a.as_string() + b.as_string());
    if (a.is_list() && b.is_list()) {
      List out = a.as_list();
      out.insert(out.end(), b.as_list().begin(), b.as_list().end());
      return Value(std::move(out));
    }
  }
  if (op == "*" && (a.is_string() || a.is_list()) && b.kind() == Value::Kind::kInt) {
    const int64_t n = std::max<int64_t>(0, b.as_int());
    const size_t unit = a.is_string() ? a.as_string().size() : a.as_list().size();
    if (unit > 0 && static_cast<uint64_t>(n) > max_bytes / unit)
      fail(line, "a repetition too large");
    if (a.is_string()) {
      std::string out;
      for (int64_t i = 0; i < n; ++i) out += a.as_string();
      return Value(std::move(out));
    }
    List out;
    for (int64_t i = 0; i < n; ++i) out.insert(out.end(), a.as_list().begin(), a.as_list().end());
    return Value(std::move(out));
  }
  const bool numbers = (a.is_number() || a.kind() == Value::Kind::kBool) &&
                       (b.is_number() || b.kind() == Value::Kind::kBool);
  if (!numbers) {
    fail(line,
         "unsupported operand types for " + op + ": " + a.type_name() + " and " + b.type_name());
  }
  auto as_int = [](const Value& v) {
    return v.kind() == Value::Kind::kBool ? int64_t{v.as_bool()} : v.as_int();
  };
  auto as_double = [&](const Value& v) {
    return v.kind() == Value::Kind::kBool ? static_cast<double>(v.as_bool()) : v.as_double();
  };
  const bool ints = a.kind() != Value::Kind::kFloat && b.kind() != Value::Kind::kFloat;
  if (ints && op != "/") {
    const int64_t x = as_int(a), y = as_int(b);
    int64_t r = 0;
    if (op == "+" && !__builtin_add_overflow(x, y, &r)) return Value(r);
    if (op == "-" && !__builtin_sub_overflow(x, y, &r)) return Value(r);
    if (op == "*" && !__builtin_mul_overflow(x, y, &r)) return Value(r);
    if (op == "//" || op == "%") {
      if (y == 0) fail(line, "integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) fail(line, "integer overflow");
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        --q;
        m += y;
      }
      return Value(op == "//" ? q : m);
    }
    if (op == "**" && y >= 0) {
      int64_t result = 1;
      for (int64_t i = 0; i < y; ++i)
        if (__builtin_mul_overflow(result, x, &result)) fail(line, "integer overflow");
      return Value(result);
    }
    if (op != "**") fail(line, "integer overflow");
  }
  const double x = as_double(a), y = as_double(b);
  if (op == "+") return Value(x + y);
  if (op == "-") return Value(x - y);
  if (op == "*") return Value(x * y);
  if (op == "**") return Value(std::pow(x, y));
  if (y == 0) fail(line, "division by zero");
  if (op == "/") return Value(x / y);
  if (op == "//") return Value(std::floor(x / y));
  double m = std::fmod(x, y);
  if (m != 0 && ((m < 0) != (y < 0))) m += y;
  return Value(m);  // %
}

// Python's slice of a list or string (characters).
Value slice(const Value& object, const Value& start_v, const Value& stop_v, const Value& step_v,
            int line) {
  if (!object.is_list() && !object.is_string())
    fail(line, std::string("cannot slice ") + object.type_name());
  const List items = object.is_list() ? object.as_list() : object.iterate();
  const int64_t n = static_cast<int64_t>(items.size());
  auto integer = [&](const Value& v, int64_t otherwise) {
    if (v.is_undefined() || v.is_none()) return otherwise;
    if (v.kind() != Value::Kind::kInt) fail(line, "slice positions must be integers");
    return v.as_int();
  };
  const int64_t step = integer(step_v, 1);
  if (step == 0) fail(line, "slice step cannot be zero");
  auto clamp = [&](int64_t i, bool is_stop) {
    if (i < 0) i += n;
    if (step > 0) return std::clamp<int64_t>(i, 0, n);
    return std::clamp<int64_t>(i, -1, n - 1) + (is_stop ? 0 : 0);
  };
  int64_t start = step > 0 ? integer(start_v, 0) : integer(start_v, n - 1);
  int64_t stop = step > 0 ? integer(stop_v, n) : integer(stop_v, -n - 1);
  start = clamp(start, false);
  stop = clamp(stop, true);
  List out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
    out.push_back(items[static_cast<size_t>(i)]);
  if (object.is_list()) return Value(std::move(out));
  std::string text;
  for (const Value& c : out) text += c.as_string();
  return Value(std::move(text));
}

class Renderer {
 public:
  Renderer(const RenderLimits& limits, Dict base) : limits_(limits) {
    frames_.emplace_back();
    for (auto& [k, v] : base.items) frames_[0][k] = std::move(v);
  }

  std::string run(const Body& body) {
    std::string out;
    exec(body, out);
    return out;
  }

 private:
  enum class Flow { kNormal, kBreak, kContinue };
  using Frame = std::unordered_map<std::string, Value>;

  void emit(std::string& out, const std::string& text) {
    if (out.size() + text.size() > limits_.max_output_bytes)
      fail(0, "the rendered text exceeds " + std::to_string(limits_.max_output_bytes) + " bytes");
    out += text;
  }

  Value lookup(const std::string& name) const {
    for (auto it = frames_.rbegin(); it != frames_.rend(); ++it) {
      auto found = it->find(name);
      if (found != it->end()) return found->second;
    }
    return Value();
  }

  void bind(const std::vector<std::string>& targets, const Value& value, int line) {
    if (targets.size() == 1) {
      frames_.back()[targets[0]] = value;
      return;
    }
    if (!value.is_list() || value.as_list().size() != targets.size()) {
      fail(line, "cannot unpack " + std::string(value.type_name()) + " into " +
                     std::to_string(targets.size()) + " names");
    }
    for (size_t i = 0; i < targets.size(); ++i) frames_.back()[targets[i]] = value.as_list()[i];
  }

  Flow exec(const Body& body, std::string& out) {
    for (const auto& stmt : body) {
      const Flow flow = exec(*stmt, out);
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  Flow exec(const Stmt& s, std::string& out) {
    switch (s.kind) {
      case Stmt::Kind::kText:
        emit(out, s.text);
        return Flow::kNormal;
      case Stmt::Kind::kOutput:
        emit(out, eval(*s.expr).str());
        return Flow::kNormal;
      case Stmt::Kind::kIf:
        for (size_t i = 0; i < s.conditions.size(); ++i)
          if (eval(*s.conditions[i]).truthy()) return exec(s.bodies[i], out);
        return exec(s.else_body, out);
      case Stmt::Kind::kFor:
        return exec_for(s, out);
      case Stmt::Kind::kSet:
        assign(s.targets, eval(*s.expr), s.line);
        return Flow::kNormal;
      case Stmt::Kind::kSetBlock: {
        std::string captured;
        exec(s.body, captured);
        assign(s.targets, Value(std::move(captured)), s.line);
        return Flow::kNormal;
      }
      case Stmt::Kind::kMacro:
        frames_.back()[s.text] = macro(s);
        return Flow::kNormal;
      case Stmt::Kind::kBreak:
        return Flow::kBreak;
      case Stmt::Kind::kContinue:
        return Flow::kContinue;
      case Stmt::Kind::kBlock:
        return exec(s.body, out);
    }
    return Flow::kNormal;
  }

  void assign(const std::vector<std::string>& targets, const Value& value, int line) {
    const size_t dot = targets[0].find('.');
    if (dot == std::string::npos) {
      bind(targets, value, line);
      return;
    }
    const Value object = lookup(targets[0].substr(0, dot));
    if (!object.is_namespace())
      fail(line, "only a namespace() takes attributes ('" + targets[0] + "')");
    object.namespace_dict().set(targets[0].substr(dot + 1), value);
  }

  Flow exec_for(const Stmt& s, std::string& out) {
    const Value iterable = eval(*s.expr);
    if (!iterable.is_undefined() && !iterable.is_list() && !iterable.is_dict() &&
        !iterable.is_string())
      fail(s.line, std::string("cannot loop over ") + iterable.type_name());
    List items = iterable.iterate();
    if (s.filter) {
      List kept;
      for (const Value& item : items) {
        count_iteration(s.line);
        frames_.emplace_back();
        bind(s.targets, item, s.line);
        const bool keep = eval(*s.filter).truthy();
        frames_.pop_back();
        if (keep) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) return exec(s.else_body, out);
    const int64_t n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
      count_iteration(s.line);
      frames_.emplace_back();
      bind(s.targets, items[static_cast<size_t>(i)], s.line);
      Dict loop;
      loop.set("index", Value(i + 1));
      loop.set("index0", Value(i));
      loop.set("revindex", Value(n - i));
      loop.set("revindex0", Value(n - i - 1));
      loop.set("first", Value(i == 0));
      loop.set("last", Value(i == n - 1));
      loop.set("length", Value(n));
      loop.set("depth", Value(int64_t{1}));
      loop.set("depth0", Value(int64_t{0}));
      loop.set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : Value());
      loop.set("nextitem", i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value());
      loop.set("cycle", Value::function([i](Arguments& args) -> Value {
                 if (args.positional.empty()) fail(0, "loop.cycle() needs values");
                 return args.positional[static_cast<size_t>(i) % args.positional.size()];
               }));
      frames_.back()["loop"] = Value(std::move(loop));
      const Flow flow = exec(s.body, out);
      frames_.pop_back();
      if (flow == Flow::kBreak) break;
    }
    return Flow::kNormal;
  }

  void count_iteration(int line) {
    if (++iterations_ > limits_.max_loop_iterations) {
      fail(line,
           "loops ran more than " + std::to_string(limits_.max_loop_iterations) + " iterations");
    }
  }

  Value macro(const Stmt& s) {
    return Value::function([this, &s](Arguments& args) -> Value {
      if (++call_depth_ > limits_.max_call_depth) {
        --call_depth_;
        fail(s.line, "macros call each other more than " + std::to_string(limits_.max_call_depth) +
                         " deep");
      }
      if (args.positional.size() > s.params.size())
        fail(s.line,
             "macro '" + s.text + "' takes " + std::to_string(s.params.size()) + " arguments");
      Frame locals;
      for (size_t i = 0; i < s.params.size(); ++i) {
        const auto& [name, default_value] = s.params[i];
        Value v = i < args.positional.size() ? args.positional[i] : Value();
        for (const auto& [key, value] : args.keywords)
          if (key == name) v = value;
        if (v.is_undefined() && default_value) v = eval(*default_value);
        locals[name] = v;
      }
      // The macro sees the template's top level and its own arguments.
      std::vector<Frame> saved;
      saved.swap(frames_);
      frames_.push_back(saved.front());
      frames_.push_back(std::move(locals));
      std::string out;
      try {
        exec(s.body, out);
      } catch (...) {
        frames_.swap(saved);
        --call_depth_;
        throw;
      }
      saved.front() = frames_.front();  // top-level sets the macro made stay
      frames_.swap(saved);
      --call_depth_;
      return Value(std::move(out));
    });
  }

  Arguments arguments(const Expr& e, size_t first) {
    Arguments args;
    for (size_t i = first; i < e.args.size(); ++i) args.positional.push_back(eval(*e.args[i]));
    for (const auto& [key, value] : e.kwargs) args.keywords.emplace_back(key, eval(*value));
    return args;
  }

  Value eval(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        return e.value;
      case Expr::Kind::kName:
        return lookup(e.name);
      case Expr::Kind::kAttribute: {
        const Value object = eval(*e.args[0]);
        if (object.is_undefined()) fail(e.line, "'" + describe(*e.args[0]) + "' is undefined");
        return get_attribute(object, e.name);
      }
      case Expr::Kind::kIndex: {
        const Value object = eval(*e.args[0]);
        if (object.is_undefined()) fail(e.line, "'" + describe(*e.args[0]) + "' is undefined");
        const Value key = eval(*e.args[1]);
        if (object.is_dict() && key.is_string() && !object.as_dict().find(key.as_string()))
          return get_attribute(object, key.as_string());
        return get_item(object, key);
      }
      case Expr::Kind::kSlice: {
        const Value object = eval(*e.args[0]);
        auto part = [&](size_t i) { return e.args[i] ? eval(*e.args[i]) : Value(); };
        return slice(object, part(1), part(2), part(3), e.line);
      }
      case Expr::Kind::kCall: {
        const Value callee = eval(*e.args[0]);
        if (callee.kind() != Value::Kind::kFunction) {
          fail(e.line, "'" + describe(*e.args[0]) + "' is " +
                           (callee.is_undefined() ? "undefined" : "not callable"));
        }
        Arguments args = arguments(e, 1);
        try {
          return callee.as_function()(args);
        } catch (const base::InvalidArgument& error) {
          // Method errors know no line: add it, unless it is the template's own message.
          const std::string what = error.what();
          if (what.rfind("chat template: ", 0) == 0)
            fail(e.line, what.substr(std::string("chat template: ").size()));
          throw;
        }
      }
      case Expr::Kind::kFilter: {
        const Value value = eval(*e.args[0]);
        Arguments args = arguments(e, 1);
        return apply_filter(e.name, value, args, e.line);
      }
      case Expr::Kind::kTest: {
        const Value value = eval(*e.args[0]);
        Arguments args = arguments(e, 1);
        return Value(apply_test(e.name, value, args, e.line) != e.negated);
      }
      case Expr::Kind::kUnary: {
        const Value v = eval(*e.args[0]);
        if (e.name == "not") return Value(!v.truthy());
        if (!v.is_number()) fail(e.line, "unary " + e.name + " needs a number");
        if (e.name == "+") return v;
        if (v.kind() == Value::Kind::kInt) {
          if (v.as_int() == INT64_MIN) fail(e.line, "integer overflow");
          return Value(-v.as_int());
        }
        return Value(-v.as_double());
      }
      case Expr::Kind::kAnd: {
        Value a = eval(*e.args[0]);
        return a.truthy() ? eval(*e.args[1]) : a;
      }
      case Expr::Kind::kOr: {
        Value a = eval(*e.args[0]);
        return a.truthy() ? a : eval(*e.args[1]);
      }
      case Expr::Kind::kConditional:
        if (eval(*e.args[0]).truthy()) return eval(*e.args[1]);
        return e.args[2] ? eval(*e.args[2]) : Value();
      case Expr::Kind::kList:
      case Expr::Kind::kTuple: {
        List items;
        for (const auto& item : e.args) items.push_back(eval(*item));
        return Value(std::move(items));
      }
      case Expr::Kind::kDict: {
        Dict dict;
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
          const Value key = eval(*e.args[i]);
          if (!key.is_string()) fail(e.line, "dict keys must be strings");
          dict.set(key.as_string(), eval(*e.args[i + 1]));
        }
        return Value(std::move(dict));
      }
      case Expr::Kind::kBinary:
        return binary(e);
    }
    return Value();
  }

  Value binary(const Expr& e) {
    const Value a = eval(*e.args[0]);
    const Value b = eval(*e.args[1]);
    const std::string& op = e.name;
    if (op == "==") return Value(a == b);
    if (op == "!=") return Value(a != b);
    if (op == "<") return Value(compare_values(a, b, e.line) < 0);
    if (op == ">") return Value(compare_values(a, b, e.line) > 0);
    if (op == "<=") return Value(compare_values(a, b, e.line) <= 0);
    if (op == ">=") return Value(compare_values(a, b, e.line) >= 0);
    if (op == "in") return Value(contains(b, a, e.line));
    if (op == "not in") return Value(!contains(b, a, e.line));
    if (op == "~") return Value(a.str() + b.str());
    if (a.is_undefined() || b.is_undefined()) {
      fail(e.line, "'" + describe(*e.args[a.is_undefined() ? 0 : 1]) + "' is undefined");
    }
    return arithmetic(op, a, b, e.line, limits_.max_output_bytes);
  }

  const RenderLimits& limits_;
  std::vector<Frame> frames_;
  int64_t iterations_ = 0;
  int call_depth_ = 0;
};

}  // namespace

Template::Template(const std::string& source)
    : body_(std::make_shared<const Body>(parse(lex(source)))) {}
Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

std::string Template::render(const Dict& variables, std::time_t now,
                             const RenderLimits& limits) const {
  Dict base = template_globals(now);
  for (const auto& [k, v] : variables.items) base.set(k, v);
  return Renderer(limits, std::move(base)).run(*body_);
}

}  // namespace infer::generate::jinja

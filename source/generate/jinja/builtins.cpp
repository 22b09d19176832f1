#include "builtins.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "infer/base/error.h"
#include "parser.h"

namespace infer::generate::jinja {

void fail(int line, const std::string& what) {
  throw base::InvalidArgument(line > 0 ? "chat template line " + std::to_string(line) + ": " + what
                                       : "chat template: " + what);
}

namespace {

constexpr const char* kWhitespace = " \t\n\r\v\f";

// Arguments by position or keyword, as a Python signature reads them.
class Signature {
 public:
  Signature(Arguments& args, std::string function, int line)
      : args_(args), function_(std::move(function)), line_(line) {}

  // The argument at `index` or called `name`; undefined when absent.
  Value get(size_t index, const char* name) {
    for (auto& [key, value] : args_.keywords) {
      if (key == name) {
        used_keywords_.push_back(key);
        return value;
      }
    }
    if (index < args_.positional.size()) {
      max_positional_ = std::max(max_positional_, index + 1);
      return args_.positional[index];
    }
    return Value();
  }
  // Refuses arguments the signature does not read.
  void done() const {
    if (args_.positional.size() > max_positional_)
      fail(line_, function_ + "() takes at most " + std::to_string(max_positional_) + " arguments");
    for (const auto& [key, value] : args_.keywords) {
      if (std::find(used_keywords_.begin(), used_keywords_.end(), key) == used_keywords_.end())
        fail(line_, function_ + "() got an unexpected argument '" + key + "'");
    }
  }
  std::string string(size_t index, const char* name, const std::string& otherwise) {
    const Value v = get(index, name);
    if (v.is_undefined() || v.is_none()) return otherwise;
    if (!v.is_string()) fail(line_, function_ + "(): '" + name + "' must be a string");
    return v.as_string();
  }
  int64_t integer(size_t index, const char* name, int64_t otherwise) {
    const Value v = get(index, name);
    if (v.is_undefined() || v.is_none()) return otherwise;
    if (v.kind() != Value::Kind::kInt)
      fail(line_, function_ + "(): '" + name + "' must be an integer");
    return v.as_int();
  }

 private:
  Arguments& args_;
  std::string function_;
  int line_;
  size_t max_positional_ = 0;
  std::vector<std::string> used_keywords_;
};

std::string strip_chars(const std::string& s, const std::string& chars, bool left, bool right) {
  size_t begin = 0, end = s.size();
  if (left) {
    while (begin < end && chars.find(s[begin]) != std::string::npos) ++begin;
  }
  if (right) {
    while (end > begin && chars.find(s[end - 1]) != std::string::npos) --end;
  }
  return s.substr(begin, end - begin);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
// Python's str.title() on ASCII letters: upper after a non-letter, lower after a letter.
std::string title(std::string s) {
  bool after_letter = false;
  for (char& c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isalpha(u)) {
      c = static_cast<char>(after_letter ? std::tolower(u) : std::toupper(u));
      after_letter = true;
    } else {
      after_letter = u >= 0x80;  // a letter of another script continues the word
    }
  }
  return s;
}
std::string capitalize(const std::string& s) {
  if (s.empty()) return s;
  return upper(s.substr(0, 1)) + lower(s.substr(1));
}

std::string replace(const std::string& s, const std::string& old, const std::string& with,
                    int64_t count) {
  if (old.empty()) {
    // Python inserts `with` between every character (and at both ends).
    std::string out = with;
    int64_t done = 1;
    for (const std::string& c : utf8_characters(s)) {
      out += c;
      if (count < 0 || done < count) {
        out += with;
        ++done;
      }
    }
    return out;
  }
  std::string out;
  size_t pos = 0;
  for (int64_t n = 0; count < 0 || n < count; ++n) {
    const size_t at = s.find(old, pos);
    if (at == std::string::npos) break;
    out += s.substr(pos, at - pos) + with;
    pos = at + old.size();
  }
  return out + s.substr(pos);
}

Value split(const std::string& s, const Value& separator, int64_t max_split, int line) {
  List parts;
  if (separator.is_undefined() || separator.is_none()) {
    size_t pos = s.find_first_not_of(kWhitespace);
    while (pos != std::string::npos) {
      if (max_split >= 0 && static_cast<int64_t>(parts.size()) == max_split) {
        parts.emplace_back(strip_chars(s.substr(pos), kWhitespace, false, true));
        break;
      }
      const size_t end = s.find_first_of(kWhitespace, pos);
      parts.emplace_back(s.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
      pos = end == std::string::npos ? end : s.find_first_not_of(kWhitespace, end);
    }
    return Value(std::move(parts));
  }
  if (!separator.is_string()) fail(line, "split(): the separator must be a string");
  const std::string& sep = separator.as_string();
  if (sep.empty()) fail(line, "split(): empty separator");
  size_t pos = 0;
  for (;;) {
    const size_t at = s.find(sep, pos);
    if (at == std::string::npos ||
        (max_split >= 0 && static_cast<int64_t>(parts.size()) == max_split)) {
      parts.emplace_back(s.substr(pos));
      break;
    }
    parts.emplace_back(s.substr(pos, at - pos));
    pos = at + sep.size();
  }
  return Value(std::move(parts));
}

bool affix_matches(const std::string& s, const Value& affix, bool prefix, int line) {
  auto one = [&](const Value& v) {
    if (!v.is_string()) fail(line, "startswith()/endswith() take strings");
    const std::string& a = v.as_string();
    if (a.size() > s.size()) return false;
    return prefix ? s.compare(0, a.size(), a) == 0
                  : s.compare(s.size() - a.size(), a.size(), a) == 0;
  };
  if (affix.is_list()) {
    for (const Value& v : affix.as_list())
      if (one(v)) return true;
    return false;
  }
  return one(affix);
}

Value string_method(const std::string& s, const std::string& name, Arguments& args, int line) {
  Signature sig(args, name, line);
  Value out;
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const std::string chars = sig.string(0, "chars", kWhitespace);
    out = Value(strip_chars(s, chars, name != "rstrip", name != "lstrip"));
  } else if (name == "split") {
    const Value sep = sig.get(0, "sep");
    out = split(s, sep, sig.integer(1, "maxsplit", -1), line);
  } else if (name == "startswith" || name == "endswith") {
    out = Value(affix_matches(s, sig.get(0, "prefix"), name == "startswith", line));
  } else if (name == "upper") {
    out = Value(upper(s));
  } else if (name == "lower") {
    out = Value(lower(s));
  } else if (name == "title") {
    out = Value(title(s));
  } else if (name == "capitalize") {
    out = Value(capitalize(s));
  } else if (name == "replace") {
    const std::string old = sig.string(0, "old", "");
    const std::string with = sig.string(1, "new", "");
    out = Value(replace(s, old, with, sig.integer(2, "count", -1)));
  } else if (name == "find") {
    const size_t at = s.find(sig.string(0, "sub", ""));
    out = Value(at == std::string::npos ? int64_t{-1} : static_cast<int64_t>(at));
  } else if (name == "count") {
    const std::string sub = sig.string(0, "sub", "");
    int64_t n = 0;
    for (size_t at = s.find(sub); !sub.empty() && at != std::string::npos;
         at = s.find(sub, at + sub.size()))
      ++n;
    out = Value(n);
  } else if (name == "join") {
    const Value items = sig.get(0, "iterable");
    std::string joined;
    const List list = items.iterate();
    for (size_t i = 0; i < list.size(); ++i) joined += (i ? s : "") + list[i].str();
    out = Value(std::move(joined));
  } else {
    fail(line, "strings have no method '" + name + "'");
  }
  sig.done();
  return out;
}

Value dict_method(const Value& dict, const std::string& name, Arguments& args, int line) {
  Signature sig(args, name, line);
  Value out;
  if (name == "items") {
    List items;
    for (const auto& [k, v] : dict.as_dict().items) items.emplace_back(List{Value(k), v});
    out = Value(std::move(items));
  } else if (name == "keys") {
    out = Value(dict.iterate());
  } else if (name == "values") {
    List values;
    for (const auto& item : dict.as_dict().items) values.push_back(item.second);
    out = Value(std::move(values));
  } else if (name == "get") {
    const Value key = sig.get(0, "key");
    const Value otherwise = sig.get(1, "default");
    const Value* found = key.is_string() ? dict.as_dict().find(key.as_string()) : nullptr;
    out = found ? *found : (otherwise.is_undefined() ? Value::none() : otherwise);
  } else {
    fail(line, "dicts have no method '" + name + "'");
  }
  sig.done();
  return out;
}

bool is_string_method(const std::string& name) {
  static const char* const kNames[] = {"strip",    "lstrip", "rstrip", "split", "startswith",
                                       "endswith", "upper",  "lower",  "title", "capitalize",
                                       "replace",  "find",   "count",  "join"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}
bool is_dict_method(const std::string& name) {
  return name == "items" || name == "keys" || name == "values" || name == "get";
}

// The item's attribute for selectattr/map(attribute=...): "a.b" walks nested dicts.
Value attribute_path(const Value& item, const std::string& path) {
  Value v = item;
  size_t pos = 0;
  for (;;) {
    const size_t dot = path.find('.', pos);
    v = get_item(v,
                 Value(path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos)));
    if (dot == std::string::npos) return v;
    pos = dot + 1;
  }
}

// select/reject and selectattr/rejectattr: the items for which the test (or truthiness) holds.
Value select_items(const Value& value, Arguments& args, bool by_attribute, bool keep, int line) {
  std::string attribute;
  size_t next = 0;
  if (by_attribute) {
    if (args.positional.empty() || !args.positional[0].is_string())
      fail(line, "selectattr()/rejectattr() need the attribute's name");
    attribute = args.positional[0].as_string();
    next = 1;
  }
  std::string test;
  if (args.positional.size() > next) {
    if (!args.positional[next].is_string()) fail(line, "the test's name must be a string");
    test = args.positional[next].as_string();
  }
  Arguments test_args;
  test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                            args.positional.size(), next + 1)),
                              args.positional.end());
  List out;
  for (const Value& item : value.iterate()) {
    const Value subject = by_attribute ? attribute_path(item, attribute) : item;
    Arguments copy = test_args;
    const bool holds = test.empty() ? subject.truthy() : apply_test(test, subject, copy, line);
    if (holds == keep) out.push_back(item);
  }
  return Value(std::move(out));
}

}  // namespace

int compare_values(const Value& a, const Value& b, int line) {
  if (a.is_number() && b.is_number()) {
    const double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_list() && b.is_list()) {
    const List& x = a.as_list();
    const List& y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i)
      if (x[i] != y[i]) return compare_values(x[i], y[i], line);
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  fail(line, std::string("cannot order ") + a.type_name() + " and " + b.type_name());
}

Value get_item(const Value& object, const Value& key) {
  if (object.is_dict() && key.is_string()) {
    const Value* found = object.as_dict().find(key.as_string());
    return found ? *found : Value();
  }
  if ((object.is_list() || object.is_string()) && key.kind() == Value::Kind::kInt) {
    const List items = object.is_list() ? object.as_list() : object.iterate();
    int64_t i = key.as_int();
    const int64_t n = static_cast<int64_t>(items.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) return Value();
    return items[static_cast<size_t>(i)];
  }
  return Value();
}

Value get_attribute(const Value& object, const std::string& name) {
  if (object.is_string() && is_string_method(name)) {
    const std::string s = object.as_string();
    return Value::function([s, name](Arguments& args) { return string_method(s, name, args, 0); });
  }
  if (object.is_dict() && !object.is_namespace() && is_dict_method(name)) {
    const Value dict = object;
    return Value::function(
        [dict, name](Arguments& args) { return dict_method(dict, name, args, 0); });
  }
  return get_item(object, Value(name));
}

bool apply_test(const std::string& name, const Value& v, Arguments& args, int line) {
  Signature sig(args, name, line);
  bool out = false;
  auto other = [&] { return sig.get(0, "other"); };
  if (name == "defined") {
    out = !v.is_undefined();
  } else if (name == "undefined") {
    out = v.is_undefined();
  } else if (name == "none") {
    out = v.is_none();
  } else if (name == "string") {
    out = v.is_string();
  } else if (name == "mapping") {
    out = v.is_dict();
  } else if (name == "iterable") {
    out = v.is_list() || v.is_dict() || v.is_string();
  } else if (name == "sequence") {
    out = v.is_list() || v.is_dict() || v.is_string();
  } else if (name == "number") {
    out = v.is_number();
  } else if (name == "integer") {
    out = v.kind() == Value::Kind::kInt;
  } else if (name == "float") {
    out = v.kind() == Value::Kind::kFloat;
  } else if (name == "boolean") {
    out = v.kind() == Value::Kind::kBool;
  } else if (name == "true") {
    out = v.kind() == Value::Kind::kBool && v.as_bool();
  } else if (name == "false") {
    out = v.kind() == Value::Kind::kBool && !v.as_bool();
  } else if (name == "callable") {
    out = v.kind() == Value::Kind::kFunction;
  } else if (name == "lower" || name == "upper") {
    out = v.is_string() &&
          v.as_string() == (name == "lower" ? lower(v.as_string()) : upper(v.as_string()));
  } else if (name == "odd" || name == "even" || name == "divisibleby") {
    if (v.kind() != Value::Kind::kInt) fail(line, "'" + name + "' tests integers");
    if (name == "divisibleby") {
      const int64_t d = sig.integer(0, "num", 1);
      if (d == 0) fail(line, "divisibleby 0");
      out = v.as_int() % d == 0;
    } else {
      out = (v.as_int() % 2 != 0) == (name == "odd");
    }
  } else if (name == "in") {
    const Value container = sig.get(0, "seq");
    if (container.is_string() && v.is_string()) {
      out = container.as_string().find(v.as_string()) != std::string::npos;
    } else {
      const List items = container.iterate();
      out = std::find(items.begin(), items.end(), v) != items.end();
    }
  } else if (name == "equalto" || name == "eq" || name == "sameas") {
    out = v == other();
  } else if (name == "ne") {
    out = v != other();
  } else if (name == "lt" || name == "le" || name == "gt" || name == "ge") {
    const int c = compare_values(v, other(), line);
    out = name == "lt" ? c < 0 : name == "le" ? c <= 0 : name == "gt" ? c > 0 : c >= 0;
  } else {
    fail(line, "unknown test '" + name + "'");
  }
  sig.done();
  return out;
}

Value apply_filter(const std::string& name, const Value& v, Arguments& args, int line) {
  if (name == "select" || name == "reject")
    return select_items(v, args, false, name == "select", line);
  if (name == "selectattr" || name == "rejectattr")
    return select_items(v, args, true, name == "selectattr", line);
  Signature sig(args, name, line);
  Value out;
  if (name == "trim") {
    out = Value(strip_chars(v.str(), sig.string(0, "chars", kWhitespace), true, true));
  } else if (name == "tojson") {
    const Value indent = sig.get(0, "indent");
    const Value ensure_ascii = sig.get(1, "ensure_ascii");
    if (ensure_ascii.truthy()) fail(line, "tojson(ensure_ascii=True) is not supported");
    sig.get(2, "separators");  // HF's signature; only the default layout is supported
    const Value sort_keys = sig.get(3, "sort_keys");
    if (sort_keys.truthy()) fail(line, "tojson(sort_keys=True) is not supported");
    if (!indent.is_undefined() && !indent.is_none() && indent.kind() != Value::Kind::kInt)
      fail(line, "tojson(indent=...) takes an integer");
    out = Value(
        v.to_json(indent.kind() == Value::Kind::kInt ? static_cast<int>(indent.as_int()) : -1));
  } else if (name == "length" || name == "count") {
    out = Value(v.length());
  } else if (name == "join") {
    const std::string sep = sig.string(0, "d", "");
    const Value attribute = sig.get(1, "attribute");
    std::string joined;
    const List items = v.iterate();
    for (size_t i = 0; i < items.size(); ++i) {
      const Value item =
          attribute.is_string() ? attribute_path(items[i], attribute.as_string()) : items[i];
      joined += (i ? sep : "") + item.str();
    }
    out = Value(std::move(joined));
  } else if (name == "items") {
    if (v.is_undefined()) {
      out = Value(List{});
    } else if (!v.is_dict()) {
      fail(line, std::string("items() needs a mapping, got ") + v.type_name());
    } else {
      List items;
      for (const auto& [k, value] : v.as_dict().items) items.emplace_back(List{Value(k), value});
      out = Value(std::move(items));
    }
  } else if (name == "list") {
    out = Value(v.iterate());
  } else if (name == "string") {
    out = Value(v.str());
  } else if (name == "default" || name == "d") {
    const Value otherwise = sig.get(0, "default_value");
    const bool boolean = sig.get(1, "boolean").truthy();
    const bool use_default = v.is_undefined() || (boolean && !v.truthy());
    out = use_default ? (otherwise.is_undefined() ? Value("") : otherwise) : v;
  } else if (name == "upper") {
    out = Value(upper(v.str()));
  } else if (name == "lower") {
    out = Value(lower(v.str()));
  } else if (name == "title") {
    out = Value(title(v.str()));
  } else if (name == "capitalize") {
    out = Value(capitalize(v.str()));
  } else if (name == "replace") {
    const std::string old = sig.string(0, "old", "");
    const std::string with = sig.string(1, "new", "");
    out = Value(replace(v.str(), old, with, sig.integer(2, "count", -1)));
  } else if (name == "map") {
    const Value attribute = sig.get(100, "attribute");
    const Value otherwise = sig.get(101, "default");
    List mapped;
    if (attribute.is_string()) {
      for (const Value& item : v.iterate()) {
        Value a = attribute_path(item, attribute.as_string());
        mapped.push_back(a.is_undefined() && !otherwise.is_undefined() ? otherwise : a);
      }
    } else {
      if (args.positional.empty() || !args.positional[0].is_string())
        fail(line, "map() needs attribute= or a filter's name");
      const std::string filter = args.positional[0].as_string();
      if (filter == "map") fail(line, "map('map') is not supported");
      for (const Value& item : v.iterate()) {
        Arguments rest;
        rest.positional.assign(args.positional.begin() + 1, args.positional.end());
        mapped.push_back(apply_filter(filter, item, rest, line));
      }
      return Value(std::move(mapped));
    }
    out = Value(std::move(mapped));
  } else if (name == "first" || name == "last") {
    const List items = v.iterate();
    out = items.empty() ? Value() : (name == "first" ? items.front() : items.back());
  } else if (name == "int") {
    const int64_t otherwise = sig.integer(0, "default", 0);
    if (v.kind() == Value::Kind::kInt) {
      out = v;
    } else if (v.kind() == Value::Kind::kFloat && std::isfinite(v.as_double()) &&
               std::fabs(v.as_double()) < 9.2e18) {
      out = Value(static_cast<int64_t>(v.as_double()));
    } else if (v.kind() == Value::Kind::kBool) {
      out = Value(int64_t{v.as_bool()});
    } else if (v.is_string()) {
      const std::string s = strip_chars(v.as_string(), kWhitespace, true, true);
      char* end = nullptr;
      errno = 0;
      const long long parsed = std::strtoll(s.c_str(), &end, 10);
      out = Value(!s.empty() && *end == '\0' && errno == 0 ? static_cast<int64_t>(parsed)
                                                           : otherwise);
    } else {
      out = Value(otherwise);
    }
  } else if (name == "float") {
    if (v.is_number()) {
      out = Value(v.as_double());
    } else if (v.is_string()) {
      char* end = nullptr;
      const double parsed = std::strtod(v.as_string().c_str(), &end);
      out = Value(!v.as_string().empty() && *end == '\0' ? parsed : 0.0);
    } else {
      out = Value(0.0);
    }
  } else if (name == "abs") {
    if (v.kind() == Value::Kind::kInt) {
      if (v.as_int() == INT64_MIN) fail(line, "abs() overflows");
      out = Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
    } else if (v.is_number()) {
      out = Value(std::fabs(v.as_double()));
    } else {
      fail(line, std::string("abs() of ") + v.type_name());
    }
  } else if (name == "safe") {
    out = v;
  } else {
    fail(line, "unknown filter '" + name + "'");
  }
  sig.done();
  return out;
}

Dict template_globals(std::time_t now) {
  Dict globals;
  globals.set("raise_exception", Value::function([](Arguments& args) -> Value {
                const std::string message =
                    args.positional.empty() ? std::string() : args.positional[0].str();
                throw base::InvalidArgument(message);
              }));
  globals.set("strftime_now", Value::function([now](Arguments& args) -> Value {
                if (args.positional.size() != 1 || !args.positional[0].is_string())
                  fail(0, "strftime_now() takes one format string");
                std::tm local{};
                localtime_r(&now, &local);
                char buf[256];
                const size_t n =
                    std::strftime(buf, sizeof(buf), args.positional[0].as_string().c_str(), &local);
                return Value(std::string(buf, n));
              }));
  globals.set("namespace", Value::function([](Arguments& args) -> Value {
                Dict attributes;
                for (const Value& v : args.positional) {
                  if (!v.is_dict()) fail(0, "namespace() takes a dict or keyword arguments");
                  for (const auto& [k, value] : v.as_dict().items) attributes.set(k, value);
                }
                for (const auto& [k, value] : args.keywords) attributes.set(k, value);
                return Value::namespace_object(std::move(attributes));
              }));
  globals.set("range", Value::function([](Arguments& args) -> Value {
                int64_t start = 0, stop = 0, step = 1;
                const auto& p = args.positional;
                for (const Value& v : p)
                  if (v.kind() != Value::Kind::kInt) fail(0, "range() takes integers");
                if (p.size() == 1) {
                  stop = p[0].as_int();
                } else if (p.size() == 2 || p.size() == 3) {
                  start = p[0].as_int();
                  stop = p[1].as_int();
                  if (p.size() == 3) step = p[2].as_int();
                } else {
                  fail(0, "range() takes 1 to 3 integers");
                }
                if (step == 0) fail(0, "range() step must not be zero");
                List out;
                for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
                  if (out.size() >= 100000) fail(0, "range() longer than 100000");
                  out.emplace_back(i);
                }
                return Value(std::move(out));
              }));
  globals.set("dict", Value::function([](Arguments& args) -> Value {
                Dict d;
                for (const auto& [k, value] : args.keywords) d.set(k, value);
                return Value(std::move(d));
              }));
  return globals;
}

bool is_known_filter(const std::string& name) {
  static const char* const kNames[] = {
      "trim",    "tojson",  "length", "count",      "join",      "items", "list",
      "string",  "default", "d",      "upper",      "lower",     "title", "capitalize",
      "replace", "map",     "first",  "last",       "int",       "float", "abs",
      "safe",    "select",  "reject", "selectattr", "rejectattr"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

bool is_known_test(const std::string& name) {
  static const char* const kNames[] = {
      "defined", "undefined", "none",  "string",  "mapping",     "iterable", "sequence",
      "number",  "integer",   "float", "boolean", "true",        "false",    "callable",
      "lower",   "upper",     "odd",   "even",    "divisibleby", "in",       "equalto",
      "eq",      "sameas",    "ne",    "lt",      "le",          "gt",       "ge"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

}  // namespace infer::generate::jinja

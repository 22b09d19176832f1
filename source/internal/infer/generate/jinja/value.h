#pragma once
// The values a chat template computes with, with Python's semantics where Jinja borrows them:
// truthiness, equality across int and float, str() and repr() of lists and dicts, and
// json.dumps for tojson. Dicts keep insertion order (as Python's and HF's tojson do) and have
// string keys; lists and dicts are shared, immutable once built, except a namespace's dict.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace infer::generate::jinja {

class Value;
using List = std::vector<Value>;

struct Dict {
  std::vector<std::pair<std::string, Value>> items;

  const Value* find(const std::string& key) const;
  void set(const std::string& key, Value value);
};

// Positional and keyword arguments of a call.
struct Arguments {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keywords;
};
using Function = std::function<Value(Arguments& args)>;

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kFunction };

  Value() = default;  // undefined
  static Value none();
  Value(bool b);
  Value(int64_t i);
  Value(int i) : Value(static_cast<int64_t>(i)) {}
  Value(double d);
  Value(std::string s);
  Value(const char* s) : Value(std::string(s)) {}
  Value(List list);
  Value(Dict dict);
  // A dict whose attributes `set ns.x = ...` may change: Jinja's namespace().
  static Value namespace_object(Dict dict);
  static Value function(Function f);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_namespace() const { return kind_ == Kind::kDict && mutable_dict_; }

  bool as_bool() const { return bool_; }
  int64_t as_int() const { return int_; }
  double as_double() const { return kind_ == Kind::kInt ? static_cast<double>(int_) : float_; }
  const std::string& as_string() const { return *string_; }
  const List& as_list() const { return *list_; }
  const Dict& as_dict() const { return *dict_; }
  Dict& namespace_dict() const { return *dict_; }  // only for is_namespace()
  const Function& as_function() const { return *function_; }

  // Python's bool(x); undefined is false.
  bool truthy() const;
  // Python's ==, with 1 == 1.0 and lists and dicts compared element by element.
  bool operator==(const Value& other) const;
  bool operator!=(const Value& other) const { return !(*this == other); }
  // What {{ x }} writes: Python's str(x) (None, True, 1.0, ['a'], {'k': 'v'}); undefined is "".
  std::string str() const;
  // Python's repr(x): strings quoted as Python quotes them.
  std::string repr() const;
  // json.dumps(x, ensure_ascii=False, indent=indent) as HF's tojson calls it; indent < 0: none.
  std::string to_json(int indent = -1) const;
  // Elements to iterate: a list's items, a dict's keys, a string's characters (UTF-8).
  List iterate() const;
  // What Python's len() gives (characters of a string); 0 for undefined.
  int64_t length() const;
  const char* type_name() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool bool_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::shared_ptr<const std::string> string_;
  std::shared_ptr<const List> list_;
  std::shared_ptr<Dict> dict_;
  bool mutable_dict_ = false;
  std::shared_ptr<const Function> function_;
};

// JSON as template data: objects keep their order when given as ordered_json.
Value from_json(const nlohmann::ordered_json& json);
Value from_json(const nlohmann::json& json);

// Python's repr of a float: the shortest text that reads back as the same double, "1.0" style.
std::string python_float(double d);
// The UTF-8 characters of `text` (an invalid byte counts as one).
std::vector<std::string> utf8_characters(const std::string& text);

}  // namespace infer::generate::jinja

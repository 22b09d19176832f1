#pragma once
// The parsed template: expressions and statements as the parser builds them and the evaluator
// walks them.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "infer/generate/jinja/value.h"

namespace infer::generate::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,      // value
    kName,         // name
    kAttribute,    // args[0].name
    kIndex,        // args[0][args[1]]
    kSlice,        // args[0][args[1]:args[2]:args[3]] (null children: omitted)
    kCall,         // args[0](args[1:], kwargs)
    kFilter,       // args[0] | name(args[1:], kwargs); filters are resolved when parsed
    kTest,         // args[0] is [not] name(args[1:])
    kUnary,        // name ("-", "+", "not") args[0]
    kBinary,       // args[0] name args[1]: + - * / // % ** ~ == != < > <= >= in "not in"
    kAnd,          // args[0] and args[1]
    kOr,           // args[0] or args[1]
    kConditional,  // args[1] if args[0] else args[2] (args[2] may be null)
    kList,         // [args...]
    kTuple,        // (args...)
    kDict,         // {kwargs...} with keys as expressions in args (key, value pairs)
  };
  Kind kind = Kind::kLiteral;
  int line = 0;
  Value value;
  std::string name;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  bool negated = false;
};

struct Stmt;
using Body = std::vector<std::unique_ptr<Stmt>>;

struct Stmt {
  enum class Kind {
    kText,      // text
    kOutput,    // {{ expr }}
    kIf,        // conditions[i] -> bodies[i]; else_body
    kFor,       // for targets in expr [if filter]: body; else_body
    kSet,       // set targets (names, or one "ns.attr") = expr
    kSetBlock,  // set targets[0]: body rendered to text
    kMacro,     // macro name(params with defaults): body
    kBreak,
    kContinue,
    kBlock,  // a body rendered in place ({% generation %}, HF's assistant-mask extension)
  };
  Kind kind = Kind::kText;
  int line = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr filter;
  std::vector<std::string> targets;
  std::vector<ExprPtr> conditions;
  std::vector<Body> bodies;
  Body body;
  Body else_body;
  std::vector<std::pair<std::string, ExprPtr>> params;
};

}  // namespace infer::generate::jinja

#pragma once
// Jinja's filters and tests, the methods of strings and dicts, and the globals HF gives chat
// templates (raise_exception, strftime_now, namespace, range), all with the semantics of the
// Python objects they stand for.
#include <ctime>
#include <string>

#include "infer/generate/jinja/value.h"

namespace infer::generate::jinja {

// Throws base::InvalidArgument("chat template line L: ...") for arguments a filter cannot take.
Value apply_filter(const std::string& name, const Value& value, Arguments& args, int line);
bool apply_test(const std::string& name, const Value& value, Arguments& args, int line);
// obj.name: a dict's item, or a bound method of a string or dict; undefined when neither.
Value get_attribute(const Value& object, const std::string& name);
// obj[key]: list and string positions (negative from the end), dict items; undefined otherwise.
Value get_item(const Value& object, const Value& key);
// Python's ordering of numbers, strings and lists (-1, 0, 1); other types cannot be ordered.
int compare_values(const Value& a, const Value& b, int line);
// What every template sees besides its data. raise_exception throws base::InvalidArgument with
// exactly the template's message.
Dict template_globals(std::time_t now);

[[noreturn]] void fail(int line, const std::string& what);

}  // namespace infer::generate::jinja

#include "request_fields.h"

#include <string>

#include "api_error.h"
#include "infer/base/json_input.h"

namespace infer::server {

using json = nlohmann::ordered_json;

const json* field(const json& body, const char* name, bool (json::*is_type)() const,
                  const char* type_name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  if (!((*it).*is_type)()) {
    throw invalid_request(name, std::string("'") + name + "' must be " + type_name + ", got " +
                                    base::json_brief(*it));
  }
  return &*it;
}

void read_float(const json& body, const char* name, float& out) {
  if (const json* v = field(body, name, &json::is_number, "a number")) out = v->get<float>();
}

void read_int(const json& body, const char* name, int64_t& out) {
  if (const json* v = field(body, name, &json::is_number_integer, "an integer")) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t{INT64_MAX}) {
      throw invalid_request(name,
                            std::string("'") + name + "' is out of range: " + base::json_brief(*v));
    }
    out = v->get<int64_t>();
  }
}

void read_bool(const json& body, const char* name, bool& out) {
  if (const json* v = field(body, name, &json::is_boolean, "true or false")) out = v->get<bool>();
}

}  // namespace infer::server

#pragma once
// Typed optional fields of a JSON request body: absent or null leaves `out` as it is; any other
// type is a 400 invalid_request_error naming the field, what it must be and what it was (never
// a JSON library exception escaping as a 500).
#include <cstdint>
#include <nlohmann/json.hpp>

namespace infer::server {

// The field `name` of `body` when present and not null (else null), checked against `is_type`
// (type_name says what it must be: "a number").
const nlohmann::ordered_json* field(const nlohmann::ordered_json& body, const char* name,
                                    bool (nlohmann::ordered_json::*is_type)() const,
                                    const char* type_name);
void read_float(const nlohmann::ordered_json& body, const char* name, float& out);
void read_int(const nlohmann::ordered_json& body, const char* name, int64_t& out);
void read_bool(const nlohmann::ordered_json& body, const char* name, bool& out);

}  // namespace infer::server

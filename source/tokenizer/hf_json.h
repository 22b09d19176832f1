#pragma once
// Field access for tokenizer.json parsing that reports the file and the JSON path (internal).
#include <nlohmann/json.hpp>
#include <string>

#include "infer/base/error.h"

namespace infer::tokenizer {

class FieldError : public base::FormatError {
 public:
  FieldError(const std::string& source, const std::string& field, const std::string& what)
      : base::FormatError(source + ": " + field + ": " + what) {}
};

// j[key], or FieldError "source: path+key: missing".
inline const nlohmann::json& field(const nlohmann::json& j, const char* key,
                                   const std::string& source, const std::string& path) {
  if (!j.is_object() || !j.contains(key)) throw FieldError(source, path + key, "missing");
  return j.at(key);
}

inline std::string type_of(const nlohmann::json& j, const std::string& source,
                           const std::string& path) {
  return field(j, "type", source, path).get<std::string>();
}

}  // namespace infer::tokenizer

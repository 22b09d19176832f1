#include "api_error.h"

namespace infer::server {

nlohmann::ordered_json ApiError::body() const {
  nlohmann::ordered_json error = extra;
  error["message"] = what();
  error["type"] = type;
  error["param"] = param.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(param);
  error["code"] = code.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(code);
  return {{"error", error}};
}

ApiError invalid_request(const std::string& param, const std::string& message) {
  return ApiError(400, "invalid_request_error", message, param);
}

}  // namespace infer::server

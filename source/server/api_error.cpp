#include "api_error.h"

namespace infer::server {

nlohmann::json ApiError::body() const {
  nlohmann::json error = extra;
  error["message"] = what();
  error["type"] = type;
  error["param"] = param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param);
  error["code"] = code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code);
  return {{"error", error}};
}

ApiError invalid_request(const std::string& param, const std::string& message) {
  return ApiError(400, "invalid_request_error", message, param);
}

}  // namespace infer::server

#pragma once
// An error as OpenAI-style clients expect it: an HTTP status and a body
// {"error": {"message", "type", "code", "param"}}.
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace infer::server {

struct ApiError : std::runtime_error {
  ApiError(int status, std::string type, std::string message, std::string param = "",
           std::string code = "")
      : std::runtime_error(message),
        status(status),
        type(std::move(type)),
        param(std::move(param)),
        code(std::move(code)) {}

  int status;
  std::string type;   // invalid_request_error, authentication_error, not_found_error, ...
  std::string param;  // the request field at fault, if one is
  std::string code;   // a finer reason, e.g. exceed_context_size_error
  nlohmann::ordered_json extra =
      nlohmann::ordered_json::object();  // more fields of the error object

  nlohmann::ordered_json body() const;
};

// 400 invalid_request_error naming `param`.
ApiError invalid_request(const std::string& param, const std::string& message);

}  // namespace infer::server

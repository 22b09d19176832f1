#pragma once
// The bodies of POST /v1/chat/completions and /v1/completions, checked field by field and turned
// into an Engine request. Unknown fields are ignored, as OpenAI does; a field of the wrong type
// or out of range is an ApiError naming it.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "infer/engine/engine.h"
#include "infer/generate/chat_template.h"
#include "infer/tokenizer/tokenizer.h"

namespace infer::server {

struct ParsedRequest {
  engine::Request request;
  bool chat = true;  // /v1/chat/completions (else /v1/completions)
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  std::string model;           // echoed back as sent; the server serves one model
};

struct RequestLimits {
  int64_t context = 0;                // the most positions a request may reach
  int64_t default_max_tokens = 1024;  // when the request gives none (capped by the context)
};

// A request body as JSON: ApiError 400 for text that is not JSON (quoting the byte offset, not
// the bytes) or nests deeper than base::kMaxJsonDepth.
nlohmann::ordered_json parse_request_body(const std::string& text);

// `value` as ids of `tokenizer`'s vocabulary (an array of integers, each in [0, vocab_size));
// an ApiError naming `param` otherwise.
std::vector<int32_t> read_token_ids(const nlohmann::ordered_json& value, const std::string& param,
                                    const tokenizer::Tokenizer& tokenizer);

// Parses a chat request: `messages` rendered with `chat` and tokenised.
ParsedRequest parse_chat_request(const nlohmann::ordered_json& body,
                                 const tokenizer::Tokenizer& tokenizer,
                                 const generate::ChatTemplate& chat, const RequestLimits& limits);
// Parses a completion request: `prompt` (a string, or an array of token ids) continued as text.
ParsedRequest parse_completion_request(const nlohmann::ordered_json& body,
                                       const tokenizer::Tokenizer& tokenizer,
                                       const RequestLimits& limits);

}  // namespace infer::server

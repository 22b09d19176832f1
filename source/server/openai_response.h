#pragma once
// The JSON objects of OpenAI's chat and text completion APIs, whole and as stream chunks, and
// the server-sent-events framing of a stream.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "infer/generate/generate.h"

namespace infer::server {

// What a response object says about the request it answers.
struct ResponseHead {
  std::string id;       // chatcmpl-... or cmpl-...
  int64_t created = 0;  // Unix seconds
  std::string model;
  bool chat = true;
};

// "stop" for EOS and stop strings, "length" for the token budget and a full context, "cancelled"
// only where a client went away (it never reads it).
const char* finish_reason(generate::StopReason reason);
nlohmann::json usage(int64_t prompt_tokens, int64_t completion_tokens);

// The whole reply (stream: false).
nlohmann::json completion_object(const ResponseHead& head, const generate::GenerateResult& result);
// One chunk of a stream: `text` as the delta (the first chat chunk also carries the role), and
// finish_reason once the reply has ended (then text is empty).
nlohmann::json completion_chunk(const ResponseHead& head, const std::string& text, bool first,
                                const char* finish = nullptr);
// The last chunk when the client asked for usage: no choices, the usage.
nlohmann::json usage_chunk(const ResponseHead& head, int64_t prompt_tokens,
                           int64_t completion_tokens);

// "data: {json}\n\n", and the stream's end marker.
std::string sse_event(const nlohmann::json& data);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";

}  // namespace infer::server

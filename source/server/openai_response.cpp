#include "openai_response.h"

namespace infer::server {

using nlohmann::json;

const char* finish_reason(generate::StopReason reason) {
  switch (reason) {
    case generate::StopReason::kEos:
    case generate::StopReason::kStopString:
      return "stop";
    case generate::StopReason::kLength:
    case generate::StopReason::kContext:
      return "length";
    case generate::StopReason::kCancelled:
      return "cancelled";
  }
  return "stop";
}

json usage(int64_t prompt_tokens, int64_t completion_tokens) {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens}};
}

namespace {

json object_head(const ResponseHead& head, bool chunk) {
  const char* object =
      head.chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion";
  return {{"id", head.id}, {"object", object}, {"created", head.created}, {"model", head.model}};
}

}  // namespace

json completion_object(const ResponseHead& head, const generate::GenerateResult& result) {
  json out = object_head(head, false);
  json choice = {
      {"index", 0}, {"finish_reason", finish_reason(result.stop_reason)}, {"logprobs", nullptr}};
  if (head.chat) {
    choice["message"] = {{"role", "assistant"}, {"content", result.text}};
  } else {
    choice["text"] = result.text;
  }
  out["choices"] = json::array({choice});
  out["usage"] = usage(result.stats.prompt_tokens, result.stats.generated_tokens);
  return out;
}

json completion_chunk(const ResponseHead& head, const std::string& text, bool first,
                      const char* finish) {
  json out = object_head(head, true);
  json choice = {{"index", 0},
                 {"finish_reason", finish ? json(finish) : json(nullptr)},
                 {"logprobs", nullptr}};
  if (head.chat) {
    json delta = json::object();
    if (first) delta["role"] = "assistant";
    if (!finish) delta["content"] = text;
    choice["delta"] = delta;
  } else {
    choice["text"] = text;
  }
  out["choices"] = json::array({choice});
  return out;
}

json usage_chunk(const ResponseHead& head, int64_t prompt_tokens, int64_t completion_tokens) {
  json out = object_head(head, true);
  out["choices"] = json::array();
  out["usage"] = usage(prompt_tokens, completion_tokens);
  return out;
}

std::string sse_event(const json& data) { return "data: " + data.dump() + "\n\n"; }

}  // namespace infer::server

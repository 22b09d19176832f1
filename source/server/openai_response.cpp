#include "openai_response.h"

namespace infer::server {

using json = nlohmann::ordered_json;

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

json usage(const generate::GenerateStats& stats) {
  return {{"prompt_tokens", stats.prompt_tokens},
          {"completion_tokens", stats.generated_tokens},
          {"total_tokens", stats.prompt_tokens + stats.generated_tokens},
          {"prompt_tokens_details", {{"cached_tokens", stats.reused_tokens}}}};
}

namespace {

json object_head(const ResponseHead& head, bool chunk) {
  const char* object =
      head.chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion";
  return {{"id", head.id}, {"object", object}, {"created", head.created}, {"model", head.model}};
}

}  // namespace

json logprobs_json(bool chat, const std::vector<generate::PieceLogprobs>& entries,
                   const tokenizer::Tokenizer& tokenizer, int64_t& text_offset) {
  auto text_of = [&](int32_t token) { return tokenizer.decode({token}, false); };
  if (chat) {
    auto entry = [&](const generate::TokenLogprob& t) {
      const std::string text = text_of(t.token);
      return json{{"token", text},
                  {"logprob", t.logprob},
                  {"bytes", std::vector<uint8_t>(text.begin(), text.end())}};
    };
    json content = json::array();
    for (const generate::PieceLogprobs& e : entries) {
      json item = entry(e.chosen);
      item["top_logprobs"] = json::array();
      for (const generate::TokenLogprob& t : e.top) item["top_logprobs"].push_back(entry(t));
      content.push_back(std::move(item));
    }
    return {{"content", std::move(content)}};
  }
  json tokens = json::array(), token_logprobs = json::array(), top = json::array(),
       offsets = json::array();
  for (const generate::PieceLogprobs& e : entries) {
    const std::string text = text_of(e.chosen.token);
    tokens.push_back(text);
    token_logprobs.push_back(e.chosen.logprob);
    json alternatives = json::object();
    for (const generate::TokenLogprob& t : e.top) alternatives[text_of(t.token)] = t.logprob;
    top.push_back(std::move(alternatives));
    offsets.push_back(text_offset);
    text_offset += static_cast<int64_t>(text.size());
  }
  return {{"tokens", std::move(tokens)},
          {"token_logprobs", std::move(token_logprobs)},
          {"top_logprobs", std::move(top)},
          {"text_offset", std::move(offsets)}};
}

std::vector<generate::PieceLogprobs> shown_logprobs(std::vector<generate::PieceLogprobs> entries,
                                                    generate::StopReason stop) {
  if (stop == generate::StopReason::kEos && !entries.empty()) entries.pop_back();
  return entries;
}

json completion_object(const ResponseHead& head, const generate::GenerateResult& result,
                       const json& logprobs) {
  json out = object_head(head, false);
  json choice = {
      {"index", 0}, {"finish_reason", finish_reason(result.stop_reason)}, {"logprobs", logprobs}};
  if (head.chat) {
    choice["message"] = {{"role", "assistant"}, {"content", result.text}};
  } else {
    choice["text"] = result.text;
  }
  out["choices"] = json::array({choice});
  out["usage"] = usage(result.stats);
  return out;
}

json completion_chunk(const ResponseHead& head, const std::string& text, bool first,
                      const char* finish, const json& logprobs) {
  json out = object_head(head, true);
  json choice = {{"index", 0},
                 {"finish_reason", finish ? json(finish) : json(nullptr)},
                 {"logprobs", logprobs}};
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

json usage_chunk(const ResponseHead& head, const generate::GenerateStats& stats) {
  json out = object_head(head, true);
  out["choices"] = json::array();
  out["usage"] = usage(stats);
  return out;
}

std::string dump_json(const json& data) {
  return data.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string sse_event(const json& data) { return "data: " + dump_json(data) + "\n\n"; }

}  // namespace infer::server

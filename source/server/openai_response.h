#pragma once
// The JSON objects of OpenAI's chat and text completion APIs, whole and as stream chunks, and
// the server-sent-events framing of a stream.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "infer/generate/generate.h"
#include "infer/tokenizer/tokenizer.h"

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
// OpenAI's usage object; prompt_tokens_details.cached_tokens are the prompt tokens taken from the
// prefix cache instead of being computed.
nlohmann::ordered_json usage(const generate::GenerateStats& stats);

// The "logprobs" of a choice for these tokens: chat's {"content": [{"token", "logprob", "bytes",
// "top_logprobs"}]} or the completions API's {"tokens", "token_logprobs", "top_logprobs",
// "text_offset"}. A token's text is the token decoded alone; `text_offset` is the byte offset of
// the first token's text in the reply and is advanced past these tokens.
nlohmann::ordered_json logprobs_json(bool chat, const std::vector<generate::PieceLogprobs>& entries,
                                     const tokenizer::Tokenizer& tokenizer, int64_t& text_offset);
// The logprobs a reply shows: one per generated token, except a final end-of-sequence token
// (whose text is not part of the reply either).
std::vector<generate::PieceLogprobs> shown_logprobs(std::vector<generate::PieceLogprobs> entries,
                                                    generate::StopReason stop);

// The whole reply (stream: false); `logprobs` is the choice's (null when not asked for).
nlohmann::ordered_json completion_object(const ResponseHead& head,
                                         const generate::GenerateResult& result,
                                         const nlohmann::ordered_json& logprobs = nullptr);
// One chunk of a stream: `text` as the delta (the first chat chunk also carries the role), and
// finish_reason once the reply has ended (then text is empty).
nlohmann::ordered_json completion_chunk(const ResponseHead& head, const std::string& text,
                                        bool first, const char* finish = nullptr,
                                        const nlohmann::ordered_json& logprobs = nullptr);
// The last chunk when the client asked for usage: no choices, the usage.
nlohmann::ordered_json usage_chunk(const ResponseHead& head, const generate::GenerateStats& stats);

// `data` as JSON text; text that is not valid UTF-8 (which no reply should hold) is written with
// U+FFFD rather than failing the request.
std::string dump_json(const nlohmann::ordered_json& data);
// "data: {json}\n\n", and the stream's end marker.
std::string sse_event(const nlohmann::ordered_json& data);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";

}  // namespace infer::server

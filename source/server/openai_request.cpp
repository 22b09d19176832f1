#include "openai_request.h"

#include <limits>

#include "api_error.h"
#include "infer/base/error.h"
#include "infer/base/json_input.h"
#include "openai_response.h"
#include "request_fields.h"

namespace infer::server {

using json = nlohmann::ordered_json;

namespace {

// The sampling fields, checked by the sampler's own rules; its message names the field.
sampler::SamplingParams read_sampling(const json& body) {
  sampler::SamplingParams s;
  read_float(body, "temperature", s.temperature);
  read_float(body, "top_p", s.top_p);
  read_int(body, "top_k", s.top_k);
  read_float(body, "min_p", s.min_p);
  read_float(body, "repetition_penalty", s.repetition_penalty);
  read_float(body, "frequency_penalty", s.frequency_penalty);
  read_float(body, "presence_penalty", s.presence_penalty);
  if (s.temperature > 2) {
    throw invalid_request("temperature",
                          "'temperature' must be in [0, 2], got " + std::to_string(s.temperature));
  }
  int64_t seed = -1;
  read_int(body, "seed", seed);
  if (body.contains("seed") && !body["seed"].is_null()) {
    if (seed < 0) throw invalid_request("seed", "'seed' must be >= 0, got " + std::to_string(seed));
    s.seed = static_cast<uint64_t>(seed);
  }
  try {
    s.validate();
  } catch (const base::InvalidArgument& e) {
    const std::string message = e.what();
    throw invalid_request(message.substr(0, message.find(' ')), message);
  }
  return s;
}

std::vector<std::string> read_stop(const json& body) {
  auto it = body.find("stop");
  if (it == body.end() || it->is_null()) return {};
  std::vector<std::string> stops;
  if (it->is_string()) {
    stops.push_back(it->get<std::string>());
  } else if (it->is_array()) {
    for (const json& s : *it) {
      if (!s.is_string()) throw invalid_request("stop", "'stop' entries must be strings");
      stops.push_back(s.get<std::string>());
    }
  } else {
    throw invalid_request("stop", "'stop' must be a string or an array of strings");
  }
  if (stops.size() > 4) throw invalid_request("stop", "'stop' takes at most 4 sequences");
  for (const std::string& s : stops)
    if (s.empty()) throw invalid_request("stop", "'stop' sequences must not be empty");
  return stops;
}

int64_t read_top_count(const json& value, const char* name) {
  if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
      value.get<int64_t>() > generate::kMaxTopLogprobs) {
    throw invalid_request(name, std::string("'") + name + "' must be an integer in [0, " +
                                    std::to_string(generate::kMaxTopLogprobs) + "], got " +
                                    base::json_brief(value));
  }
  return value.get<int64_t>();
}

// GenerateOptions::top_logprobs from the request: chat takes "logprobs": true with
// "top_logprobs": N, completions take "logprobs": N. -1 when none are asked for.
int read_logprobs(const json& body, bool chat) {
  auto it = body.find("logprobs");
  const bool given = it != body.end() && !it->is_null();
  if (!chat) return given ? static_cast<int>(read_top_count(*it, "logprobs")) : -1;
  bool logprobs = false;
  read_bool(body, "logprobs", logprobs);
  auto top = body.find("top_logprobs");
  if (top == body.end() || top->is_null()) return logprobs ? 0 : -1;
  const int64_t n = read_top_count(*top, "top_logprobs");
  if (!logprobs) throw invalid_request("top_logprobs", "'top_logprobs' needs 'logprobs': true");
  return static_cast<int>(n);
}

// What every request shares: sampling, stop, budget, n, stream, logprobs; the prompt is set.
void read_common(const json& body, const RequestLimits& limits, ParsedRequest& parsed,
                 const char* max_tokens_field) {
  engine::Request& r = parsed.request;
  r.sampling = read_sampling(body);
  r.options.stop_strings = read_stop(body);
  int64_t n = 1;
  read_int(body, "n", n);
  if (n != 1) throw invalid_request("n", "only n = 1 is supported, got " + std::to_string(n));
  r.options.top_logprobs = read_logprobs(body, parsed.chat);
  read_bool(body, "stream", parsed.stream);
  read_bool(body, "ignore_eos", r.options.ignore_eos);  // vLLM's extension, for benchmarks
  if (const json* options = field(body, "stream_options", &json::is_object, "an object")) {
    read_bool(*options, "include_usage", parsed.include_usage);
    if (!parsed.stream)
      throw invalid_request("stream_options", "'stream_options' needs 'stream': true");
  }
  if (const json* model = field(body, "model", &json::is_string, "a string"))
    parsed.model = model->get<std::string>();

  const int64_t prompt_tokens = static_cast<int64_t>(r.prompt.size());
  if (prompt_tokens >= limits.context) {
    ApiError error(400, "invalid_request_error",
                   "the prompt has " + std::to_string(prompt_tokens) +
                       " tokens and the context holds " + std::to_string(limits.context) +
                       ", which leaves no room for a reply",
                   "", "exceed_context_size_error");
    error.extra = {{"n_prompt_tokens", prompt_tokens}, {"n_ctx", limits.context}};
    throw error;
  }
  int64_t max_tokens = -1;
  read_int(body, max_tokens_field, max_tokens);
  if (max_tokens == -1) read_int(body, "max_tokens", max_tokens);
  if (max_tokens == -1) {
    max_tokens = std::min(limits.default_max_tokens, limits.context - prompt_tokens);
  } else if (max_tokens < 1) {
    throw invalid_request(max_tokens_field,
                          "'max_tokens' must be >= 1, got " + std::to_string(max_tokens));
  }
  r.options.max_new_tokens = max_tokens;
}

std::string message_content(const json& message, size_t index) {
  const std::string where = "messages[" + std::to_string(index) + "].content";
  auto it = message.find("content");
  if (it == message.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_array()) throw invalid_request(where, "'" + where + "' must be a string or parts");
  std::string text;
  for (const json& part : *it) {
    if (!part.is_object() || !part.contains("type") || part["type"] != "text" ||
        !part.contains("text") || !part["text"].is_string()) {
      throw invalid_request(where, "'" + where +
                                       "' parts must be {\"type\": \"text\", \"text\": ...}"
                                       " (this model reads text only)");
    }
    text += part["text"].get<std::string>();
  }
  return text;
}

// An assistant message's tool_calls as templates read them: OpenAI sends each call's
// function.arguments as JSON text, templates (Llama 3.1's, Mistral's) expect the object, as
// HF's chat pipelines pass it.
json read_tool_calls(const json& calls, size_t index) {
  const std::string where = "messages[" + std::to_string(index) + "].tool_calls";
  if (!calls.is_array()) throw invalid_request(where, "'" + where + "' must be an array");
  json out = json::array();
  for (json call : calls) {
    if (!call.is_object()) throw invalid_request(where, "'" + where + "' entries must be objects");
    auto function = call.find("function");
    if (function != call.end() && function->is_object()) {
      auto arguments = function->find("arguments");
      if (arguments != function->end() && arguments->is_string()) {
        json parsed = json::parse(arguments->get<std::string>(), nullptr, false);
        if (parsed.is_discarded()) {
          throw invalid_request(where, "'" + where + "' function.arguments is not valid JSON");
        }
        *arguments = std::move(parsed);
      }
    }
    out.push_back(std::move(call));
  }
  return out;
}

const json& object_body(const json& body) {
  if (!body.is_object()) throw invalid_request("", "the request body must be a JSON object");
  return body;
}

}  // namespace

json parse_request_body(const std::string& text) {
  try {
    base::check_json_depth(text, "the body");
    return json::parse(text);
  } catch (const base::FormatError& e) {
    throw invalid_request("", e.what());
  } catch (const json::parse_error& e) {
    throw invalid_request(
        "", "the body is not valid JSON (error at byte " + std::to_string(e.byte) + ")");
  } catch (const json::exception&) {  // a number beyond double's range: out_of_range
    throw invalid_request("", "the body holds a number too large to represent");
  }
}

std::vector<int32_t> read_token_ids(const json& value, const std::string& param,
                                    const tokenizer::Tokenizer& tokenizer) {
  if (!value.is_array())
    throw invalid_request(param, "'" + param + "' must be an array of token ids");
  std::vector<int32_t> ids;
  for (const json& t : value) {
    if (!t.is_number_integer())
      throw invalid_request(param, "'" + param + "' must be an array of token ids");
    // Compared as written: a huge unsigned value must not wrap into the range.
    const bool in_range = t.is_number_unsigned()
                              ? t.get<uint64_t>() < static_cast<uint64_t>(tokenizer.vocab_size())
                              : t.get<int64_t>() >= 0 && t.get<int64_t>() < tokenizer.vocab_size();
    if (!in_range) {
      throw invalid_request(param, "token id " + base::json_brief(t) +
                                       " is outside the vocabulary [0, " +
                                       std::to_string(tokenizer.vocab_size()) + ")");
    }
    const auto id = t.get<int64_t>();
    ids.push_back(static_cast<int32_t>(id));
  }
  return ids;
}

ParsedRequest parse_chat_request(const json& raw, const tokenizer::Tokenizer& tokenizer,
                                 const generate::ChatTemplate& chat, const RequestLimits& limits) {
  const json& body = object_body(raw);
  auto it = body.find("messages");
  if (it == body.end() || !it->is_array() || it->empty())
    throw invalid_request("messages", "'messages' must be a non-empty array of messages");
  // What the template sees: role and text content, and the tool-calling fields as sent.
  json messages = json::array();
  for (size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      throw invalid_request(
          "messages[" + std::to_string(i) + "]",
          "'messages[" + std::to_string(i) + "]' must be an object with a string 'role'");
    }
    const std::string role = m["role"].get<std::string>();
    if (role != "system" && role != "user" && role != "assistant" && role != "tool") {
      const std::string where = "messages[" + std::to_string(i) + "].role";
      throw invalid_request(where, "'" + where +
                                       "' must be system, user, assistant or tool, got '" +
                                       base::utf8_prefix(role, 40) + "'");
    }
    json message = {{"role", role}, {"content", message_content(m, i)}};
    for (const char* field : {"name", "tool_call_id"})
      if (m.contains(field) && m[field].is_string()) message[field] = m[field];
    if (m.contains("tool_calls") && !m["tool_calls"].is_null())
      message["tool_calls"] = read_tool_calls(m["tool_calls"], i);
    messages.push_back(std::move(message));
  }
  std::string tools;
  if (const json* t = field(body, "tools", &json::is_array, "an array of tools")) {
    for (const json& tool : *t) {
      if (!tool.is_object()) throw invalid_request("tools", "'tools' entries must be objects");
    }
    tools = t->dump();
  }
  ParsedRequest parsed;
  try {
    tokenizer::EncodeOptions options;
    options.add_special_tokens = false;  // the template writes BOS/EOS itself
    options.parse_special = true;
    parsed.request.prompt = tokenizer.encode(
        chat.render_json(messages.dump(), /*add_generation_prompt=*/true, tools), options);
  } catch (const base::InvalidArgument& e) {
    throw invalid_request("messages",
                          std::string("the chat template refuses the messages: ") + e.what());
  }
  parsed.chat = true;
  read_common(body, limits, parsed, "max_completion_tokens");
  return parsed;
}

ParsedRequest parse_completion_request(const json& raw, const tokenizer::Tokenizer& tokenizer,
                                       const RequestLimits& limits) {
  const json& body = object_body(raw);
  auto it = body.find("prompt");
  ParsedRequest parsed;
  std::vector<int32_t>& prompt = parsed.request.prompt;
  if (it != body.end() && it->is_string()) {
    prompt = tokenizer.encode(it->get<std::string>());
  } else if (it != body.end() && it->is_array()) {
    prompt = read_token_ids(*it, "prompt", tokenizer);
  } else {
    throw invalid_request("prompt", "'prompt' must be a string or an array of token ids");
  }
  if (prompt.empty()) throw invalid_request("prompt", "'prompt' is empty");
  parsed.chat = false;
  parsed.request.options.text_continues_prompt = true;
  read_common(body, limits, parsed, "max_tokens");
  return parsed;
}

}  // namespace infer::server

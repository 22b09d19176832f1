#include "infer/generate/chat_template.h"

#include "infer/base/error.h"

namespace infer::generate {

namespace {

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

// Jinja's trim: leading and trailing whitespace.
std::string trim(const std::string& s) {
  const char* space = " \t\n\r\v\f";
  const size_t begin = s.find_first_not_of(space);
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(space) - begin + 1);
}

// A literal system prompt that a ChatML template writes when the conversation has none, e.g.
// '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, ...<|im_end|>\n'. The
// newline may be a real one or the two characters \n inside a Jinja string literal.
std::optional<std::string> default_system_prompt(const std::string& jinja) {
  if (!contains(jinja, "!= 'system'") && !contains(jinja, "!= \"system\"")) return std::nullopt;
  const std::string open = "<|im_start|>system";
  for (size_t at = jinja.find(open); at != std::string::npos; at = jinja.find(open, at + 1)) {
    size_t begin = at + open.size();
    if (jinja.compare(begin, 1, "\n") == 0) {
      begin += 1;
    } else if (jinja.compare(begin, 2, "\\n") == 0) {
      begin += 2;
    } else {
      continue;
    }
    const size_t end = jinja.find("<|im_end|>", begin);
    if (end == std::string::npos) break;
    std::string prompt = jinja.substr(begin, end - begin);
    // Only a literal counts: an expression (the user's own system message) is not a default.
    if (prompt.find_first_of("'\"{}+") != std::string::npos) continue;
    for (size_t n; (n = prompt.find("\\n")) != std::string::npos;) prompt.replace(n, 2, "\n");
    return prompt;
  }
  return std::nullopt;
}

}  // namespace

ChatTemplate ChatTemplate::named(std::string_view name, const std::string& bos_token) {
  ChatTemplate t;
  t.bos_token_ = bos_token;
  if (name == "llama3") {
    t.format_ = Format::kLlama3;
  } else if (name != "chatml") {
    throw base::InvalidArgument("unknown chat template '" + std::string(name) +
                                "' (llama3, chatml)");
  }
  t.name_ = std::string(name);
  return t;
}

ChatTemplate ChatTemplate::detect(const std::string& jinja, const std::string& bos_token) {
  if (contains(jinja, "<|start_header_id|>")) {
    ChatTemplate t = named("llama3", bos_token);
    t.always_generation_prompt_ = !contains(jinja, "add_generation_prompt");
    return t;
  }
  if (contains(jinja, "<|im_start|>")) {
    ChatTemplate t = named("chatml", bos_token);
    // A few ChatML templates separate with spaces instead of newlines.
    if (contains(jinja, "role'] + ' '") || contains(jinja, "role + ' '")) t.role_separator_ = " ";
    if (contains(jinja, "'<|im_end|>' + ' '")) t.turn_separator_ = " ";
    t.default_system_ = default_system_prompt(jinja);
    return t;
  }
  throw base::Unsupported(
      "chat template not recognised (built-in formats: llama3, chatml); "
      "pass --chat_template to choose one");
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt) const {
  for (const ChatMessage& m : messages) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant") {
      throw base::InvalidArgument("chat message role '" + m.role +
                                  "' (expected system, user or assistant)");
    }
  }
  std::string out;
  if (format_ == Format::kLlama3) {
    for (size_t i = 0; i < messages.size(); ++i) {
      if (i == 0) out += bos_token_;
      out += "<|start_header_id|>" + messages[i].role + "<|end_header_id|>\n\n" +
             trim(messages[i].content) + "<|eot_id|>";
    }
    if (add_generation_prompt || always_generation_prompt_)
      out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
    return out;
  }
  if (default_system_ && (messages.empty() || messages[0].role != "system")) {
    out +=
        "<|im_start|>system" + role_separator_ + *default_system_ + "<|im_end|>" + turn_separator_;
  }
  for (const ChatMessage& m : messages) {
    out += "<|im_start|>" + m.role + role_separator_ + m.content + "<|im_end|>" + turn_separator_;
  }
  if (add_generation_prompt) out += "<|im_start|>assistant" + role_separator_;
  return out;
}

}  // namespace infer::generate

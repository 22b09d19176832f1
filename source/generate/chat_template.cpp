#include "infer/generate/chat_template.h"

#include "infer/base/error.h"
#include "infer/tokenizer/tokenizer.h"

namespace infer::generate {

namespace {

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

// Jinja's trim and Python's str.strip() on the ASCII whitespace templates meet in practice.
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

void require_alternating_turns(const std::vector<ChatMessage>& turns, std::string_view format) {
  for (size_t i = 0; i < turns.size(); ++i) {
    const char* expected = i % 2 == 0 ? "user" : "assistant";
    if (turns[i].role != expected) {
      throw base::InvalidArgument(
          std::string(format) + " chat format: message " + std::to_string(i + 1) + " is '" +
          turns[i].role + "', expected '" + expected + "' (turns must alternate user/assistant)");
    }
  }
}

}  // namespace

ChatTemplate ChatTemplate::named(std::string_view name, const ChatSpecialTokens& tokens) {
  ChatTemplate t;
  t.tokens_ = tokens;
  if (name == "llama3") {
    t.format_ = Format::kLlama3;
  } else if (name == "llama2") {
    t.format_ = Format::kLlama2;
  } else if (name == "mistral") {
    t.format_ = Format::kMistral;
  } else if (name != "chatml") {
    throw base::InvalidArgument("unknown chat template '" + std::string(name) + "' (" +
                                std::string(kFormatNames) + ")");
  }
  t.name_ = std::string(name);
  return t;
}

ChatTemplate ChatTemplate::detect(const std::string& jinja, const ChatSpecialTokens& tokens) {
  if (contains(jinja, "<|start_header_id|>")) {
    ChatTemplate t = named("llama3", tokens);
    t.always_generation_prompt_ = !contains(jinja, "add_generation_prompt");
    return t;
  }
  if (contains(jinja, "<|im_start|>")) {
    ChatTemplate t = named("chatml", tokens);
    // A few ChatML templates separate with spaces instead of newlines.
    if (contains(jinja, "role'] + ' '") || contains(jinja, "role + ' '")) t.role_separator_ = " ";
    if (contains(jinja, "'<|im_end|>' + ' '")) t.turn_separator_ = " ";
    t.default_system_ = default_system_prompt(jinja);
    return t;
  }
  // Llama-2-chat: the system message folded into the first [INST], BOS before every [INST].
  if (contains(jinja, "<<SYS>>") &&
      contains(jinja, "bos_token + '[INST] ' + content.strip() + ' [/INST]'")) {
    return named("llama2", tokens);
  }
  // Mistral-7B-Instruct v0.1/v0.2: one BOS, no system role. Later Mistral templates (which
  // write '[/INST]' without the space, or carry tools) are different formats and not matched.
  if (contains(jinja, "'[INST] ' + message['content'] + ' [/INST]'") &&
      !contains(jinja, "<<SYS>>")) {
    ChatTemplate t = named("mistral", tokens);
    if (contains(jinja, "eos_token + ' '")) t.after_reply_ = " ";
    return t;
  }
  throw base::Unsupported("chat template not recognised (built-in formats: " +
                          std::string(kFormatNames) + "); pass --chat_template to choose one");
}

ChatTemplate ChatTemplate::for_tokenizer(const tokenizer::Tokenizer& tokenizer,
                                         std::string_view name) {
  const auto text_of = [&](std::optional<int32_t> id) {
    return id ? tokenizer.decode({*id}, /*skip_special_tokens=*/false) : std::string();
  };
  const ChatSpecialTokens tokens{text_of(tokenizer.bos_id()), text_of(tokenizer.eos_id())};
  if (name != "auto") return named(name, tokens);
  const auto jinja = tokenizer.chat_template();
  if (!jinja) {
    throw base::InvalidArgument(
        "the tokenizer's tokenizer_config.json has no chat_template; name a format (" +
        std::string(kFormatNames) + ")");
  }
  return detect(*jinja, tokens);
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt) const {
  for (const ChatMessage& m : messages) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant") {
      throw base::InvalidArgument("chat message role '" + m.role +
                                  "' (expected system, user or assistant)");
    }
  }
  switch (format_) {
    case Format::kLlama3:
      return render_llama3(messages, add_generation_prompt);
    case Format::kChatML:
      return render_chatml(messages, add_generation_prompt);
    case Format::kLlama2:
    case Format::kMistral:
      return render_inst(messages);  // these formats have no generation prompt to add
  }
  return {};
}

std::vector<int32_t> ChatTemplate::encode(const tokenizer::Tokenizer& tokenizer,
                                          const std::vector<ChatMessage>& messages,
                                          bool add_generation_prompt) const {
  tokenizer::EncodeOptions options;
  options.add_special_tokens = false;  // the format places BOS/EOS itself
  options.parse_special = true;
  return tokenizer.encode(render(messages, add_generation_prompt), options);
}

std::string ChatTemplate::render_llama3(const std::vector<ChatMessage>& messages,
                                        bool add_generation_prompt) const {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i == 0) out += tokens_.bos;
    out += "<|start_header_id|>" + messages[i].role + "<|end_header_id|>\n\n" +
           trim(messages[i].content) + "<|eot_id|>";
  }
  if (add_generation_prompt || always_generation_prompt_)
    out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

std::string ChatTemplate::render_chatml(const std::vector<ChatMessage>& messages,
                                        bool add_generation_prompt) const {
  std::string out;
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

std::string ChatTemplate::render_inst(const std::vector<ChatMessage>& messages) const {
  const bool has_system = !messages.empty() && messages[0].role == "system";
  if (has_system && format_ == Format::kMistral) {
    throw base::InvalidArgument(
        "the mistral chat format has no system role (its template accepts only user and "
        "assistant messages)");
  }
  const std::vector<ChatMessage> turns(messages.begin() + (has_system ? 1 : 0), messages.end());
  require_alternating_turns(turns, name_);
  std::string out;
  if (format_ == Format::kMistral) {
    out += tokens_.bos;
    for (const ChatMessage& m : turns) {
      out += m.role == "user" ? "[INST] " + m.content + " [/INST]"
                              : m.content + tokens_.eos + after_reply_;
    }
    return out;
  }
  for (size_t i = 0; i < turns.size(); ++i) {
    std::string content = turns[i].content;
    if (i == 0 && has_system) {
      content = "<<SYS>>\n" + messages[0].content + "\n<</SYS>>\n\n" + content;
    }
    out += turns[i].role == "user" ? tokens_.bos + "[INST] " + trim(content) + " [/INST]"
                                   : " " + trim(content) + " " + tokens_.eos;
  }
  return out;
}

}  // namespace infer::generate

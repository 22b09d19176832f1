#include "infer/generate/chat_template.h"

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "infer/base/error.h"
#include "infer/base/files.h"
#include "infer/base/json_input.h"
#include "infer/generate/jinja/template.h"
#include "infer/tokenizer/tokenizer.h"

namespace infer::generate {

namespace {

// The templates the common formats' checkpoints publish, for tokenizers that ship none.
constexpr const char* kLlama3 =
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + "
    "message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{% endif %}";

constexpr const char* kChatML =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

constexpr const char* kLlama2 =
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}"
    "{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' ' + content.strip() + ' ' + eos_token }}"
    "{% endif %}{% endfor %}";

constexpr const char* kMistral =
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}"
    "{% endfor %}";

// Real templates are a few KiB; tokenizer_config.json files a few MiB at most.
constexpr uint64_t kMaxTemplateBytes = uint64_t{64} << 20;

std::string read_text(const std::string& path) {
  return base::read_regular_file(path, "chat template", kMaxTemplateBytes);
}

// tokenizer_config.json's chat_template: a string, or named templates of which "default" is the
// chat one.
std::string template_of_config(const std::string& path) {
  nlohmann::json config;
  const std::string text = read_text(path);
  base::check_json_depth(text, path);
  try {
    config = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw base::FormatError(path + " is not valid JSON: " + e.what());
  }
  const auto it = config.is_object() ? config.find("chat_template") : config.end();
  if (it != config.end() && it->is_string()) return it->get<std::string>();
  if (it != config.end() && it->is_array()) {
    for (const auto& named : *it) {
      if (named.is_object() && named.value("name", "") == "default" && named.contains("template") &&
          named["template"].is_string())
        return named["template"].get<std::string>();
    }
  }
  throw base::FormatError(path + " has no chat_template (a string, or one named 'default')");
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

ChatTemplate ChatTemplate::from_jinja(const std::string& source, const ChatSpecialTokens& tokens,
                                      std::string name) {
  ChatTemplate t;
  t.name_ = std::move(name);
  t.tokens_ = tokens;
  t.template_ = std::make_shared<const jinja::Template>(source);
  return t;
}

ChatTemplate ChatTemplate::from_file(const std::string& path, const ChatSpecialTokens& tokens) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return from_jinja(template_of_config(path + "/tokenizer_config.json"), tokens, path);
  }
  if (ends_with(path, ".json")) return from_jinja(template_of_config(path), tokens, path);
  return from_jinja(read_text(path), tokens, path);
}

ChatTemplate ChatTemplate::named(std::string_view name, const ChatSpecialTokens& tokens) {
  const char* source = name == "llama3"    ? kLlama3
                       : name == "chatml"  ? kChatML
                       : name == "llama2"  ? kLlama2
                       : name == "mistral" ? kMistral
                                           : nullptr;
  if (source == nullptr) {
    throw base::InvalidArgument("unknown chat template '" + std::string(name) + "' (" +
                                std::string(kFormatNames) +
                                ", auto, or a .jinja / tokenizer_config.json file)");
  }
  return from_jinja(source, tokens, std::string(name));
}

ChatTemplate ChatTemplate::for_tokenizer(const tokenizer::Tokenizer& tokenizer,
                                         std::string_view choice) {
  const auto text_of = [&](std::optional<int32_t> id) {
    return id ? tokenizer.decode({*id}, /*skip_special_tokens=*/false) : std::string();
  };
  const ChatSpecialTokens tokens{text_of(tokenizer.bos_id()), text_of(tokenizer.eos_id())};
  if (ends_with(choice, ".json") || ends_with(choice, ".jinja") ||
      choice.find('/') != std::string_view::npos)
    return from_file(std::string(choice), tokens);
  if (choice != "auto") return named(choice, tokens);
  const auto jinja = tokenizer.chat_template();
  if (!jinja) {
    throw base::InvalidArgument(
        "the tokenizer's tokenizer_config.json has no chat_template; name a format (" +
        std::string(kFormatNames) + ") or a .jinja file");
  }
  return from_jinja(*jinja, tokens, "the model's");
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt) const {
  jinja::List list;
  for (const ChatMessage& m : messages) {
    jinja::Dict message;
    message.set("role", jinja::Value(m.role));
    message.set("content", jinja::Value(m.content));
    list.emplace_back(std::move(message));
  }
  return render_values(jinja::Value(std::move(list)), jinja::Value(), add_generation_prompt);
}

std::string ChatTemplate::render_json(const std::string& messages_json, bool add_generation_prompt,
                                      const std::string& tools_json) const {
  auto parse = [](const std::string& text, const char* what) {
    nlohmann::ordered_json j;
    base::check_json_depth(text, what);
    try {
      j = nlohmann::ordered_json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw base::FormatError(std::string(what) + " are not valid JSON: " + e.what());
    }
    if (!j.is_array()) throw base::FormatError(std::string(what) + " must be a JSON array");
    return jinja::from_json(j);
  };
  const jinja::Value messages = parse(messages_json, "the messages");
  for (const jinja::Value& m : messages.as_list()) {
    if (!m.is_dict()) throw base::FormatError("every message must be a JSON object");
  }
  const jinja::Value tools = tools_json.empty() ? jinja::Value() : parse(tools_json, "the tools");
  return render_values(messages, tools, add_generation_prompt);
}

std::string ChatTemplate::render_values(const jinja::Value& messages, const jinja::Value& tools,
                                        bool add_generation_prompt) const {
  jinja::Dict variables;
  variables.set("messages", messages);
  if (!tools.is_undefined()) variables.set("tools", tools);
  variables.set("add_generation_prompt", jinja::Value(add_generation_prompt));
  variables.set("bos_token", jinja::Value(tokens_.bos));
  variables.set("eos_token", jinja::Value(tokens_.eos));
  return template_->render(variables, std::time(nullptr));
}

std::vector<int32_t> ChatTemplate::encode(const tokenizer::Tokenizer& tokenizer,
                                          const std::vector<ChatMessage>& messages,
                                          bool add_generation_prompt) const {
  tokenizer::EncodeOptions options;
  options.add_special_tokens = false;  // the template places BOS/EOS itself
  options.parse_special = true;
  return tokenizer.encode(render(messages, add_generation_prompt), options);
}

}  // namespace infer::generate

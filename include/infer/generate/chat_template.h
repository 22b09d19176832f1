#pragma once
// Built-in renderers for the chat formats checkpoints use, chosen by recognising the Jinja
// template in tokenizer_config.json (or by name). Rendering gives the exact text HF's
// apply_chat_template(add_generation_prompt=...) gives for plain conversations; encode it with
// EncodeOptions{.add_special_tokens = false, .parse_special = true}.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace infer::generate {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

class ChatTemplate {
 public:
  // Recognises `jinja` (a tokenizer_config.json chat_template); throws Unsupported naming the
  // known formats when it matches none. `bos_token` is the BOS token's text.
  static ChatTemplate detect(const std::string& jinja, const std::string& bos_token);
  // "llama3" or "chatml"; throws InvalidArgument for another name.
  static ChatTemplate named(std::string_view name, const std::string& bos_token);

  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;
  const std::string& name() const { return name_; }

 private:
  enum class Format { kLlama3, kChatML };
  Format format_ = Format::kChatML;
  std::string name_;
  std::string bos_token_;
  // Llama 3: some templates add the assistant header whatever add_generation_prompt says.
  bool always_generation_prompt_ = false;
  // ChatML variants: what follows the role, what follows <|im_end|>, and the system prompt
  // inserted when a conversation has none (SmolLM2, Qwen2.5).
  std::string role_separator_ = "\n";
  std::string turn_separator_ = "\n";
  std::optional<std::string> default_system_;
};

}  // namespace infer::generate

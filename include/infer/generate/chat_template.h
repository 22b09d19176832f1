#pragma once
// Built-in renderers for the chat formats checkpoints use, chosen by recognising the Jinja
// template in tokenizer_config.json (or by name). Rendering gives the exact text HF's
// apply_chat_template(add_generation_prompt=...) gives for plain conversations; encode it with
// EncodeOptions{.add_special_tokens = false, .parse_special = true}.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace infer::tokenizer {
class Tokenizer;
}

namespace infer::generate {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

// The text of the BOS and EOS tokens, which some formats write around turns.
struct ChatSpecialTokens {
  std::string bos;
  std::string eos;
};

class ChatTemplate {
 public:
  // Recognises `jinja` (a tokenizer_config.json chat_template); throws Unsupported naming the
  // known formats when it matches none.
  static ChatTemplate detect(const std::string& jinja, const ChatSpecialTokens& tokens);
  // "llama3", "chatml", "llama2" or "mistral"; throws InvalidArgument for another name.
  static ChatTemplate named(std::string_view name, const ChatSpecialTokens& tokens);
  // `name` is "auto" (detect the tokenizer's own template) or a format name; BOS/EOS text comes
  // from the tokenizer.
  static ChatTemplate for_tokenizer(const tokenizer::Tokenizer& tokenizer, std::string_view name);
  static constexpr std::string_view kFormatNames = "llama3, chatml, llama2, mistral";

  // Throws InvalidArgument for a conversation the format cannot express (an unknown role; for
  // Llama 2 and Mistral, turns that do not alternate user/assistant; a system message in
  // Mistral's format), as the HF template would raise.
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;
  // render() tokenised as HF's apply_chat_template(tokenize=True) does: the template's special
  // tokens parsed, no BOS/EOS added beyond the ones the format writes.
  std::vector<int32_t> encode(const tokenizer::Tokenizer& tokenizer,
                              const std::vector<ChatMessage>& messages,
                              bool add_generation_prompt) const;
  const std::string& name() const { return name_; }

 private:
  enum class Format { kLlama3, kChatML, kLlama2, kMistral };
  std::string render_llama3(const std::vector<ChatMessage>& messages,
                            bool add_generation_prompt) const;
  std::string render_chatml(const std::vector<ChatMessage>& messages,
                            bool add_generation_prompt) const;
  std::string render_inst(const std::vector<ChatMessage>& messages) const;

  Format format_ = Format::kChatML;
  std::string name_;
  ChatSpecialTokens tokens_;
  // Llama 3: some templates add the assistant header whatever add_generation_prompt says.
  bool always_generation_prompt_ = false;
  // ChatML variants: what follows the role, what follows <|im_end|>, and the system prompt
  // inserted when a conversation has none (SmolLM2, Qwen2.5).
  std::string role_separator_ = "\n";
  std::string turn_separator_ = "\n";
  std::optional<std::string> default_system_;
  // Mistral v0.1 writes a space after each reply's EOS; v0.2 does not.
  std::string after_reply_;
};

}  // namespace infer::generate

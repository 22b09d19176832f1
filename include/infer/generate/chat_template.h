#pragma once
// A model's chat format: its Jinja chat template (from tokenizer_config.json, a GGUF's metadata
// through export, or a .jinja file) rendered exactly as Hugging Face's apply_chat_template
// renders it, by libinfer's own Jinja interpreter; or a built-in template for the common formats
// when a tokenizer ships none. Encode the text with EncodeOptions{.add_special_tokens = false,
// .parse_special = true}, as encode() does.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace infer::tokenizer {
class Tokenizer;
}

namespace infer::generate {

namespace jinja {
class Template;
class Value;
}  // namespace jinja

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
  // A Jinja chat template. Throws FormatError (a syntax error) or Unsupported (a construct
  // outside the interpreter's subset), naming it and its line: a template fails when loaded,
  // never in the middle of a conversation.
  static ChatTemplate from_jinja(const std::string& source, const ChatSpecialTokens& tokens,
                                 std::string name = "model");
  // The built-in template of "llama3", "chatml", "llama2" or "mistral"; throws InvalidArgument
  // for another name.
  static ChatTemplate named(std::string_view name, const ChatSpecialTokens& tokens);
  // The template in a file: a .jinja template, a tokenizer_config.json (its chat_template, or
  // the one named "default"), or a folder holding a tokenizer_config.json. Throws FileError or
  // FormatError naming the file.
  static ChatTemplate from_file(const std::string& path, const ChatSpecialTokens& tokens);
  // `choice` is "auto" (the tokenizer's own template), a built-in format's name, or a file: a
  // .jinja template or a tokenizer_config.json. BOS/EOS text comes from the tokenizer.
  static ChatTemplate for_tokenizer(const tokenizer::Tokenizer& tokenizer, std::string_view choice);
  static constexpr std::string_view kFormatNames = "llama3, chatml, llama2, mistral";

  // The conversation as the model reads it. Throws InvalidArgument carrying the template's own
  // message when it refuses the conversation (raise_exception: a system message Gemma does not
  // take, Llama 2 turns that do not alternate), or naming the line for another failure.
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;
  // The same for a conversation given as JSON text, as the OpenAI API carries it (messages
  // with tool_calls, tool results, any fields a template reads), with tool definitions (a JSON
  // array; empty: none) for templates that take them. Key order is kept, as HF's tojson keeps
  // it. Throws FormatError for text that is not JSON of that shape.
  std::string render_json(const std::string& messages_json, bool add_generation_prompt,
                          const std::string& tools_json = "") const;
  // render() tokenised as HF's apply_chat_template(tokenize=True) does: the template's special
  // tokens parsed, no BOS/EOS added beyond the ones the template writes.
  std::vector<int32_t> encode(const tokenizer::Tokenizer& tokenizer,
                              const std::vector<ChatMessage>& messages,
                              bool add_generation_prompt) const;
  const std::string& name() const { return name_; }

 private:
  std::string render_values(const jinja::Value& messages, const jinja::Value& tools,
                            bool add_generation_prompt) const;

  std::string name_;
  ChatSpecialTokens tokens_;
  std::shared_ptr<const jinja::Template> template_;
};

}  // namespace infer::generate

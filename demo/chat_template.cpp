// chat_template: shows exactly what a model will be fed. Renders a conversation with a chat
// template as HF's apply_chat_template does and prints the text (or, with --ids, its token ids).
//   chat_template TEMPLATE CONVERSATION.json [--add_generation_prompt] [--bos_token T]
//                 [--eos_token T] [--tools TOOLS.json] [--ids TOKENIZER]
// TEMPLATE: a .jinja file, a tokenizer_config.json, or a folder holding one (an exported model's
// tokenizer folder). CONVERSATION.json: a JSON array of messages, or {"messages": [...],
// "tools": [...]}.
#include <gflags/gflags.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "infer/base/error.h"
#include "infer/generate/chat_template.h"
#include "infer/tokenizer/tokenizer.h"

DEFINE_bool(add_generation_prompt, false, "End with the header of the assistant's reply");
DEFINE_string(bos_token, "",
              "BOS text the template may write (default: tokenizer_config.json's, if given)");
DEFINE_string(eos_token, "",
              "EOS text the template may write (default: tokenizer_config.json's, if given)");
DEFINE_string(tools, "",
              "JSON file with the tool definitions (an array), for templates with tools");
DEFINE_string(ids, "", "Print the token ids under this tokenizer instead of the text");

namespace {

using namespace infer;

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw base::FileError("cannot open " + path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// A special token's text in tokenizer_config.json ("<s>", or {"content": "<s>", ...}).
std::string config_token(const nlohmann::json& config, const char* key) {
  if (!config.is_object() || !config.contains(key)) return "";
  const nlohmann::json& v = config[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return v["content"].get<std::string>();
  return "";
}

generate::ChatSpecialTokens special_tokens(const std::string& template_path) {
  generate::ChatSpecialTokens tokens{FLAGS_bos_token, FLAGS_eos_token};
  std::string config_path;
  if (std::filesystem::is_directory(template_path)) {
    config_path = template_path + "/tokenizer_config.json";
  } else if (template_path.size() >= 5 &&
             template_path.compare(template_path.size() - 5, 5, ".json") == 0) {
    config_path = template_path;
  }
  if (!config_path.empty() && (tokens.bos.empty() || tokens.eos.empty())) {
    const auto config = nlohmann::json::parse(read_file(config_path), nullptr, false);
    if (tokens.bos.empty()) tokens.bos = config_token(config, "bos_token");
    if (tokens.eos.empty()) tokens.eos = config_token(config, "eos_token");
  }
  return tokens;
}

int run(const std::string& template_path, const std::string& conversation_path) {
  const auto chat = generate::ChatTemplate::from_file(template_path, special_tokens(template_path));
  const auto conversation =
      nlohmann::ordered_json::parse(read_file(conversation_path), nullptr, false);
  if (conversation.is_discarded())
    throw base::FormatError(conversation_path + " is not valid JSON");
  nlohmann::ordered_json messages = conversation;
  std::string tools = FLAGS_tools.empty() ? "" : read_file(FLAGS_tools);
  if (conversation.is_object()) {
    if (!conversation.contains("messages"))
      throw base::FormatError(conversation_path + ": an object needs \"messages\"");
    messages = conversation["messages"];
    if (tools.empty() && conversation.contains("tools") && !conversation["tools"].is_null())
      tools = conversation["tools"].dump();
  }
  const std::string text = chat.render_json(messages.dump(), FLAGS_add_generation_prompt, tools);
  if (FLAGS_ids.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  const auto tokenizer = tokenizer::Tokenizer::load(FLAGS_ids);
  tokenizer::EncodeOptions options;
  options.add_special_tokens = false;  // the template writes BOS/EOS itself
  options.parse_special = true;
  std::printf("%s\n", nlohmann::json(tokenizer->encode(text, options)).dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "renders a conversation with a chat template, as HF's apply_chat_template does\n"
      "  chat_template TEMPLATE CONVERSATION.json [--add_generation_prompt] [--bos_token T]\n"
      "  [--eos_token T] [--tools TOOLS.json] [--ids TOKENIZER]\n"
      "TEMPLATE: a .jinja file, a tokenizer_config.json, or a folder holding one");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s\n", gflags::ProgramUsage());
    return 2;
  }
  try {
    return run(argv[1], argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chat_template: error: %s\n", e.what());
    return 1;
  }
}

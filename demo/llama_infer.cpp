// llama_infer / qwen_infer (the same program under two names; the architecture comes from the
// weights file): continue a prompt with a libinfer model, streaming the text as it is generated.
//   llama_infer model.bin tokenizer.json --prompt "Once upon a time"
#include <gflags/gflags.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "chat_mode.h"
#include "cli_common.h"
#include "infer/base/error.h"
#include "infer/generate/chat_template.h"
#include "infer/generate/generate.h"
#include "infer/model/model.h"
#include "infer/sampler/sampler.h"
#include "infer/tokenizer/tokenizer.h"

DEFINE_string(prompt, "Once upon a time",
              "Text to continue (or, with --chat_template, the user message)");
DEFINE_bool(chat, false,
            "Interactive multi-turn chat on stdin/stdout with the model's chat template "
            "(/help lists the commands)");
DEFINE_bool(parse_special, false,
            "Treat special-token strings in --prompt (e.g. <|im_start|>) as special tokens, for "
            "prompts written in a model's chat format by hand");
DEFINE_string(output_format, "text",
              "text: stream the continuation to stdout, stats to stderr; json: print one JSON "
              "object with ids, text, stop reason and stats");

namespace {

using namespace infer;

// The prompt as token ids: plain text, or a user turn rendered with a chat template (whose
// special-token markers are parsed; the user's own text is inserted as written).
std::vector<int32_t> encode_prompt(const tokenizer::Tokenizer& tokenizer) {
  tokenizer::EncodeOptions options;
  options.parse_special = FLAGS_parse_special;
  if (FLAGS_chat_template == "none") {
    if (!FLAGS_system.empty()) throw base::InvalidArgument("--system needs --chat_template");
    return tokenizer.encode(FLAGS_prompt, options);
  }
  const auto chat = generate::ChatTemplate::for_tokenizer(tokenizer, FLAGS_chat_template);
  std::vector<generate::ChatMessage> messages;
  if (!FLAGS_system.empty()) messages.push_back({"system", FLAGS_system});
  messages.push_back({"user", FLAGS_prompt});
  return chat.encode(tokenizer, messages, /*add_generation_prompt=*/true);
}

int run(const std::string& model_path, const std::string& tokenizer_path) {
  if (FLAGS_output_format != "text" && FLAGS_output_format != "json") {
    throw base::InvalidArgument("--output_format must be text or json, got '" +
                                FLAGS_output_format + "'");
  }
  if (!FLAGS_chat && FLAGS_prompt.empty())
    throw base::InvalidArgument("the prompt is empty (--prompt)");
  const sampler::SamplingParams sampling = cli::sampling_params_from_flags();
  const cli::Loaded loaded = cli::load_model_and_tokenizer(model_path, tokenizer_path);
  const auto& model = loaded.model;
  const auto& tokenizer = loaded.tokenizer;
  if (FLAGS_chat) return cli::run_chat(*model, *tokenizer);

  const std::vector<int32_t> prompt_ids = encode_prompt(*tokenizer);

  generate::GenerateOptions options = cli::generate_options_from_flags(*model, *tokenizer);
  const bool chat = FLAGS_chat_template != "none";
  options.text_continues_prompt = !chat;  // a chat reply stands alone

  const bool stream = FLAGS_output_format == "text";
  if (stream && !chat) {
    std::fputs(FLAGS_prompt.c_str(), stdout);
    std::fflush(stdout);
  }
  sampler::Sampler sampler(sampling);
  const generate::GenerateResult result = generate::generate(
      *model, prompt_ids, options, sampler, [&](const generate::StreamPiece& piece) {
        if (stream) {
          std::fputs(piece.text.c_str(), stdout);
          std::fflush(stdout);
        }
        return true;
      });

  const generate::GenerateStats& s = result.stats;
  if (stream) {
    std::fputs("\n", stdout);
    std::fflush(stdout);
    cli::print_stats(result);
    return 0;
  }
  nlohmann::json out = {{"prompt_ids", prompt_ids},
                        {"generated_ids", result.tokens},
                        {"text", result.text},
                        {"stop_reason", generate::stop_reason_name(result.stop_reason)},
                        {"stats",
                         {{"prompt_tokens", s.prompt_tokens},
                          {"generated_tokens", s.generated_tokens},
                          {"time_to_first_token_ms", s.time_to_first_token_s * 1e3},
                          {"prefill_tokens_per_s", s.prefill_tokens_per_s()},
                          {"decode_tokens_per_s", s.decode_tokens_per_s()}}}};
  std::cout << out.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace)
            << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string program = std::filesystem::path(argv[0]).filename().string();
  gflags::SetUsageMessage(
      "continue a prompt with a libinfer model\nusage: " + program +
      " MODEL.bin TOKENIZER.json|tokenizer.model [--prompt TEXT | --chat] [flags]");
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);
  if (argc != 3) {
    std::fprintf(stderr, "%s: error: expected MODEL.bin and TOKENIZER arguments, got %d\n%s\n",
                 program.c_str(), argc - 1, gflags::ProgramUsage());
    return 2;
  }
  try {
    return run(argv[1], argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", program.c_str(), e.what());
    return 1;
  }
}

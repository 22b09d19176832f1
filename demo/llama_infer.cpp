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

#include "infer/base/error.h"
#include "infer/base/threads.h"
#include "infer/generate/chat_template.h"
#include "infer/generate/generate.h"
#include "infer/model/model.h"
#include "infer/sampler/sampler.h"
#include "infer/tokenizer/tokenizer.h"

DEFINE_string(prompt, "Once upon a time", "Text to continue");
DEFINE_int64(max_new_tokens, 256, "Stop after this many generated tokens");
DEFINE_int64(max_seq_len, 0, "Context length to allocate (0 = the model's maximum)");
DEFINE_int32(threads, 0, "CPU threads (0 = all cores)");
DEFINE_string(device, "cpu", "Device to run on: cpu or cuda");
DEFINE_string(chat_template, "none",
              "Treat --prompt as a user message in a chat: auto (the template in "
              "tokenizer_config.json), llama3, chatml, llama2, mistral, or none (plain text "
              "continuation)");
DEFINE_string(system, "", "System message for --chat_template");
DEFINE_bool(parse_special, false,
            "Treat special-token strings in --prompt (e.g. <|im_start|>) as special tokens, for "
            "prompts written in a model's chat format by hand");
DEFINE_double(temperature, 0.0, "Sampling temperature; 0 = greedy (argmax)");
DEFINE_int64(top_k, 0, "Sample from the k most likely tokens only (0 = off)");
DEFINE_double(top_p, 1.0,
              "Sample from the smallest set of tokens whose probability reaches top_p (1 = off)");
DEFINE_double(min_p, 0.0, "Drop tokens less likely than min_p x the most likely one (0 = off)");
DEFINE_double(
    repetition_penalty, 1.0,
    "HF repetition penalty on every token already in the context (1 = off, > 1 discourages)");
DEFINE_double(frequency_penalty, 0.0, "OpenAI frequency penalty, -2..2, over generated tokens");
DEFINE_double(presence_penalty, 0.0, "OpenAI presence penalty, -2..2, over generated tokens");
DEFINE_int64(seed, -1, "Random seed for sampling (-1 = a random one)");
DEFINE_string(stop, "",
              "Stop generating when the text contains this string (not printed); several as a "
              "JSON array, e.g. '[\"\\n\\n\", \"User:\"]'");
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
  options.add_special_tokens = false;  // the template places BOS itself where the format wants it
  options.parse_special = true;
  return tokenizer.encode(chat.render(messages, /*add_generation_prompt=*/true), options);
}

std::vector<std::string> stop_strings() {
  if (FLAGS_stop.empty()) return {};
  if (FLAGS_stop.front() != '[') return {FLAGS_stop};
  const auto list = nlohmann::json::parse(FLAGS_stop, nullptr, /*allow_exceptions=*/false);
  if (!list.is_array() || list.empty() ||
      !std::all_of(list.begin(), list.end(), [](const auto& s) { return s.is_string(); })) {
    throw base::InvalidArgument("--stop: expected a string or a JSON array of strings, got " +
                                FLAGS_stop);
  }
  return list.get<std::vector<std::string>>();
}

sampler::SamplingParams sampling_params() {
  sampler::SamplingParams p;
  p.temperature = static_cast<float>(FLAGS_temperature);
  p.top_k = FLAGS_top_k;
  p.top_p = static_cast<float>(FLAGS_top_p);
  p.min_p = static_cast<float>(FLAGS_min_p);
  p.repetition_penalty = static_cast<float>(FLAGS_repetition_penalty);
  p.frequency_penalty = static_cast<float>(FLAGS_frequency_penalty);
  p.presence_penalty = static_cast<float>(FLAGS_presence_penalty);
  if (FLAGS_seed >= 0) p.seed = static_cast<uint64_t>(FLAGS_seed);
  p.validate();  // before the model loads: a bad flag should not cost a load
  return p;
}

int run(const std::string& model_path, const std::string& tokenizer_path) {
  if (FLAGS_output_format != "text" && FLAGS_output_format != "json") {
    throw base::InvalidArgument("--output_format must be text or json, got '" +
                                FLAGS_output_format + "'");
  }
  if (FLAGS_prompt.empty()) throw base::InvalidArgument("the prompt is empty (--prompt)");
  if (FLAGS_max_new_tokens < 0) throw base::InvalidArgument("--max_new_tokens must be >= 0");
  if (FLAGS_threads < 0) throw base::InvalidArgument("--threads must be >= 0 (0 = all cores)");
  const sampler::SamplingParams sampling = sampling_params();
  base::set_num_threads(FLAGS_threads);

  const auto tokenizer = tokenizer::Tokenizer::load(tokenizer_path);
  model::LoadOptions load_options;
  load_options.device = base::parse_device(FLAGS_device);
  load_options.max_seq_len = FLAGS_max_seq_len;
  const auto model = model::Model::load(model_path, load_options);
  const model::ModelConfig& config = model->config();
  if (tokenizer->vocab_size() > config.vocab_size) {
    throw base::InvalidArgument(tokenizer_path + " has " + std::to_string(tokenizer->vocab_size()) +
                                " tokens but " + model_path + " has a vocabulary of " +
                                std::to_string(config.vocab_size) +
                                ": wrong tokenizer for this model?");
  }

  const std::vector<int32_t> prompt_ids = encode_prompt(*tokenizer);
  if (static_cast<int64_t>(prompt_ids.size()) > model->max_seq_len()) {
    throw base::InvalidArgument("the prompt is " + std::to_string(prompt_ids.size()) +
                                " tokens, longer than --max_seq_len " +
                                std::to_string(model->max_seq_len()));
  }

  generate::GenerateOptions options;
  options.max_new_tokens = FLAGS_max_new_tokens;
  options.eos_token_ids = config.eos_token_ids;
  if (auto eos = tokenizer->eos_id()) options.eos_token_ids.push_back(*eos);

  options.tokenizer = tokenizer.get();
  options.stop_strings = stop_strings();
  const bool chat = FLAGS_chat_template != "none";
  options.text_continues_prompt = !chat;  // a chat reply stands alone

  const bool stream = FLAGS_output_format == "text";
  if (stream && !chat) {
    std::fputs(FLAGS_prompt.c_str(), stdout);
    std::fflush(stdout);
  }
  auto state = model->new_state();
  sampler::Sampler sampler(sampling);
  const generate::GenerateResult result = generate::generate(
      *model, *state, prompt_ids, options, sampler, [&](const generate::StreamPiece& piece) {
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
    std::fprintf(stderr,
                 "prompt tokens: %lld, generated tokens: %lld, stop: %s\n"
                 "time to first token: %.2f ms, prefill: %.1f tok/s, decode: %.1f tok/s\n",
                 static_cast<long long>(s.prompt_tokens),
                 static_cast<long long>(s.generated_tokens),
                 generate::stop_reason_name(result.stop_reason), s.time_to_first_token_s * 1e3,
                 s.prefill_tokens_per_s(), s.decode_tokens_per_s());
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
  gflags::SetUsageMessage("continue a prompt with a libinfer model\nusage: " + program +
                          " MODEL.bin TOKENIZER.json|tokenizer.model [--prompt TEXT] [flags]");
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

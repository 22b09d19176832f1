#include "cli_common.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "infer/base/error.h"
#include "infer/base/threads.h"
#include "infer/generate/generation.h"

DEFINE_int64(max_new_tokens, 256, "Stop after this many generated tokens");
DEFINE_int64(max_seq_len, 0, "Context length to allocate (0 = the model's maximum)");
DEFINE_int32(threads, 0, "CPU threads (0 = all cores)");
DEFINE_string(device, "cpu", "Device to run on: cpu or cuda");
DEFINE_bool(bf16_activations, false,
            "bf16 models on CPUs with AVX512_BF16: round activations to bf16 for twice the "
            "multiply rate of f32 (faster prompts, slightly less exact)");
DEFINE_string(chat_template, "none",
              "Chat format: auto (the template in tokenizer_config.json), a .jinja file or a "
              "tokenizer_config.json, or llama3, chatml, llama2, mistral; none = --prompt is "
              "plain text to continue (--chat uses auto)");
DEFINE_string(system, "", "System message of the chat (--chat or --chat_template)");
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

namespace infer::cli {

namespace {

std::vector<std::string> stop_strings_from_flags() {
  if (FLAGS_stop.empty()) return {};
  if (FLAGS_stop.front() != '[') return {FLAGS_stop};
  const auto list = nlohmann::json::parse(FLAGS_stop, nullptr, /*allow_exceptions=*/false);
  if (!list.is_array() || list.empty() ||
      !std::all_of(list.begin(), list.end(), [](const auto& s) { return s.is_string(); })) {
    // Not echoed whole: the flag may be long.
    throw base::InvalidArgument(
        "--stop: expected a string or a JSON array of strings, got " +
        (FLAGS_stop.size() <= 80 ? FLAGS_stop : FLAGS_stop.substr(0, 80) + "..."));
  }
  return list.get<std::vector<std::string>>();
}

}  // namespace

sampler::SamplingParams sampling_params_from_flags() {
  sampler::SamplingParams p;
  p.temperature = static_cast<float>(FLAGS_temperature);
  p.top_k = FLAGS_top_k;
  p.top_p = static_cast<float>(FLAGS_top_p);
  p.min_p = static_cast<float>(FLAGS_min_p);
  p.repetition_penalty = static_cast<float>(FLAGS_repetition_penalty);
  p.frequency_penalty = static_cast<float>(FLAGS_frequency_penalty);
  p.presence_penalty = static_cast<float>(FLAGS_presence_penalty);
  if (FLAGS_seed >= 0) p.seed = static_cast<uint64_t>(FLAGS_seed);
  p.validate();
  return p;
}

Loaded load_model_and_tokenizer(const std::string& model_path, const std::string& tokenizer_path) {
  if (FLAGS_max_new_tokens < 0) throw base::InvalidArgument("--max_new_tokens must be >= 0");
  if (FLAGS_threads < 0) throw base::InvalidArgument("--threads must be >= 0 (0 = all cores)");
  stop_strings_from_flags();  // a bad flag should not cost a model load
  base::set_num_threads(FLAGS_threads);
  Loaded loaded;
  loaded.tokenizer = tokenizer::Tokenizer::load(tokenizer_path);
  model::LoadOptions options;
  options.device = base::parse_device(FLAGS_device);
  options.max_seq_len = FLAGS_max_seq_len;
  options.bf16_activations = FLAGS_bf16_activations;
  loaded.model = model::Model::load(model_path, options);
  generate::check_tokenizer_fits(loaded.model->config(), *loaded.tokenizer, tokenizer_path,
                                 model_path);
  return loaded;
}

generate::GenerateOptions generate_options_from_flags(const model::Model& model,
                                                      const tokenizer::Tokenizer& tokenizer) {
  generate::GenerateOptions options;
  options.max_new_tokens = FLAGS_max_new_tokens;
  options.eos_token_ids = generate::default_eos_ids(model.config(), &tokenizer);
  options.tokenizer = &tokenizer;
  options.stop_strings = stop_strings_from_flags();
  return options;
}

void print_stats(const generate::GenerateResult& result) {
  const generate::GenerateStats& s = result.stats;
  std::fprintf(stderr, "prompt tokens: %lld", static_cast<long long>(s.prompt_tokens));
  if (s.reused_tokens > 0)
    std::fprintf(stderr, " (+%lld reused from the cache)", static_cast<long long>(s.reused_tokens));
  std::fprintf(stderr,
               ", generated tokens: %lld, stop: %s\n"
               "time to first token: %.2f ms, prefill: %.1f tok/s, decode: %.1f tok/s\n",
               static_cast<long long>(s.generated_tokens),
               generate::stop_reason_name(result.stop_reason), s.time_to_first_token_s * 1e3,
               s.prefill_tokens_per_s(), s.decode_tokens_per_s());
}

}  // namespace infer::cli

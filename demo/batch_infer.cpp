// batch_infer: a batch job over the Engine. Every prompt of a file (one per line, or JSONL
// objects with "prompt" or "messages") is submitted at once, the engine runs them together with
// continuous batching, and the replies are printed in input order, then the throughput.
//   batch_infer model.bin tokenizer.json prompts.txt --max_new_tokens 64
#include <gflags/gflags.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_common.h"
#include "infer/base/error.h"
#include "infer/engine/engine.h"
#include "infer/generate/chat_template.h"

DEFINE_string(input_format, "auto",
              "text: one prompt per line; jsonl: one JSON object per line with \"prompt\" (text) "
              "or \"messages\" (a chat), and optionally \"max_new_tokens\"; auto: jsonl for a "
              ".jsonl file, text otherwise");
DEFINE_string(output_format, "text",
              "text: each reply after a [N] header line; jsonl: one object per prompt with "
              "index, text, generated ids, token counts and stop reason");
DEFINE_int64(kv_cache_mib, 1024, "Memory for the KV cache pool shared by all requests");
DEFINE_int64(parallel, 32, "Requests generating at once; the rest wait their turn");
DEFINE_int64(step_tokens, 512, "Tokens one forward pass takes (decode tokens + prompt chunks)");

namespace {

using namespace infer;
using nlohmann::json;

struct Job {
  std::vector<int32_t> prompt;
  int64_t max_new_tokens;
  bool chat = false;  // a rendered conversation: the reply stands alone, not a continuation
};

std::string location(const std::string& path, size_t line) {
  return path + ":" + std::to_string(line);
}

// Reads the prompts file into token ids, refusing a bad line by file and line number.
std::vector<Job> read_jobs(const std::string& path, const tokenizer::Tokenizer& tokenizer) {
  std::ifstream in(path);
  if (!in) throw base::FileError(path + ": cannot open the prompts file");
  bool jsonl = FLAGS_input_format == "jsonl";
  if (FLAGS_input_format == "auto") {
    jsonl = path.size() >= 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0;
  } else if (FLAGS_input_format != "text" && !jsonl) {
    throw base::InvalidArgument("--input_format must be auto, text or jsonl, got '" +
                                FLAGS_input_format + "'");
  }
  const bool chat = FLAGS_chat_template != "none";
  std::optional<generate::ChatTemplate> chat_template;
  auto render = [&](const std::vector<generate::ChatMessage>& messages) {
    if (!chat_template)
      chat_template =
          generate::ChatTemplate::for_tokenizer(tokenizer, chat ? FLAGS_chat_template : "auto");
    return chat_template->encode(tokenizer, messages, /*add_generation_prompt=*/true);
  };
  std::vector<Job> jobs;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = location(path, number);
    Job job{{}, FLAGS_max_new_tokens, chat};
    std::vector<generate::ChatMessage> messages;
    if (!FLAGS_system.empty()) messages.push_back({"system", FLAGS_system});
    // A text prompt: a user turn with --chat_template, else text to continue.
    auto encode_text = [&](const std::string& text) {
      if (!chat) return tokenizer.encode(text);
      messages.push_back({"user", text});
      return render(messages);
    };
    if (!jsonl) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      job.prompt = encode_text(line);
    } else {
      const json object = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!object.is_object()) throw base::InvalidArgument(where + ": not a JSON object");
      try {
        if (object.contains("max_new_tokens"))
          job.max_new_tokens = object.at("max_new_tokens").get<int64_t>();
        if (object.contains("messages")) {
          for (const json& m : object.at("messages")) {
            messages.push_back(
                {m.at("role").get<std::string>(), m.at("content").get<std::string>()});
          }
          job.prompt = render(messages);
          job.chat = true;
        } else if (object.contains("prompt")) {
          job.prompt = encode_text(object.at("prompt").get<std::string>());
        } else {
          throw base::InvalidArgument("needs \"prompt\" or \"messages\"");
        }
      } catch (const json::exception& e) {
        throw base::InvalidArgument(where + ": " + e.what());
      } catch (const base::Error& e) {
        throw base::InvalidArgument(where + ": " + e.what());
      }
    }
    jobs.push_back(std::move(job));
  }
  if (jobs.empty()) throw base::InvalidArgument(path + ": no prompts in the file");
  return jobs;
}

int run(const std::string& model_path, const std::string& tokenizer_path,
        const std::string& prompts_path) {
  if (FLAGS_output_format != "text" && FLAGS_output_format != "jsonl") {
    throw base::InvalidArgument("--output_format must be text or jsonl, got '" +
                                FLAGS_output_format + "'");
  }
  const sampler::SamplingParams sampling = cli::sampling_params_from_flags();
  if (FLAGS_kv_cache_mib < 1) throw base::InvalidArgument("--kv_cache_mib must be >= 1");
  if (FLAGS_parallel < 1 || FLAGS_parallel > 4096)
    throw base::InvalidArgument("--parallel must be in [1, 4096]");
  if (FLAGS_step_tokens < 1) throw base::InvalidArgument("--step_tokens must be >= 1");
  if (FLAGS_max_new_tokens < 1) throw base::InvalidArgument("--max_new_tokens must be >= 1");
  engine::EngineOptions engine_options;
  engine_options.kv_cache_mib = FLAGS_kv_cache_mib;
  engine_options.max_running = FLAGS_parallel;
  engine_options.step_tokens = FLAGS_step_tokens;
  const cli::Loaded loaded = cli::load_model_and_tokenizer(model_path, tokenizer_path);
  const std::vector<Job> jobs = read_jobs(prompts_path, *loaded.tokenizer);
  const generate::GenerateOptions options =
      cli::generate_options_from_flags(*loaded.model, *loaded.tokenizer);

  // Declared before the engine: its destructor reports requests still queued to on_done.
  std::vector<std::promise<engine::Outcome>> done(jobs.size());
  engine::Engine engine(*loaded.model, loaded.tokenizer.get(), engine_options);
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < jobs.size(); ++i) {
    engine::Request request;
    request.prompt = jobs[i].prompt;
    request.options = options;
    request.options.max_new_tokens = jobs[i].max_new_tokens;
    request.options.text_continues_prompt = !jobs[i].chat;
    request.sampling = sampling;
    // A fixed --seed gives every prompt its own, reproducible stream.
    if (sampling.seed) request.sampling.seed = *sampling.seed + i;
    try {
      engine.submit(std::move(request), nullptr,
                    [&done, i](const engine::Outcome& o) { done[i].set_value(o); });
    } catch (const base::Error& e) {
      throw base::InvalidArgument("prompt " + std::to_string(i + 1) + ": " + e.what());
    }
  }
  std::vector<engine::Outcome> outcomes;
  for (auto& d : done) outcomes.push_back(d.get_future().get());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  int status = 0;
  int64_t generated = 0;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const engine::Outcome& o = outcomes[i];
    generated += o.result.stats.generated_tokens;
    if (!o.error.empty()) {
      std::fprintf(stderr, "batch_infer: error: prompt %zu: %s\n", i + 1, o.error.c_str());
      status = 1;
    }
    if (FLAGS_output_format == "jsonl") {
      const json line = {{"index", i + 1},
                         {"text", o.result.text},
                         {"ids", o.result.tokens},
                         {"prompt_tokens", o.result.stats.prompt_tokens},
                         {"generated_tokens", o.result.stats.generated_tokens},
                         {"stop", generate::stop_reason_name(o.result.stop_reason)}};
      std::printf("%s\n", line.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    } else {
      std::printf("[%zu]\n%s\n\n", i + 1, o.result.text.c_str());
    }
  }
  const engine::EngineStats stats = engine.stats();
  std::fprintf(stderr,
               "requests: %zu, prompt tokens: %lld (%lld from the prefix cache), generated "
               "tokens: %lld\nwall time: %.2f s, throughput: %.1f generated tok/s, %.2f "
               "requests/s, %lld forward passes\n",
               outcomes.size(), static_cast<long long>(stats.prompt_tokens),
               static_cast<long long>(stats.reused_tokens), static_cast<long long>(generated),
               seconds, static_cast<double>(generated) / seconds,
               static_cast<double>(outcomes.size()) / seconds, static_cast<long long>(stats.steps));
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "batch_infer MODEL.bin TOKENIZER PROMPTS_FILE [flags]\n"
      "Runs every prompt of PROMPTS_FILE through the engine at once; replies in input order.");
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);
  if (argc != 4) {
    std::fprintf(stderr,
                 "batch_infer: error: usage: batch_infer MODEL.bin TOKENIZER PROMPTS_FILE "
                 "[flags] (--help for the flags)\n");
    return 1;
  }
  try {
    return run(argv[1], argv[2], argv[3]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "batch_infer: error: %s\n", e.what());
    return 1;
  }
}

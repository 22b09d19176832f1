// infer_server: an OpenAI-compatible HTTP server over the Engine.
//   infer_server MODEL.bin TOKENIZER [--host 127.0.0.1] [--port 8080] [--api_key KEY] ...
#include <gflags/gflags.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include <unistd.h>

#include "infer/base/error.h"
#include "infer/base/threads.h"
#include "infer/engine/engine.h"
#include "infer/generate/chat_template.h"
#include "infer/generate/generation.h"
#include "infer/model/model.h"
#include "infer/tokenizer/tokenizer.h"
#include "server/http_server.h"

DEFINE_string(host, "127.0.0.1", "Address to listen on (0.0.0.0: every interface)");
DEFINE_int32(port, 8080, "Port to listen on (0: any free port, printed at start)");
DEFINE_string(api_key, "",
              "When set, requests need 'Authorization: Bearer KEY' (/health excepted)");
DEFINE_int64(parallel, 8, "Requests generating at once; more wait in order");
DEFINE_int64(kv_cache_mib, 1024, "Memory of the KV cache pool shared by all requests");
DEFINE_int64(step_tokens, 64, "Tokens one forward pass takes (decode rows + prompt chunks)");
DEFINE_int32(threads, 0, "CPU threads (0 = all cores)");
DEFINE_string(device, "cpu", "Device to run on: cpu or cuda");
DEFINE_int64(max_seq_len, 0, "Context length per request (0 = the model's maximum)");
DEFINE_string(
    chat_template, "auto",
    "Chat format: auto (the tokenizer's own template), a .jinja file or a "
    "tokenizer_config.json, llama3, chatml, llama2, mistral, or none (chat endpoint off)");
DEFINE_string(model_name, "", "Model id in /v1/models and replies (default: the file's name)");
DEFINE_string(cors_origin, "", "Allow browsers from this origin to call the API");
DEFINE_int64(default_max_tokens, 1024, "Reply budget of requests that give no max_tokens");
DEFINE_string(session_dir, "",
              "Folder where /v1/sessions/{id}/save writes and /v1/sessions/load reads sessions "
              "(made if missing; empty: saving is off)");
DEFINE_int64(session_idle_s, 3600,
             "Sessions unused this many seconds are dropped (save to keep one)");

namespace {

using namespace infer;

std::optional<generate::ChatTemplate> chat_template(const tokenizer::Tokenizer& tokenizer) {
  if (FLAGS_chat_template == "none") return std::nullopt;
  return generate::ChatTemplate::for_tokenizer(tokenizer, FLAGS_chat_template);
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "an OpenAI-compatible HTTP server\n"
      "  infer_server MODEL.bin TOKENIZER [--host 127.0.0.1] [--port 8080] [--api_key KEY]\n"
      "  [--parallel N] [--kv_cache_mib M] [--threads T] [--device cpu|cuda] [--cors_origin O]\n"
      "  [--session_dir DIR]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s\n", gflags::ProgramUsage());
    return 2;
  }
  // SIGINT and SIGTERM go to one thread that stops the server; every other thread (the engine's,
  // the HTTP workers) inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  try {
    base::set_num_threads(FLAGS_threads);
    server::ServerOptions options;
    options.model_name = FLAGS_model_name.empty() ? std::filesystem::path(argv[1]).stem().string()
                                                  : FLAGS_model_name;
    options.api_key = FLAGS_api_key;
    options.cors_origin = FLAGS_cors_origin;
    options.default_max_tokens = FLAGS_default_max_tokens;
    // Each open reply holds an HTTP worker while it waits its turn in the Engine, so there are
    // enough for many more clients than run at once: they queue in the Engine, not at accept.
    options.threads = static_cast<int>(std::max<int64_t>(64, 8 * FLAGS_parallel + 16));
    if (FLAGS_session_idle_s < 1) {
      throw base::InvalidArgument("--session_idle_s must be >= 1, got " +
                                  std::to_string(FLAGS_session_idle_s));
    }
    options.sessions.idle_timeout = std::chrono::seconds(FLAGS_session_idle_s);
    if (!FLAGS_session_dir.empty()) {
      std::error_code error;
      std::filesystem::create_directories(FLAGS_session_dir, error);
      if (!std::filesystem::is_directory(FLAGS_session_dir) ||
          ::access(FLAGS_session_dir.c_str(), W_OK) != 0) {
        throw base::InvalidArgument("--session_dir " + FLAGS_session_dir +
                                    " is not a folder this process can write");
      }
      options.sessions.dir = FLAGS_session_dir;
    }
    // Listening starts before the model loads, so that /health can say 503 meanwhile.
    server::HttpServer http(options);
    const int port = http.bind(FLAGS_host, FLAGS_port);
    if (port < 0) {
      throw base::InvalidArgument("cannot listen on " + FLAGS_host + ":" +
                                  std::to_string(FLAGS_port) + " (in use, or not an address here)");
    }
    std::fprintf(stderr, "infer_server: serving %s on http://%s:%d\n", options.model_name.c_str(),
                 FLAGS_host.c_str(), port);
    std::fflush(stderr);
    bool served = true;
    std::thread serving([&] { served = http.serve(); });
    std::thread stopper([&] {
      int signal = 0;
      sigwait(&signals, &signal);
      std::fprintf(stderr, "infer_server: stopping (signal %d)\n", signal);
      http.stop();
    });
    stopper.detach();

    std::unique_ptr<tokenizer::Tokenizer> tokenizer;
    std::unique_ptr<model::Model> model;
    std::unique_ptr<engine::Engine> engine;
    try {
      tokenizer = tokenizer::Tokenizer::load(argv[2]);
      model::LoadOptions load;
      load.device = base::parse_device(FLAGS_device);
      load.max_seq_len = FLAGS_max_seq_len;
      model = model::Model::load(argv[1], load);
      generate::check_tokenizer_fits(model->config(), *tokenizer, argv[2], argv[1]);
      engine::EngineOptions engine_options;
      engine_options.max_running = FLAGS_parallel;
      engine_options.kv_cache_mib = FLAGS_kv_cache_mib;
      engine_options.step_tokens = FLAGS_step_tokens;
      engine = std::make_unique<engine::Engine>(*model, tokenizer.get(), engine_options);
      http.serve_model(*engine, *tokenizer, chat_template(*tokenizer));
    } catch (...) {
      http.stop();
      serving.join();
      throw;
    }
    std::fprintf(stderr, "infer_server: ready\n");
    std::fflush(stderr);
    serving.join();
    // The HTTP workers are gone; the engine ends whatever still runs before the model goes.
    engine.reset();
    if (!served) throw base::InvalidArgument("the listening socket failed");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "infer_server: error: %s\n", e.what());
    return 1;
  }
}

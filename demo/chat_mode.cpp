#include "chat_mode.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include "cli_common.h"
#include "infer/base/error.h"
#include "infer/generate/session.h"

namespace infer::cli {

namespace {

// Ctrl-C while a reply is generated cancels the reply; at the prompt it quits as usual.
std::atomic<bool> generating{false};
std::atomic<bool> cancel_reply{false};

void on_interrupt(int) {
  if (generating.load()) {
    cancel_reply.store(true);
    return;
  }
  const char newline = '\n';
  (void)!write(STDOUT_FILENO, &newline, 1);
  _exit(130);
}

constexpr const char* kHelp =
    "commands:\n"
    "  /history       the conversation so far, turn by turn\n"
    "  /rollback N    go back to right after turn N (0 = the start)\n"
    "  /reset         start over (the system message stays)\n"
    "  /save FILE     write the session (conversation and KV cache) to FILE\n"
    "  /load FILE     continue a session saved with this model\n"
    "  /stats         tokens in the cache and the speed of the last reply\n"
    "  /help          this list\n"
    "  /quit          leave (or Ctrl-D); Ctrl-C stops a reply being written\n";

class ChatLoop {
 public:
  ChatLoop(const model::Model& model, const tokenizer::Tokenizer& tokenizer)
      : session_(model, tokenizer,
                 generate::ChatTemplate::for_tokenizer(
                     tokenizer, FLAGS_chat_template == "none" ? "auto" : FLAGS_chat_template),
                 FLAGS_system),
        sampler_(sampling_params_from_flags()),
        options_(generate_options_from_flags(model, tokenizer)) {}

  int run() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    const bool interactive = isatty(STDIN_FILENO);
    std::fprintf(stderr,
                 "chat (context %lld tokens): type a message; /help lists commands; Ctrl-C stops "
                 "a reply, Ctrl-D quits\n",
                 static_cast<long long>(session_.context_capacity()));
    std::string line;
    while (true) {
      if (interactive) {
        std::fputs("> ", stdout);
        std::fflush(stdout);
      }
      if (!std::getline(std::cin, line)) break;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      try {
        if (line.front() == '/') {
          if (!command(line)) break;
        } else {
          reply(line);
        }
      } catch (const std::exception& e) {
        // Whatever one command or reply runs into (a bad file, memory), the conversation so far
        // is kept.
        generating.store(false);
        std::fprintf(stderr, "error: %s\n", e.what());
      }
    }
    return 0;
  }

 private:
  void reply(const std::string& message) {
    cancel_reply.store(false);
    generating.store(true);
    last_ = session_.reply(message, options_, sampler_, [](const generate::StreamPiece& piece) {
      std::fputs(piece.text.c_str(), stdout);
      std::fflush(stdout);
      return !cancel_reply.load();
    });
    generating.store(false);
    std::fputs("\n", stdout);
    std::fflush(stdout);
    print_stats(*last_);
  }

  // Runs one /command; false means quit.
  bool command(const std::string& line) {
    std::istringstream words(line);
    std::string name, argument, extra;
    words >> name >> argument >> extra;
    const auto needs_argument = [&](const char* usage) {
      if (argument.empty() || !extra.empty())
        throw base::InvalidArgument(std::string("usage: ") + usage);
    };
    if (name == "/quit" || name == "/exit") return false;
    if (name == "/help") {
      std::fputs(kHelp, stdout);
    } else if (name == "/reset") {
      session_.reset();
      std::printf("session reset\n");
    } else if (name == "/rollback") {
      needs_argument("/rollback N");
      size_t used = 0;
      int64_t turn = -1;
      try {
        turn = std::stoll(argument, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != argument.size())
        throw base::InvalidArgument("/rollback: '" + argument + "' is not a turn number");
      session_.rollback(turn);
      std::printf("rolled back to turn %lld (%zu tokens in the cache)\n",
                  static_cast<long long>(turn), session_.cached_tokens().size());
    } else if (name == "/history") {
      history();
    } else if (name == "/save") {
      needs_argument("/save FILE");
      session_.save(argument);
      std::printf("saved %lld turns to %s\n", static_cast<long long>(session_.turns()),
                  argument.c_str());
    } else if (name == "/load") {
      needs_argument("/load FILE");
      session_.load(argument);
      std::printf("loaded %lld turns from %s\n", static_cast<long long>(session_.turns()),
                  argument.c_str());
    } else if (name == "/stats") {
      std::printf("tokens in cache: %zu of %lld, turns: %lld\n", session_.cached_tokens().size(),
                  static_cast<long long>(session_.context_capacity()),
                  static_cast<long long>(session_.turns()));
      if (last_) {
        std::printf("last reply: %lld tokens, %.1f tok/s, stop: %s\n",
                    static_cast<long long>(last_->stats.generated_tokens),
                    last_->stats.decode_tokens_per_s(),
                    generate::stop_reason_name(last_->stop_reason));
      }
    } else {
      throw base::InvalidArgument("unknown command " + name + " (/help lists them)");
    }
    std::fflush(stdout);
    return true;
  }

  void history() const {
    int64_t turn = 0;
    for (const generate::ChatMessage& m : session_.messages()) {
      if (m.role == "user") ++turn;
      if (m.role == "system") {
        std::printf("system: %s\n", m.content.c_str());
      } else {
        std::printf("[%lld] %s: %s\n", static_cast<long long>(turn), m.role.c_str(),
                    m.content.c_str());
      }
    }
  }

  generate::Session session_;
  sampler::Sampler sampler_;
  generate::GenerateOptions options_;
  std::optional<generate::GenerateResult> last_;
};

}  // namespace

int run_chat(const model::Model& model, const tokenizer::Tokenizer& tokenizer) {
  return ChatLoop(model, tokenizer).run();
}

}  // namespace infer::cli

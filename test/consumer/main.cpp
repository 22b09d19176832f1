// The library in a user's app (built against the installed package): one model shared by two
// chat sessions, a streamed reply, and a rollback; then the Engine serving two threads at once.
// Exits 1 if the library misbehaves.
//   consumer MODEL.bin TOKENIZER.json
#include <cstdio>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include "infer/engine/engine.h"
#include "infer/generate/session.h"

using namespace infer;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: consumer MODEL.bin TOKENIZER.json\n");
    return 2;
  }
  try {
    const auto model = model::Model::load(argv[1]);  // weights mmap'd once, shared
    const auto tokenizer = tokenizer::Tokenizer::load(argv[2]);
    // The model's own template when its tokenizer_config.json has one, else ChatML.
    const auto chat = generate::ChatTemplate::for_tokenizer(
        *tokenizer, tokenizer->chat_template() ? "auto" : "chatml");
    generate::Session alice(*model, *tokenizer, chat, "Be brief.");
    generate::Session bob(*model, *tokenizer, chat);  // its own KV cache, same weights

    generate::GenerateOptions options;
    options.max_new_tokens = 24;  // end-of-turn ids: the model's and tokenizer's by default
    sampler::Sampler greedy;      // SamplingParams{} = argmax
    const auto stream = [](const generate::StreamPiece& piece) {
      std::fputs(piece.text.c_str(), stdout);  // complete UTF-8 as soon as it is known
      std::fflush(stdout);
      return true;  // false would cancel the reply
    };

    std::printf("alice> ");
    const auto first = alice.reply("What is the capital of France?", options, greedy, stream);
    std::printf("\nalice> ");
    alice.reply("And of Italy?", options, greedy, stream);
    std::printf("\nbob> ");
    bob.reply("Tell me a joke.", options, greedy, stream);
    std::printf("\n");

    alice.rollback(1);  // back to right after the first answer: the cache is only shortened
    const auto again = alice.reply("And of Italy?", options, greedy);
    std::printf("alice, after /rollback 1: %s\n(%lld prompt tokens run, %lld reused)\n",
                again.text.c_str(), static_cast<long long>(again.stats.prompt_tokens),
                static_cast<long long>(again.stats.reused_tokens));

    // Many users at once: one Engine batches every request into shared forward passes.
    engine::Engine engine(*model, tokenizer.get());
    std::mutex print;
    auto ask = [&](const char* who, const std::string& question, bool& ok) {
      engine::Request request;
      request.prompt =
          chat.encode(*tokenizer, {{"user", question}}, /*add_generation_prompt=*/true);
      request.options.max_new_tokens = 24;  // greedy, end-of-turn ids by default
      std::string streamed;
      const engine::Outcome outcome =
          engine.run(request, [&](const generate::StreamPiece& piece) { streamed += piece.text; });
      std::lock_guard<std::mutex> lock(print);
      std::printf("%s (engine)> %s\n", who, outcome.result.text.c_str());
      ok = outcome.error.empty() && !outcome.result.tokens.empty() &&
           streamed == outcome.result.text;
    };
    bool carol_ok = false, dave_ok = false;
    std::thread carol([&] { ask("carol", "Name a colour.", carol_ok); });
    std::thread dave([&] { ask("dave", "Name a fruit.", dave_ok); });
    carol.join();
    dave.join();

    const bool ok = !first.tokens.empty() && again.stats.reused_tokens > 0 && alice.turns() == 2 &&
                    bob.turns() == 1 && carol_ok && dave_ok;
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: error: %s\n", e.what());
    return 1;
  }
}

// libFuzzer target for the server's request bodies: the input is a POST body, parsed as
// infer_server parses it and read as a chat completion, a completion, a new session and a
// session message (with the story tokenizer, $INFER_FUZZ_TOKENIZER, and the ChatML template).
// Every body must end in a request or an ApiError / base::Error, as the server answers them.
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_common.h"
#include "server/api_error.h"
#include "server/openai_request.h"
#include "server/session_store.h"

namespace {

using namespace infer;
using json = nlohmann::ordered_json;

const tokenizer::Tokenizer& the_tokenizer() {
  static const auto t = tokenizer::Tokenizer::load(fuzz::required_env("INFER_FUZZ_TOKENIZER"));
  return *t;
}

template <typename F>
void answer(F&& f) {
  try {
    f();
  } catch (const server::ApiError&) {
  } catch (const base::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const generate::ChatTemplate chat =
      generate::ChatTemplate::for_tokenizer(the_tokenizer(), "chatml");
  server::RequestLimits limits;
  limits.context = 512;
  limits.default_max_tokens = 16;
  const auto check_settings = [&](const json& settings) {
    json body = settings;
    body["messages"] = json::array({{{"role", "user"}, {"content", "hi"}}});
    server::parse_chat_request(body, the_tokenizer(), chat, limits);
  };
  server::SessionStore sessions({}, check_settings);
  answer([&] {
    const json body =
        server::parse_request_body(std::string(reinterpret_cast<const char*>(data), size));
    answer([&] { server::parse_chat_request(body, the_tokenizer(), chat, limits); });
    answer([&] { server::parse_completion_request(body, the_tokenizer(), limits); });
    answer([&] {
      const json created = sessions.create(body);
      const std::string id = created.at("id").get<std::string>();
      answer([&] { check_settings(sessions.begin_message(id, body)); });
      answer([&] { sessions.rollback(id, body); });
    });
  });
  return 0;
}

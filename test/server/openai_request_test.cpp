// The OpenAI request layer of infer_server: fields checked and turned into Engine requests,
// errors naming the field, and the response and SSE framing.
#include <gtest/gtest.h>

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "infer/tokenizer/tokenizer.h"
#include "server/api_error.h"
#include "server/http_server.h"
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "test_data.h"

namespace infer::server {
namespace {

using json = nlohmann::ordered_json;

class OpenAiRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = test::shared_data_dir() + "/tokenizers/qwen/tokenizer.json";
    INFER_SKIP_UNLESS_FILE(path);
    tokenizer_ = tokenizer::Tokenizer::load(path);
    chat_.emplace(generate::ChatTemplate::named("chatml", {}));
    limits_.context = 64;
    limits_.default_max_tokens = 1000;
  }

  // The ApiError `body` gets, or fails the test.
  ApiError error_of(const json& body, bool chat = true) {
    try {
      if (chat) {
        parse_chat_request(body, *tokenizer_, *chat_, limits_);
      } else {
        parse_completion_request(body, *tokenizer_, limits_);
      }
    } catch (const ApiError& e) {
      return e;
    }
    ADD_FAILURE() << "accepted: " << body.dump();
    return ApiError(0, "", "");
  }

  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  std::optional<generate::ChatTemplate> chat_;
  RequestLimits limits_;
};

TEST_F(OpenAiRequestTest, ChatFieldsBecomeTheEngineRequest) {
  const json body = {{"model", "m"},
                     {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                     {"max_completion_tokens", 7},
                     {"temperature", 0.5},
                     {"top_p", 0.9},
                     {"top_k", 40},
                     {"seed", 3},
                     {"stop", "\n"},
                     {"stream", true},
                     {"stream_options", {{"include_usage", true}}},
                     {"user", "ignored"},
                     {"ignore_eos", true},
                     {"unknown_field", {1, 2}}};
  const ParsedRequest p = parse_chat_request(body, *tokenizer_, *chat_, limits_);
  EXPECT_EQ(p.request.prompt,
            chat_->encode(*tokenizer_, {{"user", "hi"}}, /*add_generation_prompt=*/true));
  EXPECT_EQ(p.request.options.max_new_tokens, 7);
  EXPECT_FLOAT_EQ(p.request.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(p.request.sampling.top_p, 0.9f);
  EXPECT_EQ(p.request.sampling.top_k, 40);
  EXPECT_EQ(p.request.sampling.seed, 3u);
  EXPECT_EQ(p.request.options.stop_strings, std::vector<std::string>{"\n"});
  EXPECT_TRUE(p.stream && p.include_usage && p.chat);
  EXPECT_EQ(p.model, "m");
  EXPECT_TRUE(p.request.options.ignore_eos);
  // Content as text parts; no budget: the default, capped by what the context leaves.
  const ParsedRequest parts = parse_chat_request(
      {{"messages", {{{"role", "user"}, {"content", {{{"type", "text"}, {"text", "hi"}}}}}}}},
      *tokenizer_, *chat_, limits_);
  EXPECT_EQ(parts.request.prompt, p.request.prompt);
  EXPECT_EQ(parts.request.options.max_new_tokens,
            limits_.context - static_cast<int64_t>(p.request.prompt.size()));
}

TEST_F(OpenAiRequestTest, ErrorsNameTheField) {
  const json hi = {{{"role", "user"}, {"content", "hi"}}};
  EXPECT_EQ(error_of(json::array()).param, "");
  EXPECT_EQ(error_of({{"messages", json::array()}}).param, "messages");
  EXPECT_EQ(error_of({{"messages", {{{"content", "x"}}}}}).param, "messages[0]");
  EXPECT_EQ(error_of({{"messages", {{{"role", "user"}, {"content", 5}}}}}).param,
            "messages[0].content");
  EXPECT_EQ(error_of({{"messages", {{{"role", "wizard"}, {"content", "x"}}}}}).param,
            "messages[0].role");
  // A content part whose "type" is no string (found by the http_request fuzzer).
  const json odd_part = {{"type", {{"name", "add"}}}, {"text", "x"}};
  EXPECT_EQ(error_of({{"messages", {{{"role", "user"}, {"content", {odd_part}}}}}}).param,
            "messages[0].content");
  EXPECT_EQ(error_of({{"messages", hi}, {"temperature", "hot"}}).param, "temperature");
  EXPECT_EQ(error_of({{"messages", hi}, {"temperature", 2.5}}).param, "temperature");
  EXPECT_EQ(error_of({{"messages", hi}, {"top_p", 0}}).param, "top_p");
  EXPECT_EQ(error_of({{"messages", hi}, {"seed", -1}}).param, "seed");
  EXPECT_EQ(error_of({{"messages", hi}, {"n", 3}}).param, "n");
  EXPECT_EQ(error_of({{"messages", hi}, {"stop", {"a", ""}}}).param, "stop");
  EXPECT_EQ(error_of({{"messages", hi}, {"max_tokens", 0}}).param, "max_completion_tokens");
  EXPECT_EQ(error_of({{"messages", hi}, {"stream_options", {{"include_usage", true}}}}).param,
            "stream_options");
  EXPECT_EQ(error_of({{"messages", hi}, {"logprobs", 1}}).param, "logprobs");
  EXPECT_EQ(error_of({{"messages", hi}, {"top_logprobs", 2}}).param, "top_logprobs");
  EXPECT_EQ(error_of({{"messages", hi}, {"logprobs", true}, {"top_logprobs", 21}}).param,
            "top_logprobs");
  EXPECT_EQ(error_of({{"prompt", "x"}, {"logprobs", true}}, false).param, "logprobs");
  EXPECT_EQ(error_of({{"prompt", "x"}, {"logprobs", -1}}, false).param, "logprobs");
  EXPECT_EQ(error_of({{"prompt", {1, -5}}}, false).param, "prompt");
  EXPECT_EQ(error_of({{"prompt", ""}}, false).param, "prompt");
  std::string words;
  for (int i = 0; i < 100; ++i) words += " w" + std::to_string(i);
  const ApiError too_long = error_of({{"prompt", words}}, false);
  EXPECT_EQ(too_long.code, "exceed_context_size_error");
  EXPECT_EQ(too_long.body()["error"]["n_ctx"], 64);
  EXPECT_EQ(too_long.status, 400);
}

TEST_F(OpenAiRequestTest, LogprobsAreAskedForAsEachApiDoes) {
  const json hi = {{{"role", "user"}, {"content", "hi"}}};
  auto chat_top = [&](const json& extra) {
    json body = {{"messages", hi}};
    body.update(extra);
    return parse_chat_request(body, *tokenizer_, *chat_, limits_).request.options.top_logprobs;
  };
  EXPECT_EQ(chat_top(json::object()), -1);
  EXPECT_EQ(chat_top({{"logprobs", false}}), -1);
  EXPECT_EQ(chat_top({{"logprobs", true}}), 0);
  EXPECT_EQ(chat_top({{"logprobs", true}, {"top_logprobs", 5}}), 5);
  EXPECT_EQ(chat_top({{"logprobs", nullptr}, {"top_logprobs", nullptr}}), -1);
  const ParsedRequest completion =
      parse_completion_request({{"prompt", "x"}, {"logprobs", 3}}, *tokenizer_, limits_);
  EXPECT_EQ(completion.request.options.top_logprobs, 3);
}

TEST_F(OpenAiRequestTest, LogprobsInBothFormats) {
  const int32_t a = tokenizer_->encode("Hello")[0], b = tokenizer_->encode(" world")[0];
  std::vector<generate::PieceLogprobs> entries(2);
  entries[0] = {{a, -0.25f}, {{a, -0.25f}, {b, -2.0f}}};
  entries[1] = {{b, -1.5f}, {{a, -0.5f}, {b, -1.5f}}};
  int64_t offset = 0;
  const json chat = logprobs_json(true, entries, *tokenizer_, offset);
  ASSERT_EQ(chat["content"].size(), 2u);
  EXPECT_EQ(chat["content"][1]["token"], " world");
  EXPECT_EQ(chat["content"][1]["logprob"], -1.5);
  EXPECT_EQ(chat["content"][1]["bytes"], (json{32, 119, 111, 114, 108, 100}));
  EXPECT_EQ(chat["content"][0]["top_logprobs"][1]["token"], " world");
  const json legacy = logprobs_json(false, entries, *tokenizer_, offset);
  EXPECT_EQ(legacy["tokens"], (json{"Hello", " world"}));
  EXPECT_EQ(legacy["token_logprobs"], (json{-0.25, -1.5}));
  EXPECT_EQ(legacy["top_logprobs"][1], (json{{"Hello", -0.5}, {" world", -1.5}}));
  EXPECT_EQ(legacy["text_offset"], (json{0, 5}));
  EXPECT_EQ(offset, 11);
  // A reply that ended on its end-of-sequence token does not show that token.
  EXPECT_EQ(shown_logprobs(entries, generate::StopReason::kEos).size(), 1u);
  EXPECT_EQ(shown_logprobs(entries, generate::StopReason::kLength).size(), 2u);
}

TEST_F(OpenAiRequestTest, ATemplatesRefusalIsA400WithItsOwnMessage) {
  const auto llama2 = generate::ChatTemplate::named("llama2", {"<s>", "</s>"});
  const json body = {
      {"messages", {{{"role", "user"}, {"content", "a"}}, {{"role", "user"}, {"content", "b"}}}}};
  try {
    parse_chat_request(body, *tokenizer_, llama2, limits_);
    ADD_FAILURE() << "accepted";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.param, "messages");
    EXPECT_NE(std::string(e.what()).find(
                  "Conversation roles must alternate user/assistant/user/assistant/..."),
              std::string::npos)
        << e.what();
  }
}

TEST_F(OpenAiRequestTest, ToolsAndToolCallsReachTheTemplateInTheirOrder) {
  const auto chat = generate::ChatTemplate::from_jinja(
      "{{ tools | tojson }}|{% for m in messages %}{{ m.role }}:{{ m.content }}"
      "{% if m.tool_calls %}{{ m.tool_calls[0].function.arguments | tojson }}{% endif %}"
      "{% if m.tool_call_id %}#{{ m.tool_call_id }}{% endif %};{% endfor %}",
      {});
  const json body = json::parse(R"({"messages": [
      {"role": "user", "content": "weather?"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
        "function": {"name": "w", "arguments": "{\"zeta\": 1, \"alpha\": 2}"}}]},
      {"role": "tool", "tool_call_id": "c1", "content": "sunny"}],
    "tools": [{"type": "function", "function": {"name": "w", "parameters": {"type": "object"}}}]})");
  RequestLimits limits = limits_;
  limits.context = 1000;
  const ParsedRequest p = parse_chat_request(body, *tokenizer_, chat, limits);
  // Keys in the order the client sent them (HF's tojson keeps order), arguments as an object.
  EXPECT_EQ(tokenizer_->decode(p.request.prompt, false),
            R"([{"type": "function", "function": {"name": "w", "parameters": {"type": "object"}}}])"
            R"(|user:weather?;assistant:{"zeta": 1, "alpha": 2};tool:sunny#c1;)");
  json bad = body;
  bad["messages"][1]["tool_calls"][0]["function"]["arguments"] = "{not json";
  EXPECT_EQ(error_of(bad).param, "messages[1].tool_calls");
  bad = body;
  bad["tools"] = "all of them";
  EXPECT_EQ(error_of(bad).param, "tools");
}

TEST(OpenAiResponseTest, StreamFraming) {
  ResponseHead head{"chatcmpl-1", 5, "m", true};
  const json first = completion_chunk(head, "", /*first=*/true);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"], (json{{"role", "assistant"}, {"content", ""}}));
  const json last = completion_chunk(head, "", false, "stop");
  EXPECT_EQ(last["choices"][0]["delta"], json::object());
  EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(sse_event(json{{"a", 1}}), "data: {\"a\":1}\n\n");
  generate::GenerateStats stats;
  stats.prompt_tokens = 3;
  stats.generated_tokens = 4;
  stats.reused_tokens = 2;
  const json usage = usage_chunk(head, stats)["usage"];
  EXPECT_EQ(usage["total_tokens"], 7);
  EXPECT_EQ(usage["prompt_tokens_details"]["cached_tokens"], 2);
  head.chat = false;
  EXPECT_EQ(completion_chunk(head, "x", false)["choices"][0]["text"], "x");
}

TEST(HttpServerTest, AnswersUnavailableUntilTheModelIsLoaded) {
  ServerOptions options;
  options.threads = 2;
  HttpServer server(options);
  const int port = server.bind("127.0.0.1", 0);
  ASSERT_GT(port, 0);
  std::thread serving([&] { server.serve(); });
  httplib::Client client("127.0.0.1", port);
  for (const char* path : {"/health", "/v1/models"}) {
    httplib::Result result = client.Get(path);
    for (int tries = 0; !result && tries < 100; ++tries) {  // until the listener runs
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      result = client.Get(path);
    }
    ASSERT_TRUE(result) << path;
    EXPECT_EQ(result->status, 503) << path;
    EXPECT_EQ(json::parse(result->body)["error"]["type"], "unavailable_error") << path;
  }
  server.stop();
  serving.join();
}

}  // namespace
}  // namespace infer::server

// Built-in chat templates against HF apply_chat_template(add_generation_prompt=True) ids
// (test/data/chat_goldens.json, made by hf_infer/make_chat_goldens.py), for every tokenizer in
// the shared data whose config has a template, and SmolLM2's rebuilt from its GGUF.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "infer/base/error.h"
#include "infer/generate/chat_template.h"
#include "infer/tokenizer/tokenizer.h"
#include "test_data.h"

namespace infer {
namespace {

using nlohmann::json;

class ChatTemplateTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ChatTemplateTest, RendersExactlyHfIds) {
  const json golden = json::parse(
      test::read_file(test::golden_dir() + "/chat_goldens.json"))["tokenizers"][GetParam()];
  const std::string path = test::golden_file_path(golden["file"].get<std::string>());
  INFER_SKIP_UNLESS_FILE(path);
  auto tokenizer = tokenizer::Tokenizer::load(path);
  ASSERT_TRUE(tokenizer->chat_template().has_value());
  const std::string bos =
      tokenizer->bos_id() ? tokenizer->decode({*tokenizer->bos_id()}, false) : "";
  const auto chat = generate::ChatTemplate::detect(*tokenizer->chat_template(), bos);
  tokenizer::EncodeOptions options;
  options.add_special_tokens = false;
  options.parse_special = true;
  for (const json& c : golden["cases"]) {
    std::vector<generate::ChatMessage> messages;
    for (const json& m : c["messages"]) messages.push_back({m["role"], m["content"]});
    const std::string text = chat.render(messages, /*add_generation_prompt=*/true);
    EXPECT_EQ(tokenizer->encode(text, options), c["ids"].get<std::vector<int32_t>>())
        << chat.name() << " " << c["messages"].dump() << "\nrendered: " << json(text).dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Hf, ChatTemplateTest,
                         ::testing::Values("llama3", "qwen", "mistral-spm", "smollm2"),
                         test::ParamName());

TEST(ChatTemplate, RefusesWhatItCannotRender) {
  EXPECT_THROW(generate::ChatTemplate::detect("{{ messages }} [INST]", "<s>"), base::Unsupported);
  EXPECT_THROW(generate::ChatTemplate::named("vicuna", ""), base::InvalidArgument);
  const auto chatml = generate::ChatTemplate::named("chatml", "");
  EXPECT_THROW(chatml.render({{"robot", "hi"}}, true), base::InvalidArgument);
  EXPECT_EQ(chatml.render({{"user", "hi"}}, true),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplate, ReadsADefaultSystemPromptWrittenWithEscapedNewlines) {
  // Qwen2.5's style: the default system prompt is a Jinja string literal with \n escapes.
  const std::string jinja =
      R"({%- if messages[0]['role'] != 'system' %}{{- '<|im_start|>system\nYou are Qwen.<|im_end|>\n' }}{%- endif %})"
      R"({% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n'}})"
      R"({% endfor %})";
  const auto chat = generate::ChatTemplate::detect(jinja, "");
  EXPECT_EQ(chat.render({{"user", "hi"}}, true),
            "<|im_start|>system\nYou are "
            "Qwen.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(chat.render({{"system", "S"}, {"user", "hi"}}, false),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n");
}

}  // namespace
}  // namespace infer

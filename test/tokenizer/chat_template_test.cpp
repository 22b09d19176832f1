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
  // Formats whose tokenizer files are not in the shared data carry their published template.
  const auto chat =
      golden.contains("template")
          ? generate::ChatTemplate::detect(golden["template"],
                                           {tokenizer->decode({*tokenizer->bos_id()}, false),
                                            tokenizer->decode({*tokenizer->eos_id()}, false)})
          : generate::ChatTemplate::for_tokenizer(*tokenizer, "auto");
  for (const json& c : golden["cases"]) {
    std::vector<generate::ChatMessage> messages;
    for (const json& m : c["messages"]) messages.push_back({m["role"], m["content"]});
    if (c.contains("error")) {  // HF's template raised; a renderer must refuse, not guess
      EXPECT_THROW(chat.render(messages, true), base::InvalidArgument)
          << chat.name() << " " << c["messages"].dump();
      continue;
    }
    EXPECT_EQ(chat.encode(*tokenizer, messages, /*add_generation_prompt=*/true),
              c["ids"].get<std::vector<int32_t>>())
        << chat.name() << " " << c["messages"].dump()
        << "\nrendered: " << json(chat.render(messages, true)).dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Hf, ChatTemplateTest,
                         ::testing::Values("llama3", "qwen", "mistral-spm", "smollm2",
                                           "llama2-chat", "mistral-v0.1", "mistral-v0.2"),
                         test::ParamName());

TEST(ChatTemplate, RefusesWhatItCannotRender) {
  const generate::ChatSpecialTokens tokens{"<s>", "</s>"};
  EXPECT_THROW(generate::ChatTemplate::detect("{{ messages }} [INST]", tokens), base::Unsupported);
  // Mistral v0.3 writes '[/INST]' without the space: a different format, not a near match.
  EXPECT_THROW(
      generate::ChatTemplate::detect(
          "{{- '[INST] ' + message['content'] + '[/INST]' }}{{- ' ' + eos_token }}", tokens),
      base::Unsupported);
  EXPECT_THROW(generate::ChatTemplate::named("vicuna", tokens), base::InvalidArgument);
  const auto chatml = generate::ChatTemplate::named("chatml", tokens);
  EXPECT_THROW(chatml.render({{"robot", "hi"}}, true), base::InvalidArgument);
  EXPECT_EQ(chatml.render({{"user", "hi"}}, true),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  const auto llama2 = generate::ChatTemplate::named("llama2", tokens);
  EXPECT_THROW(llama2.render({{"user", "a"}, {"system", "late system"}}, true),
               base::InvalidArgument);
  EXPECT_EQ(llama2.render({{"system", "S"}, {"user", "hi"}}, true),
            "<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nhi [/INST]");
  EXPECT_THROW(generate::ChatTemplate::named("mistral", tokens).render({{"system", "S"}}, true),
               base::InvalidArgument);
}

TEST(ChatTemplate, ReadsADefaultSystemPromptWrittenWithEscapedNewlines) {
  // Qwen2.5's style: the default system prompt is a Jinja string literal with \n escapes.
  const std::string jinja =
      R"({%- if messages[0]['role'] != 'system' %}{{- '<|im_start|>system\nYou are Qwen.<|im_end|>\n' }}{%- endif %})"
      R"({% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n'}})"
      R"({% endfor %})";
  const auto chat = generate::ChatTemplate::detect(jinja, {});
  EXPECT_EQ(chat.render({{"user", "hi"}}, true),
            "<|im_start|>system\nYou are "
            "Qwen.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(chat.render({{"system", "S"}, {"user", "hi"}}, false),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n");
}

}  // namespace
}  // namespace infer

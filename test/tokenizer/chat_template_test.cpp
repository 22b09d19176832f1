// Chat templates rendered by the Jinja interpreter against HF apply_chat_template(
// add_generation_prompt=True) ids (test/data/chat_goldens.json, made by
// hf_infer/make_chat_goldens.py), for every tokenizer in the shared data whose config has a
// template, SmolLM2's rebuilt from its GGUF, and published Llama 2 / Mistral templates.
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
          ? generate::ChatTemplate::from_jinja(golden["template"],
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

TEST(ChatTemplate, BuiltInFormatsAndRefusals) {
  const generate::ChatSpecialTokens tokens{"<s>", "</s>"};
  EXPECT_THROW(generate::ChatTemplate::from_jinja("{% include 'x' %}", tokens), base::Unsupported);
  EXPECT_THROW(generate::ChatTemplate::from_jinja("{{ messages | wordwrap }}", tokens),
               base::Unsupported);
  EXPECT_THROW(generate::ChatTemplate::named("vicuna", tokens), base::InvalidArgument);
  const auto chatml = generate::ChatTemplate::named("chatml", tokens);
  EXPECT_EQ(chatml.render({{"user", "hi"}}, true),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  const auto llama2 = generate::ChatTemplate::named("llama2", tokens);
  try {
    llama2.render({{"user", "a"}, {"user", "b"}}, true);
    ADD_FAILURE() << "rendered";
  } catch (const base::InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "Conversation roles must alternate user/assistant/user/assistant/...");
  }
  EXPECT_EQ(llama2.render({{"system", "S"}, {"user", "hi"}}, true),
            "<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nhi [/INST]");
  EXPECT_THROW(generate::ChatTemplate::named("mistral", tokens).render({{"system", "S"}}, true),
               base::InvalidArgument);
  EXPECT_EQ(generate::ChatTemplate::named("llama3", {"<|begin_of_text|>", ""})
                .render({{"user", " hi "}}, true),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplate, RendersWhatTheTemplateSaysNotAGuess) {
  // Qwen2.5's style: a default system prompt as a string literal with \n escapes, and (in this
  // cut-down version) no generation prompt: HF adds none, so neither does libinfer.
  const std::string jinja =
      R"({%- if messages[0]['role'] != 'system' %}{{- '<|im_start|>system\nYou are Qwen.<|im_end|>\n' }}{%- endif %})"
      R"({% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n'}})"
      R"({% endfor %})";
  const auto chat = generate::ChatTemplate::from_jinja(jinja, {});
  EXPECT_EQ(chat.render({{"user", "hi"}}, true),
            "<|im_start|>system\nYou are Qwen.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n");
  EXPECT_EQ(chat.render({{"system", "S"}, {"user", "hi"}}, false),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n");
}

TEST(ChatTemplate, ComesFromAJinjaFileOrATokenizerConfig) {
  const std::string jinja_file = test::temp_path("t.jinja");
  const std::string config_file = test::temp_path("tokenizer_config.json");
  const std::string broken_file = test::temp_path("broken.jinja");
  test::write_file(jinja_file, "{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}");
  test::write_file(config_file, R"({"chat_template": [{"name": "tool_use", "template": "x"}, )"
                                R"({"name": "default", "template": "{{ bos_token }}!"}]})");
  test::write_file(broken_file, "{% if %}");
  const std::string path = test::shared_data_dir() + "/tokenizers/qwen/tokenizer.json";
  INFER_SKIP_UNLESS_FILE(path);
  auto tokenizer = tokenizer::Tokenizer::load(path);
  EXPECT_EQ(
      generate::ChatTemplate::for_tokenizer(*tokenizer, jinja_file).render({{"user", "hi"}}, true),
      "[user:hi]");
  EXPECT_EQ(
      generate::ChatTemplate::for_tokenizer(*tokenizer, config_file).render({{"user", "hi"}}, true),
      "!");
  EXPECT_THROW(generate::ChatTemplate::for_tokenizer(*tokenizer, broken_file), base::FormatError);
  EXPECT_THROW(generate::ChatTemplate::for_tokenizer(*tokenizer, test::temp_path("missing.jinja")),
               base::FileError);
}

}  // namespace
}  // namespace infer

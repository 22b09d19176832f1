// libFuzzer target for the chat-template interpreter: the input is a template's source, then
// optionally a NUL byte and a JSON conversation (an array of messages, or {"messages", "tools"})
// to render it with. Any input must end in a rendering or an infer::base::Error: no crash, no
// sanitizer report, no hang and no unbounded memory (the render limits are lowered so that a
// slow input shows as a timeout). The conversation is held to JSON's nesting limit, as
// ChatTemplate::render_json holds it. Built and run by tools/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "infer/base/error.h"
#include "infer/base/json_input.h"
#include "infer/generate/jinja/template.h"

namespace {

using namespace infer::generate::jinja;

Value default_messages() {
  return from_json(nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi {{ there }}"},
    {"role": "assistant", "content": "", "tool_calls": [{"id": "call123456", "type": "function",
      "function": {"name": "f", "arguments": {"x": 1}}}]},
    {"role": "tool", "tool_call_id": "call123456", "content": "42"},
    {"role": "user", "content": "Ünïcödé 😀"}])"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  const std::string source = input.substr(0, split);
  Dict variables;
  variables.set("messages", default_messages());
  if (split != std::string::npos) {
    const std::string text = input.substr(split + 1);
    try {
      infer::base::check_json_depth(text, "the conversation");
    } catch (const infer::base::FormatError&) {
      return 0;
    }
    const auto conversation =
        nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!conversation.is_discarded()) {
      const Value v = from_json(conversation);
      if (v.is_dict()) {
        for (const auto& [key, value] : v.as_dict().items) variables.set(key, value);
      } else {
        variables.set("messages", v);
      }
    }
  }
  variables.set("add_generation_prompt", Value(true));
  variables.set("bos_token", Value("<s>"));
  variables.set("eos_token", Value("</s>"));
  RenderLimits limits;
  limits.max_output_bytes = size_t{1} << 20;
  limits.max_loop_iterations = 100000;
  limits.max_call_depth = 32;
  try {
    Template(source).render(variables, 0, limits);
  } catch (const infer::base::Error&) {
    // Refusing an input is the expected way to fail.
  }
  return 0;
}

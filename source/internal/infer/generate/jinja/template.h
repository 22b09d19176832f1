#pragma once
// A chat template (Jinja, as models ship it in tokenizer_config.json) parsed once and rendered
// exactly as Hugging Face renders it: jinja2's sandbox with trim_blocks and lstrip_blocks, the
// loopcontrols extension, HF's tojson, raise_exception and strftime_now. The subset covers the
// templates real models ship (statements if/for/set/macro/break/continue, filters, tests, string
// and dict methods); anything else is refused when the template is parsed. Rendering is bounded
// (output size, loop iterations, call depth), so that no template can hang or exhaust memory.
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>

#include "infer/generate/jinja/value.h"

namespace infer::generate::jinja {

struct Stmt;

struct RenderLimits {
  size_t max_output_bytes = size_t{16} << 20;
  int64_t max_loop_iterations = 1000000;  // all loops of one rendering together
  int max_call_depth = 64;                // macros calling macros
};

class Template {
 public:
  // Throws base::FormatError (syntax) or base::Unsupported (a construct outside the subset),
  // naming the line.
  explicit Template(const std::string& source);
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  // Renders with `variables` (messages, add_generation_prompt, bos_token, tools, ...) on top of
  // the globals; `now` is what strftime_now formats. A template that calls raise_exception
  // throws base::InvalidArgument with exactly its message; other failures (a wrong type, an
  // undefined value used as an object, a limit) throw base::InvalidArgument naming the line.
  std::string render(const Dict& variables, std::time_t now = std::time(nullptr),
                     const RenderLimits& limits = {}) const;

 private:
  std::shared_ptr<const std::vector<std::unique_ptr<Stmt>>> body_;
};

}  // namespace infer::generate::jinja

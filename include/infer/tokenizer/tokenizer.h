#pragma once
// Text <-> token ids. One interface over the tokenizer formats checkpoints ship:
//  - HF `tokenizer.json` with a BPE model: metaspace + byte fallback (Llama 2, Mistral) or
//    byte-level with regex pre-tokenization (Llama 3, Qwen2, GPT-2/SmolLM2)
//  - sentencepiece `tokenizer.model` (through libsentencepiece)
// A `tokenizer_config.json` beside the file, when present, supplies BOS/EOS and whether they are
// added, as HF's AutoTokenizer does. Encoding gives exactly AutoTokenizer's ids; input that is
// not valid UTF-8 is read as Python's bytes.decode(errors="replace") would read it.
// Thread-safe: one Tokenizer may serve many threads.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace infer::tokenizer {

struct EncodeOptions {
  // Add BOS/EOS as the tokenizer's configuration says (HF's add_special_tokens).
  bool add_special_tokens = true;
  // Match special-token strings such as "<s>" in the text. Off by default: text from a user is
  // plain text, so typing "</s>" cannot end a conversation (HF's split_special_tokens=True).
  bool parse_special = false;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Picks the format from the file: a `.model` file is sentencepiece, anything else is read as HF
  // tokenizer.json. Throws FileError / FormatError naming the file and the offending field.
  static std::unique_ptr<Tokenizer> load(const std::string& path);

  virtual std::vector<int32_t> encode(std::string_view text,
                                      const EncodeOptions& options = {}) const = 0;
  // Special tokens (BOS, EOS, control tokens) are left out when skip_special_tokens is set.
  // Ids the tokenizer does not define (a model's padded vocabulary goes past its tokenizer's, as
  // Qwen2's does) decode as empty text, as in HF; a negative id throws InvalidArgument.
  virtual std::string decode(const std::vector<int32_t>& ids,
                             bool skip_special_tokens = true) const = 0;

  virtual int64_t vocab_size() const = 0;
  virtual bool is_special(int32_t id) const = 0;
  virtual std::optional<int32_t> bos_id() const = 0;
  virtual std::optional<int32_t> eos_id() const = 0;
  // The Jinja chat_template of tokenizer_config.json, if there is one.
  virtual std::optional<std::string> chat_template() const = 0;
};

}  // namespace infer::tokenizer

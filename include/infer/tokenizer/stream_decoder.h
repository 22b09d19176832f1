#pragma once
// Turns a stream of token ids into text pieces as they arrive. A piece is emitted only once it is
// complete UTF-8 (a character split over several byte tokens is held back until its last byte),
// and the pieces concatenate to exactly decode(all ids).
#include <cstdint>
#include <string>
#include <vector>

#include "infer/tokenizer/tokenizer.h"

namespace infer::tokenizer {

class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = true);
  // Starts after `ids` (a prompt, already shown to the user) instead of at the beginning of the
  // text, so that the first generated piece keeps its leading space.
  void set_context(const std::vector<int32_t>& ids);
  // Text that became final with `id` (possibly empty).
  std::string push(int32_t id);
  // Whatever is still held back (an incomplete character at the very end).
  std::string flush();

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_;
  std::vector<int32_t> ids_;
  // Decoding restarts at prefix_ each time, so the cost per token stays constant; read_ marks
  // where the already emitted text ends.
  size_t prefix_ = 0;
  size_t read_ = 0;
};

}  // namespace infer::tokenizer

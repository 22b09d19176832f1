#include "infer/tokenizer/stream_decoder.h"

namespace infer::tokenizer {

namespace {
// U+FFFD, what decoders produce for bytes that do not (yet) form a character.
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

bool ends_with(const std::string& text, std::string_view tail) {
  return text.size() >= tail.size() &&
         text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// Text that the next token could still change: an incomplete character, or the start of a
// pattern that transformers' clean_up_tokenization rewrites (" ." -> ".", " n't" -> "n't", ...).
bool may_change(const std::string& text) {
  for (std::string_view tail :
       {kReplacement, std::string_view(" "), std::string_view(" '"), std::string_view(" n"),
        std::string_view(" n'"), std::string_view(" 'v"), std::string_view(" 'r")}) {
    if (ends_with(text, tail)) return true;
  }
  return false;
}
}  // namespace

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {}

void StreamDecoder::set_context(const std::vector<int32_t>& ids) {
  ids_ = ids;
  read_ = ids_.size();
  // A few tokens of context are enough for every decoder rule that looks backwards.
  prefix_ = read_ > 4 ? read_ - 4 : 0;
}

std::string StreamDecoder::push(int32_t id) {
  ids_.push_back(id);
  // Decoding a window [prefix_, ...) instead of a single token keeps context that decoders need
  // (a leading-space strip, byte tokens that continue a character).
  const std::vector<int32_t> before(ids_.begin() + prefix_, ids_.begin() + read_);
  const std::vector<int32_t> after(ids_.begin() + prefix_, ids_.end());
  const std::string prefix_text = tokenizer_.decode(before, skip_special_);
  const std::string full_text = tokenizer_.decode(after, skip_special_);
  if (full_text.size() <= prefix_text.size() || may_change(full_text) ||
      full_text.compare(0, prefix_text.size(), prefix_text) != 0) {
    return "";
  }
  prefix_ = read_;
  read_ = ids_.size();
  return full_text.substr(prefix_text.size());
}

std::string StreamDecoder::flush() {
  const std::vector<int32_t> before(ids_.begin() + prefix_, ids_.begin() + read_);
  const std::vector<int32_t> after(ids_.begin() + prefix_, ids_.end());
  const std::string prefix_text = tokenizer_.decode(before, skip_special_);
  const std::string full_text = tokenizer_.decode(after, skip_special_);
  prefix_ = read_ = ids_.size();
  return full_text.size() > prefix_text.size() ? full_text.substr(prefix_text.size()) : "";
}

}  // namespace infer::tokenizer

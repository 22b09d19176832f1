#include "sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

#include <algorithm>

#include "infer/base/error.h"
#include "infer/base/files.h"
#include "utf8.h"

namespace infer::tokenizer {

namespace {

// sentencepiece prefixes its messages with its own source position ("foo.cc(123) [expr] ..."),
// which means nothing to a user.
std::string without_source_position(std::string message) {
  const size_t close = message.find("] ");
  if (message.find(".cc(") != std::string::npos && close != std::string::npos)
    message.erase(0, close + 2);
  return message;
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  SentencePieceTokenizer(const std::string& path, const SpecialTokenPolicy& policy) {
    const auto status =
        processor_.LoadFromSerializedProto(base::read_regular_file(path, "tokenizer"));
    if (!status.ok()) {
      throw base::FormatError(path + ": not a valid sentencepiece model (" +
                              without_source_position(status.message()) + ")");
    }
    // Tokens HF added beyond the sentencepiece vocabulary (e.g. <|im_end|> = 32000).
    const int32_t base_size = processor_.GetPieceSize();
    for (const AddedToken& t : policy.added_tokens) {
      if (t.id < base_size) continue;
      extra_.push_back(t);
      extra_.back().normalized = false;  // matched in the raw text
    }
    // Control and unknown pieces (<s>, </s>, <unk>) behave as HF's special tokens: matched in text
    // only with parse_special, and written out by decode unless specials are skipped.
    for (int32_t id = 0; id < base_size; ++id) {
      if (processor_.IsControl(id) || processor_.IsUnknown(id))
        extra_.push_back({processor_.IdToPiece(id), id, true});
    }
    vocab_size_ = base_size;
    for (const AddedToken& t : extra_) vocab_size_ = std::max<int64_t>(vocab_size_, t.id + 1);
    check_id_density(vocab_size_ - 1, static_cast<size_t>(base_size) + extra_.size(),
                     path + " with its tokenizer_config.json");
    extra_matcher_ = std::make_unique<AddedTokenMatcher>(
        extra_, /*want_normalized=*/false, [](const AddedToken& t) { return t.content; });
    auto id_of = [&](int id) { return id >= 0 ? std::optional<int32_t>(id) : std::nullopt; };
    bos_ = id_of(processor_.bos_id());
    eos_ = id_of(processor_.eos_id());
    if (policy.bos_token) bos_ = lookup(*policy.bos_token, path);
    if (policy.eos_token) eos_ = lookup(*policy.eos_token, path);
    // sentencepiece models of Llama-family checkpoints add BOS unless the config says otherwise.
    add_bos_ = policy.add_bos.value_or(true) && bos_.has_value();
    add_eos_ = policy.add_eos.value_or(false) && eos_.has_value();
    chat_template_ = policy.chat_template;
  }

  std::vector<int32_t> encode(std::string_view raw_text,
                              const EncodeOptions& options) const override {
    // Invalid UTF-8 is read as Python's bytes.decode(errors="replace") reads it, as for HF.
    const std::string text = utf8::to_valid_lossy(raw_text);
    std::vector<int32_t> ids;
    if (options.add_special_tokens && add_bos_) ids.push_back(*bos_);
    // sentencepiece itself never matches control tokens such as <s> in text (the plain-text
    // policy); they and the tokens added beyond its vocabulary are matched here, specials only
    // on request.
    extra_matcher_->split(
        text, options.parse_special,
        [&](std::string_view piece) {
          std::vector<int> pieces;
          const auto status = processor_.Encode(piece, &pieces);
          if (!status.ok())
            throw base::InvalidArgument("sentencepiece encode failed: " + status.ToString());
          ids.insert(ids.end(), pieces.begin(), pieces.end());
        },
        [&](const AddedToken& t) { ids.push_back(t.id); });
    if (options.add_special_tokens && add_eos_) ids.push_back(*eos_);
    return ids;
  }

  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const override {
    std::string text;
    std::vector<int> pieces;  // a run of sentencepiece ids, decoded together
    auto flush = [&] {
      std::string part;
      const auto status = processor_.Decode(pieces, &part);
      if (!status.ok())
        throw base::InvalidArgument("sentencepiece decode failed: " + status.ToString());
      text += part;
      pieces.clear();
    };
    for (int32_t id : ids) {
      if (id < 0) throw base::InvalidArgument("token id " + std::to_string(id) + " is negative");
      if (id >= vocab_size()) continue;  // a padding id beyond the tokenizer: no text, as in HF
      if (skip_special_tokens && is_special(id)) continue;
      if (const AddedToken* extra = find_extra(id)) {
        flush();
        text += extra->content;
      } else {
        pieces.push_back(id);
      }
    }
    flush();
    return text;
  }

  int64_t vocab_size() const override { return vocab_size_; }
  bool is_special(int32_t id) const override {
    if (const AddedToken* extra = find_extra(id)) return extra->special;
    return id >= 0 && id < processor_.GetPieceSize() &&
           (processor_.IsControl(id) || processor_.IsUnknown(id));
  }
  std::optional<int32_t> bos_id() const override { return bos_; }
  std::optional<int32_t> eos_id() const override { return eos_; }
  std::optional<std::string> chat_template() const override { return chat_template_; }

 private:
  const AddedToken* find_extra(int32_t id) const {
    for (const AddedToken& t : extra_)
      if (t.id == id) return &t;
    return nullptr;
  }

  std::optional<int32_t> lookup(const std::string& piece, const std::string& path) const {
    for (const AddedToken& t : extra_)
      if (t.content == piece) return t.id;
    const int id = processor_.PieceToId(piece);
    if (id == processor_.unk_id() && piece != processor_.IdToPiece(id)) {
      throw base::FormatError(path + ": tokenizer_config.json names special token '" + piece +
                              "', which the sentencepiece model does not have");
    }
    return id;
  }

  sentencepiece::SentencePieceProcessor processor_;
  std::vector<AddedToken> extra_;
  std::unique_ptr<AddedTokenMatcher> extra_matcher_;
  int64_t vocab_size_ = 0;
  std::optional<int32_t> bos_, eos_;
  std::optional<std::string> chat_template_;
  bool add_bos_ = true;
  bool add_eos_ = false;
};

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& path,
                                                        const SpecialTokenPolicy& policy) {
  return std::make_unique<SentencePieceTokenizer>(path, policy);
}

}  // namespace infer::tokenizer

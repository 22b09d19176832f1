#include "hf_tokenizer.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <variant>

#include "added_tokens.h"
#include "bpe_model.h"
#include "infer/base/error.h"
#include "special_token_policy.h"
#include "utf8.h"

namespace infer::tokenizer {

using nlohmann::json;

namespace {

// Normaliser steps, applied in order to each piece of text between added tokens.
struct Prepend {
  std::string prefix;
};
struct Replace {
  std::string from, to;
};
using NormalizerStep = std::variant<Prepend, Replace>;

// Decoder steps, applied in order to the list of token strings.
struct ByteFallback {};
struct Fuse {};
struct Strip {
  std::string content;
  int start, stop;
};
using DecoderStep = std::variant<Replace, ByteFallback, Fuse, Strip>;

class FieldError : public base::FormatError {
 public:
  FieldError(const std::string& source, const std::string& field, const std::string& what)
      : base::FormatError(source + ": " + field + ": " + what) {}
};

const json& field(const json& j, const char* key, const std::string& source,
                  const std::string& path) {
  if (!j.is_object() || !j.contains(key)) throw FieldError(source, path + key, "missing");
  return j.at(key);
}

Replace parse_replace(const json& step, const std::string& source, const std::string& path) {
  const json& pattern = field(step, "pattern", source, path);
  if (!pattern.contains("String")) {
    throw FieldError(source, path + "pattern",
                     "only String patterns are supported, got " + pattern.dump());
  }
  return Replace{pattern["String"].get<std::string>(),
                 field(step, "content", source, path).get<std::string>()};
}

std::vector<NormalizerStep> parse_normalizer(const json& j, const std::string& source) {
  std::vector<NormalizerStep> steps;
  if (j.is_null()) return steps;
  const std::string type = field(j, "type", source, "normalizer.").get<std::string>();
  if (type == "Sequence") {
    for (const json& step : field(j, "normalizers", source, "normalizer.")) {
      for (auto& s : parse_normalizer(step, source)) steps.push_back(std::move(s));
    }
  } else if (type == "Prepend") {
    steps.push_back(Prepend{field(j, "prepend", source, "normalizer.").get<std::string>()});
  } else if (type == "Replace") {
    steps.push_back(parse_replace(j, source, "normalizer."));
  } else {
    throw FieldError(source, "normalizer.type", "unsupported normalizer '" + type + "'");
  }
  return steps;
}

std::vector<DecoderStep> parse_decoder(const json& j, const std::string& source) {
  std::vector<DecoderStep> steps;
  if (j.is_null()) return steps;
  const std::string type = field(j, "type", source, "decoder.").get<std::string>();
  if (type == "Sequence") {
    for (const json& step : field(j, "decoders", source, "decoder.")) {
      for (auto& s : parse_decoder(step, source)) steps.push_back(std::move(s));
    }
  } else if (type == "Replace") {
    steps.push_back(parse_replace(j, source, "decoder."));
  } else if (type == "ByteFallback") {
    steps.push_back(ByteFallback{});
  } else if (type == "Fuse") {
    steps.push_back(Fuse{});
  } else if (type == "Strip") {
    steps.push_back(Strip{field(j, "content", source, "decoder.").get<std::string>(),
                          field(j, "start", source, "decoder.").get<int>(),
                          field(j, "stop", source, "decoder.").get<int>()});
  } else {
    throw FieldError(source, "decoder.type", "unsupported decoder '" + type + "'");
  }
  return steps;
}

// "<0xHH>" -> the byte, for ByteFallback.
std::optional<unsigned char> parse_byte_token(const std::string& s) {
  if (s.size() != 6 || s.compare(0, 3, "<0x") != 0 || s[5] != '>') return std::nullopt;
  unsigned value = 0;
  for (int i = 3; i < 5; ++i) {
    const char c = s[i];
    const int digit = (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (digit < 0) return std::nullopt;
    value = value * 16 + static_cast<unsigned>(digit);
  }
  return static_cast<unsigned char>(value);
}

void apply(const DecoderStep& step, std::vector<std::string>& tokens) {
  if (auto* r = std::get_if<Replace>(&step)) {
    for (auto& t : tokens) t = utf8::replace_all(t, r->from, r->to);
  } else if (std::holds_alternative<ByteFallback>(step)) {
    // Runs of byte tokens become their bytes when those are valid UTF-8, else one U+FFFD per
    // byte (HF's rule).
    std::vector<std::string> out;
    std::string bytes;
    size_t n_bytes = 0;
    auto flush = [&] {
      if (n_bytes == 0) return;
      if (utf8::is_valid(bytes)) {
        out.push_back(bytes);
      } else {
        for (size_t i = 0; i < n_bytes; ++i) out.push_back("\xEF\xBF\xBD");
      }
      bytes.clear();
      n_bytes = 0;
    };
    for (auto& t : tokens) {
      if (auto b = parse_byte_token(t)) {
        bytes.push_back(static_cast<char>(*b));
        ++n_bytes;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens = std::move(out);
  } else if (std::holds_alternative<Fuse>(step)) {
    std::string joined;
    for (auto& t : tokens) joined += t;
    tokens.assign(1, std::move(joined));
  } else if (auto* s = std::get_if<Strip>(&step)) {
    for (auto& t : tokens) {
      const auto& c = s->content;
      for (int i = 0; i < s->start && t.compare(0, c.size(), c) == 0 && !c.empty(); ++i)
        t.erase(0, c.size());
      for (int i = 0; i < s->stop && t.size() >= c.size() && !c.empty() &&
                      t.compare(t.size() - c.size(), c.size(), c) == 0;
           ++i) {
        t.erase(t.size() - c.size());
      }
    }
  }
}

class HfTokenizer final : public Tokenizer {
 public:
  HfTokenizer(const json& j, const SpecialTokenPolicy& policy, const std::string& source);

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(pieces_.size()); }
  bool is_special(int32_t id) const override {
    return id >= 0 && id < vocab_size() && special_[static_cast<size_t>(id)];
  }
  std::optional<int32_t> bos_id() const override { return bos_; }
  std::optional<int32_t> eos_id() const override { return eos_; }

 private:
  std::string normalize(std::string_view text) const;
  std::optional<int32_t> token_id(const std::string& content) const;

  std::unique_ptr<BpeModel> bpe_;
  std::vector<NormalizerStep> normalizer_;
  std::vector<DecoderStep> decoder_;
  std::vector<AddedToken> added_;
  // Tokens matched in the raw text, and tokens matched in each normalised piece (HF's
  // `normalized` flag), as HF's AddedVocabulary does.
  std::unique_ptr<AddedTokenMatcher> raw_matcher_;
  std::unique_ptr<AddedTokenMatcher> normalized_matcher_;
  std::vector<std::string> pieces_;
  std::vector<bool> special_;
  std::vector<int32_t> prefix_ids_;  // added around the text when add_special_tokens
  std::vector<int32_t> suffix_ids_;
  std::optional<int32_t> bos_, eos_;
};

HfTokenizer::HfTokenizer(const json& j, const SpecialTokenPolicy& policy,
                         const std::string& source) {
  const json& model = field(j, "model", source, "");
  const std::string type = model.value("type", std::string("BPE"));
  if (type != "BPE")
    throw FieldError(source, "model.type",
                     "unsupported model type '" + type + "' (supported: BPE)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && !model[key].is_null() && !model[key].get<std::string>().empty()) {
      throw FieldError(source, std::string("model.") + key, "is not supported");
    }
  }
  if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null()) {
    throw FieldError(source, "pre_tokenizer",
                     "type '" + j["pre_tokenizer"].value("type", std::string("?")) +
                         "' is not supported by this libinfer");
  }

  auto vocab =
      field(model, "vocab", source, "model.").get<std::unordered_map<std::string, int32_t>>();
  std::vector<std::pair<std::string, std::string>> merges;
  for (const json& m : field(model, "merges", source, "model.")) {
    // Older files write "a b", newer ones ["a", "b"].
    if (m.is_array() && m.size() == 2) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else if (m.is_string() && m.get<std::string>().find(' ') != std::string::npos) {
      const std::string s = m.get<std::string>();
      const size_t space = s.find(' ');
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else {
      throw FieldError(source, "model.merges", "malformed entry " + m.dump());
    }
  }

  int32_t max_id = -1;
  for (const auto& [piece, id] : vocab) {
    if (id < 0) throw FieldError(source, "model.vocab", "negative id for '" + piece + "'");
    max_id = std::max(max_id, id);
  }
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const json& t : j["added_tokens"]) {
      AddedToken a{field(t, "content", source, "added_tokens[].").get<std::string>(),
                   field(t, "id", source, "added_tokens[].").get<int32_t>(),
                   t.value("special", false), t.value("normalized", false)};
      if (a.id < 0) throw FieldError(source, "added_tokens", "negative id for '" + a.content + "'");
      max_id = std::max(max_id, a.id);
      added_.push_back(std::move(a));
    }
  }
  if (max_id < 0) throw FieldError(source, "model.vocab", "is empty");
  pieces_.resize(static_cast<size_t>(max_id) + 1);
  special_.resize(pieces_.size(), false);
  for (const auto& [piece, id] : vocab) pieces_[static_cast<size_t>(id)] = piece;
  for (const auto& a : added_) {
    pieces_[static_cast<size_t>(a.id)] = a.content;
    special_[static_cast<size_t>(a.id)] = a.special;
  }

  BpeModel::Options options;
  options.byte_fallback = model.value("byte_fallback", false);
  options.ignore_merges = model.value("ignore_merges", false);
  options.fuse_unk = model.value("fuse_unk", false);
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    auto it = vocab.find(model["unk_token"].get<std::string>());
    if (it == vocab.end()) throw FieldError(source, "model.unk_token", "is not in model.vocab");
    options.unk_id = it->second;
  }
  bpe_ = std::make_unique<BpeModel>(std::move(vocab), merges, options, source);
  normalizer_ = parse_normalizer(j.value("normalizer", json()), source);
  decoder_ = parse_decoder(j.value("decoder", json()), source);
  raw_matcher_ = std::make_unique<AddedTokenMatcher>(added_, /*want_normalized=*/false,
                                                     [](const AddedToken& t) { return t.content; });
  normalized_matcher_ = std::make_unique<AddedTokenMatcher>(
      added_, /*want_normalized=*/true,
      [this](const AddedToken& t) { return normalize(t.content); });

  // Specials around the text: the post-processor's template, overridden by tokenizer_config.json.
  const json post = j.value("post_processor", json());
  if (!post.is_null() && post.value("type", std::string()) == "TemplateProcessing") {
    bool seen_sequence = false;
    for (const json& item : field(post, "single", source, "post_processor.")) {
      if (item.contains("Sequence")) {
        seen_sequence = true;
      } else if (item.contains("SpecialToken")) {
        const std::string name = item["SpecialToken"].value("id", std::string());
        const json& ids = field(field(post, "special_tokens", source, "post_processor."),
                                name.c_str(), source, "post_processor.special_tokens.");
        for (const json& id :
             field(ids, "ids", source, "post_processor.special_tokens." + name + "."))
          (seen_sequence ? suffix_ids_ : prefix_ids_).push_back(id.get<int32_t>());
      }
    }
  } else if (!post.is_null()) {
    throw FieldError(source, "post_processor.type",
                     "unsupported post-processor '" + post.value("type", std::string("?")) + "'");
  }
  bos_ = prefix_ids_.empty() ? std::nullopt : std::optional<int32_t>(prefix_ids_.front());
  eos_ = suffix_ids_.empty() ? std::nullopt : std::optional<int32_t>(suffix_ids_.back());
  auto resolve = [&](const std::optional<std::string>& text,
                     const char* what) -> std::optional<int32_t> {
    if (!text) return std::nullopt;
    auto id = token_id(*text);
    if (!id)
      throw base::FormatError(source + ": tokenizer_config.json names " + what + " '" + *text +
                              "', which is not in the vocabulary");
    return id;
  };
  if (auto id = resolve(policy.bos_token, "bos_token")) bos_ = id;
  if (auto id = resolve(policy.eos_token, "eos_token")) eos_ = id;
  auto override_with = [&](std::optional<bool> add, std::optional<int32_t> id,
                           std::vector<int32_t>& ids, const char* what) {
    if (!add) return;
    ids.clear();
    if (*add && !id)
      throw base::FormatError(source + ": tokenizer_config.json sets add_" + std::string(what) +
                              "_token but no " + what + " token is defined");
    if (*add) ids.push_back(*id);
  };
  override_with(policy.add_bos, bos_, prefix_ids_, "bos");
  override_with(policy.add_eos, eos_, suffix_ids_, "eos");
}

std::optional<int32_t> HfTokenizer::token_id(const std::string& content) const {
  for (const auto& a : added_) {
    if (a.content == content) return a.id;
  }
  return bpe_->id_of(content);
}

std::string HfTokenizer::normalize(std::string_view text) const {
  std::string normalized(text);
  for (const auto& step : normalizer_) {
    if (auto* p = std::get_if<Prepend>(&step)) {
      if (!normalized.empty()) normalized = p->prefix + normalized;
    } else if (auto* r = std::get_if<Replace>(&step)) {
      normalized = utf8::replace_all(normalized, r->from, r->to);
    }
  }
  return normalized;
}

std::vector<int32_t> HfTokenizer::encode(std::string_view text,
                                         const EncodeOptions& options) const {
  std::vector<int32_t> ids;
  if (options.add_special_tokens) ids = prefix_ids_;
  auto push_token = [&](const AddedToken& t) { ids.push_back(t.id); };
  // Raw-text tokens split the input first; each piece between them is normalised on its own,
  // then split by the normalised tokens, and what remains goes through BPE.
  raw_matcher_->split(
      text, options.parse_special,
      [&](std::string_view piece) {
        const std::string normalized = normalize(piece);
        normalized_matcher_->split(
            normalized, options.parse_special,
            [&](std::string_view word) { bpe_->encode_word(word, ids); }, push_token);
      },
      push_token);
  if (options.add_special_tokens) ids.insert(ids.end(), suffix_ids_.begin(), suffix_ids_.end());
  return ids;
}

std::string HfTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      throw base::InvalidArgument("token id " + std::to_string(id) +
                                  " is outside the vocabulary [0, " + std::to_string(vocab_size()) +
                                  ")");
    }
    if (skip_special_tokens && special_[static_cast<size_t>(id)]) continue;
    tokens.push_back(pieces_[static_cast<size_t>(id)]);
  }
  for (const auto& step : decoder_) apply(step, tokens);
  std::string text;
  for (const auto& t : tokens) text += t;
  return text;
}

}  // namespace

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path,
                                             const SpecialTokenPolicy& policy) {
  std::ifstream in(path);
  if (!in) throw base::FileError(path + ": cannot open tokenizer file");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    throw base::FormatError(path + ": not a valid tokenizer.json (JSON syntax error at byte " +
                            std::to_string(e.byte) + ")");
  }
  try {
    return std::make_unique<HfTokenizer>(j, policy, path);
  } catch (const json::exception& e) {
    throw base::FormatError(path + ": malformed tokenizer.json: " + e.what());
  }
}

}  // namespace infer::tokenizer

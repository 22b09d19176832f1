#include "hf_tokenizer.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "added_tokens.h"
#include "bpe_model.h"
#include "byte_level.h"
#include "hf_decoder.h"
#include "hf_json.h"
#include "hf_normalizer.h"
#include "hf_pre_tokenizer.h"
#include "infer/base/error.h"
#include "infer/base/files.h"
#include "infer/base/json_input.h"
#include "special_token_policy.h"
#include "utf8.h"

namespace infer::tokenizer {

using nlohmann::json;

namespace {

constexpr int64_t kMaxTokenId = std::numeric_limits<int32_t>::max();

// The specials a post-processor puts around the text: TemplateProcessing's "single" template;
// ByteLevel adds none; Sequence combines them.
void parse_post_processor(const json& post, const std::string& source, std::vector<int32_t>& prefix,
                          std::vector<int32_t>& suffix) {
  if (post.is_null()) return;
  const std::string path = "post_processor.";
  const std::string type = type_of(post, source, path);
  if (type == "Sequence") {
    for (const json& p : field(post, "processors", source, path))
      parse_post_processor(p, source, prefix, suffix);
  } else if (type == "TemplateProcessing") {
    bool seen_sequence = false;
    for (const json& item : field(post, "single", source, path)) {
      if (item.contains("Sequence")) {
        seen_sequence = true;
        continue;
      }
      const std::string name =
          field(item, "SpecialToken", source, path + "single[].").value("id", std::string());
      const json& special = field(field(post, "special_tokens", source, path), name.c_str(), source,
                                  path + "special_tokens.");
      for (const json& id : field(special, "ids", source, path + "special_tokens." + name + "."))
        (seen_sequence ? suffix : prefix)
            .push_back(static_cast<int32_t>(base::json_integer(
                id, source + ": " + path + "special_tokens." + name + ".ids[]", 0, kMaxTokenId)));
    }
  } else if (type != "ByteLevel") {
    throw FieldError(source, path + "type", "unsupported post-processor '" + type + "'");
  }
}

// transformers' clean_up_tokenization: drops the space before punctuation and contractions.
std::string clean_up_tokenization(std::string text) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) text = utf8::replace_all(text, from, to);
  return text;
}

// transformers classes whose constructor rebuilds the post-processor from add_bos_token /
// add_eos_token; for every other class the file's post-processor alone decides.
bool honours_add_bos_eos(const std::optional<std::string>& tokenizer_class) {
  if (!tokenizer_class) return false;
  for (const char* name : {"LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer",
                           "CodeLlamaTokenizerFast", "GemmaTokenizer", "GemmaTokenizerFast"}) {
    if (*tokenizer_class == name) return true;
  }
  return false;
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
  std::optional<std::string> chat_template() const override { return chat_template_; }

 private:
  void encode_segment(std::string_view normalized, bool at_text_start,
                      std::vector<int32_t>& ids) const;
  std::optional<int32_t> token_id(const std::string& content) const;

  std::unique_ptr<BpeModel> bpe_;
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  Decoder decoder_;
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
  std::optional<std::string> chat_template_;
  bool clean_up_spaces_ = false;
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
  if (model.contains("dropout") && !model["dropout"].is_null() &&
      model["dropout"].get<double>() > 0) {
    throw FieldError(source, "model.dropout",
                     "BPE dropout is not supported (it makes encoding random)");
  }

  const json& vocab_json = field(model, "vocab", source, "model.");
  if (!vocab_json.is_object()) throw FieldError(source, "model.vocab", "is not an object");
  std::unordered_map<std::string, int32_t> vocab;
  vocab.reserve(vocab_json.size());
  for (const auto& [piece, id] : vocab_json.items()) {
    vocab.emplace(piece, static_cast<int32_t>(base::json_integer(
                             id, source + ": model.vocab['" + piece + "']", 0, kMaxTokenId)));
  }
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
  for (const auto& [piece, id] : vocab) max_id = std::max(max_id, id);
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const json& t : j["added_tokens"]) {
      AddedToken a{
          field(t, "content", source, "added_tokens[].").get<std::string>(),
          static_cast<int32_t>(base::json_integer(field(t, "id", source, "added_tokens[]."),
                                                  source + ": added_tokens[].id", 0, kMaxTokenId)),
          t.value("special", false),
          t.value("normalized", false),
          t.value("lstrip", false),
          t.value("rstrip", false)};
      if (t.value("single_word", false)) {
        throw FieldError(source, "added_tokens[].single_word",
                         "true is not supported (token '" + a.content + "')");
      }
      max_id = std::max(max_id, a.id);
      added_.push_back(std::move(a));
    }
  }
  if (max_id < 0) throw FieldError(source, "model.vocab", "is empty");
  check_id_density(max_id, vocab.size() + added_.size(), source);
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
  normalizer_ = Normalizer::parse(j.value("normalizer", json()), source);
  pre_tokenizer_ = PreTokenizer::parse(j.value("pre_tokenizer", json()), source);
  decoder_ = Decoder::parse(j.value("decoder", json()), source);
  raw_matcher_ = std::make_unique<AddedTokenMatcher>(added_, /*want_normalized=*/false,
                                                     [](const AddedToken& t) { return t.content; });
  normalized_matcher_ = std::make_unique<AddedTokenMatcher>(
      added_, /*want_normalized=*/true,
      [this](const AddedToken& t) { return normalizer_.apply(t.content); });

  // Specials around the text: the post-processor, overridden by tokenizer_config.json for the
  // classes that do so in transformers.
  parse_post_processor(j.value("post_processor", json()), source, prefix_ids_, suffix_ids_);
  bos_ = prefix_ids_.empty() ? std::nullopt : std::optional<int32_t>(prefix_ids_.front());
  eos_ = suffix_ids_.empty() ? std::nullopt : std::optional<int32_t>(suffix_ids_.back());
  auto resolve = [&](const std::optional<std::string>& text,
                     const char* what) -> std::optional<int32_t> {
    if (!text) return std::nullopt;
    auto id = token_id(*text);
    if (!id) {
      throw base::FormatError(source + ": tokenizer_config.json names " + what + " '" + *text +
                              "', which is not in the vocabulary");
    }
    return id;
  };
  if (auto id = resolve(policy.bos_token, "bos_token")) bos_ = id;
  if (auto id = resolve(policy.eos_token, "eos_token")) eos_ = id;
  if (honours_add_bos_eos(policy.tokenizer_class)) {
    auto override_with = [&](std::optional<bool> add, std::optional<int32_t> id,
                             std::vector<int32_t>& ids, const std::string& what) {
      if (!add) return;
      if (*add && !id) {
        throw base::FormatError(source + ": tokenizer_config.json sets add_" + what +
                                "_token but no " + what + " token is defined");
      }
      ids.clear();
      if (*add) ids.push_back(*id);
    };
    override_with(policy.add_bos, bos_, prefix_ids_, "bos");
    override_with(policy.add_eos, eos_, suffix_ids_, "eos");
  }
  clean_up_spaces_ = policy.clean_up_tokenization_spaces;
  chat_template_ = policy.chat_template;
}

std::optional<int32_t> HfTokenizer::token_id(const std::string& content) const {
  for (const auto& a : added_) {
    if (a.content == content) return a.id;
  }
  return bpe_->id_of(content);
}

void HfTokenizer::encode_segment(std::string_view normalized, bool at_text_start,
                                 std::vector<int32_t>& ids) const {
  const std::string prepared = pre_tokenizer_.prepare(normalized, at_text_start);
  std::vector<std::string_view> words;
  pre_tokenizer_.split(prepared, words);
  for (std::string_view word : words) {
    if (pre_tokenizer_.byte_level()) {
      bpe_->encode_word(byte_level::encode(word), ids);
    } else {
      bpe_->encode_word(word, ids);
    }
  }
}

std::vector<int32_t> HfTokenizer::encode(std::string_view raw_text,
                                         const EncodeOptions& options) const {
  // HF receives Python strings, which are always valid Unicode; bytes that are not valid UTF-8
  // are read the way Python's bytes.decode(errors="replace") reads them.
  const std::string text = utf8::to_valid_lossy(raw_text);
  std::vector<int32_t> ids;
  if (options.add_special_tokens) ids = prefix_ids_;
  auto push_token = [&](const AddedToken& t) { ids.push_back(t.id); };
  // Raw-text tokens split the input first; each piece between them is normalised on its own,
  // then split by the normalised tokens, and what remains is pre-tokenized and BPE-encoded.
  raw_matcher_->split(
      text, options.parse_special,
      [&](std::string_view piece) {
        // Metaspace's "first" scheme needs to know which piece begins the whole input.
        const bool piece_at_start = piece.data() == text.data();
        const std::string normalized = normalizer_.apply(piece);
        normalized_matcher_->split(
            normalized, options.parse_special,
            [&](std::string_view part) {
              encode_segment(part, piece_at_start && part.data() == normalized.data(), ids);
            },
            push_token);
      },
      push_token);
  if (options.add_special_tokens) ids.insert(ids.end(), suffix_ids_.begin(), suffix_ids_.end());
  return ids;
}

std::string HfTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (id < 0) throw base::InvalidArgument("token id " + std::to_string(id) + " is negative");
    if (id >= vocab_size()) continue;  // a padding id beyond the tokenizer: no text, as in HF
    if (skip_special_tokens && special_[static_cast<size_t>(id)]) continue;
    tokens.push_back(pieces_[static_cast<size_t>(id)]);
  }
  std::string text = decoder_.decode(std::move(tokens));
  return clean_up_spaces_ ? clean_up_tokenization(std::move(text)) : text;
}

}  // namespace

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path,
                                             const SpecialTokenPolicy& policy) {
  const std::string text = base::read_regular_file(path, "tokenizer");
  base::check_json_depth(text, path);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw base::FormatError(path + ": not a valid tokenizer.json (JSON syntax error at byte " +
                            std::to_string(e.byte) + ")");
  } catch (const json::exception&) {  // a number beyond double's range
    throw base::FormatError(path +
                            ": not a valid tokenizer.json (a number too large to "
                            "represent)");
  }
  try {
    return std::make_unique<HfTokenizer>(j, policy, path);
  } catch (const json::exception& e) {
    throw base::FormatError(path + ": malformed tokenizer.json: " + e.what());
  }
}

}  // namespace infer::tokenizer

#include "hf_decoder.h"

#include <optional>

#include "byte_level.h"
#include "hf_json.h"
#include "utf8.h"

namespace infer::tokenizer {

namespace {

constexpr const char* kReplacementChar = "\xEF\xBF\xBD";

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

// Runs of byte tokens become their bytes when those are valid UTF-8, else one U+FFFD per byte.
void byte_fallback(std::vector<std::string>& tokens) {
  std::vector<std::string> out;
  std::string bytes;
  size_t n_bytes = 0;
  auto flush = [&] {
    if (n_bytes == 0) return;
    if (utf8::is_valid(bytes)) {
      out.push_back(bytes);
    } else {
      for (size_t i = 0; i < n_bytes; ++i) out.push_back(kReplacementChar);
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
}

// Characters back to bytes (a token with a character outside the table keeps its own bytes),
// then one lossy UTF-8 string.
void byte_level_decode(std::vector<std::string>& tokens) {
  std::string bytes;
  for (const auto& t : tokens) {
    std::string mapped;
    bool all_mapped = true;
    for (size_t i = 0; i < t.size() && all_mapped;) {
      auto b = byte_level::byte_of(utf8::next_codepoint(t, i));
      if (b) mapped.push_back(static_cast<char>(*b));
      all_mapped = b.has_value();
    }
    bytes += all_mapped ? mapped : t;
  }
  tokens.assign(1, utf8::to_valid_lossy(bytes));
}

void strip(const Decoder::Strip& s, std::vector<std::string>& tokens) {
  const auto& c = s.content;
  if (c.empty()) return;
  for (auto& t : tokens) {
    for (int i = 0; i < s.start && t.compare(0, c.size(), c) == 0; ++i) t.erase(0, c.size());
    for (int i = 0;
         i < s.stop && t.size() >= c.size() && t.compare(t.size() - c.size(), c.size(), c) == 0;
         ++i) {
      t.erase(t.size() - c.size());
    }
  }
}

}  // namespace

Decoder Decoder::parse(const nlohmann::json& j, const std::string& source) {
  Decoder d;
  if (j.is_null()) return d;
  const std::string path = "decoder.";
  const std::string type = type_of(j, source, path);
  if (type == "Sequence") {
    for (const auto& step : field(j, "decoders", source, path)) {
      Decoder inner = parse(step, source);
      d.steps_.insert(d.steps_.end(), inner.steps_.begin(), inner.steps_.end());
    }
  } else if (type == "Replace") {
    d.steps_.push_back(parse_replace(j, source, path));
  } else if (type == "ByteFallback") {
    d.steps_.push_back(ByteFallback{});
  } else if (type == "Fuse") {
    d.steps_.push_back(Fuse{});
  } else if (type == "Strip") {
    d.steps_.push_back(Strip{field(j, "content", source, path).get<std::string>(),
                             field(j, "start", source, path).get<int>(),
                             field(j, "stop", source, path).get<int>()});
  } else if (type == "ByteLevel") {
    d.steps_.push_back(ByteLevel{});
  } else if (type == "Metaspace") {
    const std::string scheme = j.value(
        "prepend_scheme", std::string(j.value("add_prefix_space", true) ? "always" : "never"));
    d.steps_.push_back(
        Metaspace{field(j, "replacement", source, path).get<std::string>(), scheme != "never"});
  } else {
    throw FieldError(source, path + "type", "unsupported decoder '" + type + "'");
  }
  return d;
}

std::string Decoder::decode(std::vector<std::string> tokens) const {
  for (const auto& step : steps_) {
    if (auto* r = std::get_if<Normalizer::Replace>(&step)) {
      for (auto& t : tokens) t = utf8::replace_all(t, r->from, r->to);
    } else if (std::holds_alternative<ByteFallback>(step)) {
      byte_fallback(tokens);
    } else if (std::holds_alternative<Fuse>(step)) {
      std::string joined;
      for (auto& t : tokens) joined += t;
      tokens.assign(1, std::move(joined));
    } else if (auto* s = std::get_if<Strip>(&step)) {
      strip(*s, tokens);
    } else if (auto* m = std::get_if<Metaspace>(&step)) {
      for (size_t i = 0; i < tokens.size(); ++i) {
        tokens[i] = utf8::replace_all(tokens[i], m->replacement,
                                      i == 0 && m->drop_in_first_token ? "" : " ");
      }
    } else {
      byte_level_decode(tokens);
    }
  }
  std::string text;
  for (const auto& t : tokens) text += t;
  return text;
}

}  // namespace infer::tokenizer

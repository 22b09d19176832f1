#include "hf_normalizer.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

#include "hf_json.h"
#include "utf8.h"

namespace infer::tokenizer {

Normalizer::Replace parse_replace(const nlohmann::json& j, const std::string& source,
                                  const std::string& path) {
  const auto& pattern = field(j, "pattern", source, path);
  if (!pattern.contains("String")) {
    throw FieldError(source, path + "pattern",
                     "only String patterns are supported, got " + pattern.dump());
  }
  std::string from = pattern["String"].get<std::string>();
  // An empty pattern matches everywhere, so replacing it never ends.
  if (from.empty()) throw FieldError(source, path + "pattern", "the String to replace is empty");
  return {std::move(from), field(j, "content", source, path).get<std::string>()};
}

Normalizer Normalizer::parse(const nlohmann::json& j, const std::string& source) {
  Normalizer n;
  if (j.is_null()) return n;
  const std::string type = type_of(j, source, "normalizer.");
  if (type == "Sequence") {
    for (const auto& step : field(j, "normalizers", source, "normalizer.")) {
      Normalizer inner = parse(step, source);
      n.steps_.insert(n.steps_.end(), inner.steps_.begin(), inner.steps_.end());
    }
  } else if (type == "Prepend") {
    n.steps_.push_back(Prepend{field(j, "prepend", source, "normalizer.").get<std::string>()});
  } else if (type == "Replace") {
    n.steps_.push_back(parse_replace(j, source, "normalizer."));
  } else if (type == "NFC") {
    n.steps_.push_back(Nfc{});
  } else {
    throw FieldError(source, "normalizer.type", "unsupported normalizer '" + type + "'");
  }
  return n;
}

namespace {

std::string nfc(std::string_view text) {
  if (utf8::is_ascii(text)) return std::string(text);  // ASCII is already in NFC
  utf8proc_uint8_t* out = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                              static_cast<utf8proc_ssize_t>(text.size()), &out,
                              static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) return std::string(text);  // cannot happen on valid UTF-8; leave the text as is
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(out, &std::free);
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

}  // namespace

std::string Normalizer::apply(std::string_view text) const {
  std::string s(text);
  for (const auto& step : steps_) {
    if (auto* p = std::get_if<Prepend>(&step)) {
      if (!s.empty()) s = p->prefix + s;
    } else if (auto* r = std::get_if<Replace>(&step)) {
      s = utf8::replace_all(s, r->from, r->to);
    } else {
      s = nfc(s);
    }
  }
  return s;
}

}  // namespace infer::tokenizer

#include "hf_pre_tokenizer.h"

#include "hf_json.h"
#include "utf8.h"

namespace infer::tokenizer {

namespace {

// GPT-2's pre-tokenization, what ByteLevel applies when use_regex is true.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

std::string quote_literal(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

PreTokenizer PreTokenizer::parse(const nlohmann::json& j, const std::string& source) {
  PreTokenizer p;
  if (!j.is_null()) p.parse_into(j, source, /*first=*/true);
  return p;
}

void PreTokenizer::parse_into(const nlohmann::json& j, const std::string& source, bool first) {
  const std::string path = "pre_tokenizer.";
  const std::string type = type_of(j, source, path);
  if (type == "Sequence") {
    bool is_first = first;
    for (const auto& step : field(j, "pretokenizers", source, path)) {
      parse_into(step, source, is_first);
      is_first = false;
    }
  } else if (type == "Split") {
    const auto& pattern = field(j, "pattern", source, path);
    std::string regex;
    if (pattern.contains("Regex")) {
      regex = pattern["Regex"].get<std::string>();
    } else if (pattern.contains("String")) {
      regex = quote_literal(pattern["String"].get<std::string>());
    } else {
      throw FieldError(source, path + "pattern", "expected Regex or String, got " + pattern.dump());
    }
    const std::string behavior = field(j, "behavior", source, path).get<std::string>();
    if (j.value("invert", false))
      throw FieldError(source, path + "invert", "true is not supported");
    if (behavior != "Isolated" && behavior != "Removed") {
      throw FieldError(source, path + "behavior",
                       "'" + behavior + "' is not supported (Isolated, Removed)");
    }
    add(std::make_shared<Regex>(regex, source), behavior == "Isolated");
  } else if (type == "ByteLevel") {
    byte_level_ = true;
    if (j.value("add_prefix_space", false)) {
      if (!first)
        throw FieldError(source, path + "add_prefix_space",
                         "is supported only on the first pre-tokenizer");
      add_prefix_space_ = true;
    }
    if (j.value("use_regex", true)) add(std::make_shared<Regex>(kGpt2Pattern, source), true);
  } else if (type == "Metaspace") {
    if (!first)
      throw FieldError(source, path + "type",
                       "Metaspace is supported only as the first pre-tokenizer");
    Metaspace m{field(j, "replacement", source, path).get<std::string>(), Prepend::kAlways};
    if (j.contains("prepend_scheme")) {
      const std::string scheme = j["prepend_scheme"].get<std::string>();
      if (scheme == "first") {
        m.prepend = Prepend::kFirst;
      } else if (scheme == "never") {
        m.prepend = Prepend::kNever;
      } else if (scheme != "always") {
        throw FieldError(source, path + "prepend_scheme", "unknown scheme '" + scheme + "'");
      }
    } else if (!j.value("add_prefix_space", true)) {
      m.prepend = Prepend::kNever;
    }
    // split: each replacement character starts a new piece (HF's MergedWithNext).
    if (j.value("split", true))
      add(std::make_shared<Regex>(
              quote_literal(m.replacement) + "(?:(?!" + quote_literal(m.replacement) + ").)*",
              source),
          true);
    metaspace_ = std::move(m);
  } else if (type == "Digits") {
    add(std::make_shared<Regex>(j.value("individual_digits", false) ? R"(\p{N})" : R"(\p{N}+)",
                                source),
        true);
  } else {
    throw FieldError(source, path + "type", "unsupported pre-tokenizer '" + type + "'");
  }
}

std::string PreTokenizer::prepare(std::string_view text, bool at_text_start) const {
  if (metaspace_) {
    std::string s = utf8::replace_all(text, " ", metaspace_->replacement);
    const bool prepend = metaspace_->prepend == Prepend::kAlways ||
                         (metaspace_->prepend == Prepend::kFirst && at_text_start);
    if (prepend && !s.empty() &&
        s.compare(0, metaspace_->replacement.size(), metaspace_->replacement) != 0) {
      s = metaspace_->replacement + s;
    }
    return s;
  }
  if (add_prefix_space_ && !text.empty() && text[0] != ' ') return " " + std::string(text);
  return std::string(text);
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& pieces) const {
  if (text.empty()) return;
  std::vector<std::string_view> current{text}, next;
  for (const Step& step : steps_) {
    next.clear();
    for (std::string_view piece : current) {
      size_t gap_start = 0;
      step.regex->for_each_match(piece, [&](size_t begin, size_t end) {
        if (begin > gap_start) next.push_back(piece.substr(gap_start, begin - gap_start));
        if (step.keep_matches) next.push_back(piece.substr(begin, end - begin));
        gap_start = end;
      });
      if (gap_start < piece.size()) next.push_back(piece.substr(gap_start));
    }
    current.swap(next);
  }
  pieces.insert(pieces.end(), current.begin(), current.end());
}

}  // namespace infer::tokenizer

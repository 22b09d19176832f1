#include "special_token_policy.h"

#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "infer/base/error.h"
#include "infer/base/files.h"
#include "infer/base/json_input.h"

namespace infer::tokenizer {

namespace {
// bos_token / eos_token are either a string or an AddedToken object with a "content" field.
std::optional<std::string> token_text(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  if (j[key].is_string()) return j[key].get<std::string>();
  if (j[key].is_object() && j[key].contains("content")) return j[key]["content"].get<std::string>();
  throw nlohmann::json::type_error::create(
      302, std::string(key) + " is neither a string nor a token object", nullptr);
}

// An added_tokens_decoder key: a token id written as decimal digits.
int32_t parse_id(const std::string& key, const std::string& where) {
  int64_t id = 0;
  bool ok = !key.empty() && key.size() <= 10;
  for (const char c : key) {
    ok = ok && c >= '0' && c <= '9';
    if (ok) id = id * 10 + (c - '0');
  }
  if (!ok || id > std::numeric_limits<int32_t>::max()) {
    throw base::FormatError(where + ": added_tokens_decoder key '" + base::utf8_prefix(key, 40) +
                            "' is not a token id (an integer in [0, 2147483647])");
  }
  return static_cast<int32_t>(id);
}

}  // namespace

SpecialTokenPolicy SpecialTokenPolicy::read_beside(const std::string& tokenizer_path) {
  const auto config_path =
      std::filesystem::path(tokenizer_path).parent_path() / "tokenizer_config.json";
  SpecialTokenPolicy policy;
  std::error_code missing;
  if (!std::filesystem::exists(config_path, missing)) return policy;
  const std::string where = config_path.string();
  const std::string text = base::read_regular_file(where, "tokenizer config");
  base::check_json_depth(text, where);
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    if (j.contains("add_bos_token") && !j["add_bos_token"].is_null())
      policy.add_bos = j["add_bos_token"].get<bool>();
    if (j.contains("add_eos_token") && !j["add_eos_token"].is_null())
      policy.add_eos = j["add_eos_token"].get<bool>();
    policy.bos_token = token_text(j, "bos_token");
    policy.eos_token = token_text(j, "eos_token");
    if (j.contains("chat_template") && j["chat_template"].is_string())
      policy.chat_template = j["chat_template"].get<std::string>();
    if (j.contains("tokenizer_class") && j["tokenizer_class"].is_string())
      policy.tokenizer_class = j["tokenizer_class"].get<std::string>();
    if (j.contains("clean_up_tokenization_spaces") &&
        j["clean_up_tokenization_spaces"].is_boolean())
      policy.clean_up_tokenization_spaces = j["clean_up_tokenization_spaces"].get<bool>();
    if (j.contains("added_tokens_decoder") && j["added_tokens_decoder"].is_object()) {
      for (const auto& [id, t] : j["added_tokens_decoder"].items()) {
        policy.added_tokens.push_back({t.at("content").get<std::string>(), parse_id(id, where),
                                       t.value("special", false), t.value("normalized", false),
                                       t.value("lstrip", false), t.value("rstrip", false)});
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw base::FormatError(where + ": malformed: " + e.what());
  }
  return policy;
}

}  // namespace infer::tokenizer

#include "special_token_policy.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "infer/base/error.h"

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
}  // namespace

SpecialTokenPolicy SpecialTokenPolicy::read_beside(const std::string& tokenizer_path) {
  const auto config_path =
      std::filesystem::path(tokenizer_path).parent_path() / "tokenizer_config.json";
  SpecialTokenPolicy policy;
  std::ifstream in(config_path);
  if (!in) return policy;
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
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
        policy.added_tokens.push_back({t.at("content").get<std::string>(), std::stoi(id),
                                       t.value("special", false), t.value("normalized", false),
                                       t.value("lstrip", false), t.value("rstrip", false)});
      }
    }
  } catch (const std::exception& e) {  // JSON errors, and std::stoi on a non-numeric id
    throw base::FormatError(config_path.string() + ": malformed: " + e.what());
  }
  return policy;
}

}  // namespace infer::tokenizer

#include "infer/model/config.h"

#include <nlohmann/json.hpp>

#include "infer/base/error.h"

namespace infer::model {

using nlohmann::json;

namespace {

template <typename T>
T required(const json& j, const char* key, const std::string& source) {
  if (!j.contains(key)) throw base::FormatError(source + ": config field '" + key + "' is missing");
  try {
    return j.at(key).get<T>();
  } catch (const json::exception&) {
    throw base::FormatError(source + ": config field '" + key +
                            "' has the wrong type: " + j.at(key).dump());
  }
}

int64_t required_positive(const json& j, const char* key, const std::string& source) {
  const auto value = required<int64_t>(j, key, source);
  if (value <= 0) {
    throw base::FormatError(source + ": config field '" + key + "' must be positive, got " +
                            std::to_string(value));
  }
  return value;
}

}  // namespace

ModelConfig ModelConfig::from_json_text(const std::string& json_text, const std::string& source) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    throw base::FormatError(source + ": config is not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw base::FormatError(source + ": config is not a JSON object");
  ModelConfig c;
  c.arch = required<std::string>(j, "arch", source);
  if (c.arch != "llama") {
    throw base::FormatError(source + ": unsupported architecture '" + c.arch +
                            "' (this libinfer runs: llama)");
  }
  c.dim = required_positive(j, "dim", source);
  c.n_layers = required_positive(j, "n_layers", source);
  c.n_heads = required_positive(j, "n_heads", source);
  c.n_kv_heads = required_positive(j, "n_kv_heads", source);
  c.head_dim = required_positive(j, "head_dim", source);
  c.hidden_dim = required_positive(j, "hidden_dim", source);
  c.vocab_size = required_positive(j, "vocab_size", source);
  c.max_position_embeddings = required_positive(j, "max_position_embeddings", source);
  c.rope_theta = required<double>(j, "rope_theta", source);
  c.norm_eps = required<float>(j, "norm_eps", source);
  c.tied_embeddings = required<bool>(j, "tied_embeddings", source);
  c.attention_bias = required<bool>(j, "attention_bias", source);
  c.bos_token_id = required<int32_t>(j, "bos_token_id", source);
  c.eos_token_ids = required<std::vector<int32_t>>(j, "eos_token_ids", source);
  if (j.contains("rope_scaling") && !j.at("rope_scaling").is_null()) {
    throw base::FormatError(source + ": rope_scaling " + j.at("rope_scaling").dump() +
                            " is not supported by this libinfer");
  }
  if (c.attention_bias) {
    throw base::FormatError(source + ": attention_bias is not supported by this libinfer");
  }

  if (c.n_heads % c.n_kv_heads != 0) {
    throw base::FormatError(source + ": n_heads (" + std::to_string(c.n_heads) +
                            ") is not a multiple of n_kv_heads (" + std::to_string(c.n_kv_heads) +
                            ")");
  }
  if (c.head_dim % 2 != 0) {
    throw base::FormatError(source + ": head_dim " + std::to_string(c.head_dim) +
                            " is odd; RoPE needs pairs");
  }
  if (!(c.rope_theta > 0) || !(c.norm_eps > 0)) {
    throw base::FormatError(source + ": rope_theta and norm_eps must be positive");
  }
  for (int32_t id : c.eos_token_ids) {
    if (id < 0 || id >= c.vocab_size) {
      throw base::FormatError(source + ": eos token id " + std::to_string(id) +
                              " is outside the vocabulary");
    }
  }
  if (c.bos_token_id >= c.vocab_size) {
    throw base::FormatError(source + ": bos token id " + std::to_string(c.bos_token_id) +
                            " is outside the vocabulary");
  }
  return c;
}

}  // namespace infer::model

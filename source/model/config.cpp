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

RopeScaling parse_rope_scaling(const json& j, const std::string& source) {
  const std::string where = source + ": rope_scaling " + j.dump();
  if (!j.is_object()) throw base::FormatError(where + " is not an object");
  const std::string type = j.value("type", std::string());
  RopeScaling s;
  try {
    if (type == "linear") {
      s.type = RopeScaling::Type::kLinear;
    } else if (type == "llama3") {
      s.type = RopeScaling::Type::kLlama3;
      s.low_freq_factor = j.at("low_freq_factor").get<double>();
      s.high_freq_factor = j.at("high_freq_factor").get<double>();
      s.original_max_position_embeddings = j.at("original_max_position_embeddings").get<int64_t>();
    } else {
      throw base::FormatError(where + ": type '" + type + "' is not supported (linear, llama3)");
    }
    s.factor = j.at("factor").get<double>();
  } catch (const json::exception& e) {
    throw base::FormatError(where + " is malformed: " + e.what());
  }
  if (!(s.factor > 0) || (s.type == RopeScaling::Type::kLlama3 &&
                          (!(s.high_freq_factor > s.low_freq_factor) || !(s.low_freq_factor > 0) ||
                           s.original_max_position_embeddings <= 0))) {
    throw base::FormatError(where + " has out-of-range factors");
  }
  return s;
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
  if (c.arch != "llama" && c.arch != "qwen2") {
    throw base::FormatError(source + ": unsupported architecture '" + c.arch +
                            "' (this libinfer runs: llama, qwen2)");
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
    c.rope_scaling = parse_rope_scaling(j.at("rope_scaling"), source);
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

#include "infer/model/config.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "infer/base/error.h"
#include "infer/base/json_input.h"

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

// Limits far above any released model, low enough that no product of two of them overflows and
// that a header cannot make the loader size anything by a number it merely claims.
constexpr int64_t kMaxWidth = int64_t{1} << 20;  // dim, hidden_dim, head_dim
constexpr int64_t kMaxCount = int64_t{1} << 14;  // layers, heads
constexpr int64_t kMaxId = std::numeric_limits<int32_t>::max();

int64_t required_int(const json& j, const char* key, const std::string& source, int64_t lo,
                     int64_t hi) {
  if (!j.contains(key)) throw base::FormatError(source + ": config field '" + key + "' is missing");
  return base::json_integer(j.at(key), source + ": config field '" + key + "'", lo, hi);
}

RopeScaling parse_rope_scaling(const json& j, const std::string& source) {
  const std::string where = source + ": rope_scaling " + j.dump();
  if (!j.is_object()) throw base::FormatError(where + " is not an object");
  const std::string type = j.value("type", std::string());
  RopeScaling s;
  try {
    if (!j.contains("factor") || !j.at("factor").is_number())
      throw base::FormatError(where + ": 'factor' must be a number");
    if (type == "linear") {
      s.type = RopeScaling::Type::kLinear;
    } else if (type == "llama3") {
      s.type = RopeScaling::Type::kLlama3;
      s.low_freq_factor = j.at("low_freq_factor").get<double>();
      s.high_freq_factor = j.at("high_freq_factor").get<double>();
      s.original_max_position_embeddings =
          required_int(j, "original_max_position_embeddings", source + ": rope_scaling", 1, kMaxId);
    } else {
      throw base::FormatError(where + ": type '" + type + "' is not supported (linear, llama3)");
    }
    s.factor = j.at("factor").get<double>();
  } catch (const json::exception& e) {
    throw base::FormatError(where + " is malformed: " + e.what());
  }
  if (!(s.factor > 0) || !std::isfinite(s.factor) ||
      (s.type == RopeScaling::Type::kLlama3 &&
       (!(s.high_freq_factor > s.low_freq_factor) || !(s.low_freq_factor > 0) ||
        s.original_max_position_embeddings <= 0))) {
    throw base::FormatError(where + " has out-of-range factors");
  }
  return s;
}

}  // namespace

ModelConfig ModelConfig::from_json_text(const std::string& json_text, const std::string& source) {
  base::check_json_depth(json_text, source + ": config");
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
  c.dim = required_int(j, "dim", source, 1, kMaxWidth);
  c.n_layers = required_int(j, "n_layers", source, 1, kMaxCount);
  c.n_heads = required_int(j, "n_heads", source, 1, kMaxCount);
  c.n_kv_heads = required_int(j, "n_kv_heads", source, 1, kMaxCount);
  c.head_dim = required_int(j, "head_dim", source, 1, kMaxWidth);
  c.hidden_dim = required_int(j, "hidden_dim", source, 1, kMaxWidth);
  c.vocab_size = required_int(j, "vocab_size", source, 1, kMaxId);
  // Positions are int32; the RoPE tables and the KV cache grow with the context in use, so a
  // large claim here costs nothing until a sequence gets that long.
  c.max_position_embeddings = required_int(j, "max_position_embeddings", source, 1, kMaxId);
  c.rope_theta = required<double>(j, "rope_theta", source);
  c.norm_eps = required<float>(j, "norm_eps", source);
  c.tied_embeddings = required<bool>(j, "tied_embeddings", source);
  c.attention_bias = required<bool>(j, "attention_bias", source);
  c.bos_token_id =
      static_cast<int32_t>(required_int(j, "bos_token_id", source, -1, c.vocab_size - 1));
  if (!j.contains("eos_token_ids") || !j.at("eos_token_ids").is_array())
    throw base::FormatError(source + ": config field 'eos_token_ids' must be a list of token ids");
  for (const json& id : j.at("eos_token_ids")) {
    c.eos_token_ids.push_back(static_cast<int32_t>(
        base::json_integer(id, source + ": eos token id", 0, c.vocab_size - 1)));
  }
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
  if (!(c.rope_theta > 0) || !(c.norm_eps > 0) || !std::isfinite(c.rope_theta) ||
      !std::isfinite(c.norm_eps)) {
    throw base::FormatError(source + ": rope_theta and norm_eps must be positive and finite");
  }
  return c;
}

}  // namespace infer::model

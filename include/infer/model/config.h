#pragma once
// Every hyper-parameter the runtime uses, as stored in the weights file's JSON header.
#include <cstdint>
#include <string>
#include <vector>

namespace infer::model {

// HF's rope_scaling: "linear" divides every frequency by `factor`; "llama3" (Llama 3.1/3.2)
// divides only the low frequencies, with a smooth band between low_freq_factor and
// high_freq_factor wavelengths relative to the original context.
struct RopeScaling {
  enum class Type { kNone, kLinear, kLlama3 };
  Type type = Type::kNone;
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  std::string arch;  // "llama" or "qwen2": one decoder; the differences are the fields below
  int64_t dim = 0;   // hidden size
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;    // usually dim / n_heads, but configs may say otherwise
  int64_t hidden_dim = 0;  // feed-forward (intermediate) size
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  float norm_eps = 1e-5f;
  bool tied_embeddings = false;  // the output head reuses the embedding table
  bool attention_bias = false;   // q/k/v projections carry a bias (Qwen2)
  int32_t bos_token_id = -1;     // -1 = none
  std::vector<int32_t> eos_token_ids;

  // Parses the "config" object of a weights file header; throws FormatError naming `source` and
  // the field that is missing or invalid.
  static ModelConfig from_json_text(const std::string& json_text, const std::string& source);
};

}  // namespace infer::model

#include "infer/model/inference_state.h"

#include "infer/base/allocator.h"
#include "infer/base/error.h"

namespace infer::model {

using base::DataType;
using tensor::Tensor;

InferenceState::InferenceState(const ModelConfig& config, int64_t max_seq_len,
                               base::DeviceType device)
    : config_(&config), max_seq_len_(max_seq_len), device_(device) {
  const int64_t kv_dim = config.n_kv_heads * config.head_dim;
  // Left uninitialised: attention reads only positions already written. On the CPU a large
  // block comes from mmap, so its pages are committed only as the context fills up.
  for (int64_t l = 0; l < config.n_layers; ++l) {
    k_cache_.push_back(Tensor::empty({max_seq_len, kv_dim}, DataType::kF32, device));
    v_cache_.push_back(Tensor::empty({max_seq_len, kv_dim}, DataType::kF32, device));
  }
  last_norm_ = Tensor::empty({1, config.dim}, DataType::kF32, device);
  logits_ = Tensor::empty({1, config.vocab_size}, DataType::kF32, device);
  logits_host_.resize(static_cast<size_t>(config.vocab_size));
}

void InferenceState::truncate(int64_t n) {
  if (n < 0 || n > n_past_) {
    throw base::InvalidArgument("cannot truncate a context of " + std::to_string(n_past_) +
                                " tokens to " + std::to_string(n));
  }
  n_past_ = n;
}

std::vector<float> InferenceState::cached_kv() const {
  const int64_t kv_dim = config_->n_kv_heads * config_->head_dim;
  const size_t block = static_cast<size_t>(n_past_ * kv_dim);
  std::vector<float> out(block * 2 * k_cache_.size());
  float* dst = out.data();
  for (size_t l = 0; l < k_cache_.size(); ++l) {
    for (const Tensor* cache : {&k_cache_[l], &v_cache_[l]}) {
      base::copy_bytes(dst, base::DeviceType::kCPU, cache->raw_data(), device_,
                       block * sizeof(float));
      dst += block;
    }
  }
  return out;
}

void InferenceState::restore_kv(int64_t n, const std::vector<float>& kv) {
  const int64_t kv_dim = config_->n_kv_heads * config_->head_dim;
  const size_t block = static_cast<size_t>(n * kv_dim);
  if (n < 0 || n > max_seq_len_) {
    throw base::InvalidArgument("cannot restore " + std::to_string(n) +
                                " cached positions into a context of " +
                                std::to_string(max_seq_len_));
  }
  if (kv.size() != block * 2 * k_cache_.size()) {
    throw base::InvalidArgument("cached keys and values for " + std::to_string(n) +
                                " positions need " + std::to_string(block * 2 * k_cache_.size()) +
                                " floats, got " + std::to_string(kv.size()));
  }
  const float* src = kv.data();
  for (size_t l = 0; l < k_cache_.size(); ++l) {
    for (Tensor* cache : {&k_cache_[l], &v_cache_[l]}) {
      base::copy_bytes(cache->raw_data(), device_, src, base::DeviceType::kCPU,
                       block * sizeof(float));
      src += block;
    }
  }
  n_past_ = n;
}

void InferenceState::reserve_rows(int64_t rows) {
  if (rows <= rows_) return;
  const ModelConfig& c = *config_;
  const int64_t q_dim = c.n_heads * c.head_dim;
  ids_ = Tensor::empty({rows}, DataType::kI32, device_);
  x_ = Tensor::empty({rows, c.dim}, DataType::kF32, device_);
  xn_ = Tensor::empty({rows, c.dim}, DataType::kF32, device_);
  q_ = Tensor::empty({rows, q_dim}, DataType::kF32, device_);
  attn_ = Tensor::empty({rows, q_dim}, DataType::kF32, device_);
  proj_ = Tensor::empty({rows, c.dim}, DataType::kF32, device_);
  gate_ = Tensor::empty({rows, c.hidden_dim}, DataType::kF32, device_);
  up_ = Tensor::empty({rows, c.hidden_dim}, DataType::kF32, device_);
  rows_ = rows;
}

}  // namespace infer::model

#include "infer/op/rope.h"

#include <glog/logging.h>

#include <algorithm>
#include <cmath>

#include "infer/kernels/registry.h"

namespace infer::op {

std::vector<float> Rope::inverse_frequencies(int64_t head_dim, double theta,
                                             const RopeScaling& scaling) {
  std::vector<float> inv_freq(static_cast<size_t>(head_dim / 2));
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
    inv_freq[i] = 1.f / static_cast<float>(std::pow(theta, static_cast<double>(exponent)));
  }
  const float factor = static_cast<float>(scaling.factor);
  if (scaling.type == RopeScaling::Type::kLinear) {
    for (float& f : inv_freq) f /= factor;
  } else if (scaling.type == RopeScaling::Type::kLlama3) {
    // Float32 throughout, step for step as transformers' _compute_llama3_parameters.
    const float old_context = static_cast<float>(scaling.original_max_position_embeddings);
    const float low = static_cast<float>(scaling.low_freq_factor);
    const float high = static_cast<float>(scaling.high_freq_factor);
    const float low_freq_wavelen = old_context / low;
    const float high_freq_wavelen = old_context / high;
    for (float& f : inv_freq) {
      const float wavelen = 2.f * static_cast<float>(M_PI) / f;
      if (wavelen > low_freq_wavelen) {
        f = f / factor;
      } else if (!(wavelen < high_freq_wavelen)) {
        const float smooth = (old_context / wavelen - low) / (high - low);
        f = (1.f - smooth) * f / factor + smooth * f;
      }
    }
  }
  return inv_freq;
}

Rope::Rope(int64_t head_dim, double theta, const RopeScaling& scaling, int64_t max_positions,
           base::DeviceType device)
    : head_dim_(head_dim),
      max_positions_(max_positions),
      device_(device),
      inv_freq_(inverse_frequencies(head_dim, theta, scaling)),
      kernel_(kernels::get_kernel<kernels::RopeKvOp>(device, base::DataType::kF32)) {
  CHECK(head_dim > 0 && head_dim % 2 == 0) << "head_dim " << head_dim;
  CHECK_GT(max_positions, 0);
}

const Rope::Tables& Rope::tables_for(int64_t end) const {
  CHECK(end > 0 && end <= max_positions_) << "positions up to " << end << " of " << max_positions_;
  std::lock_guard<std::mutex> lock(grow_);
  if (!tables_.empty() && tables_.back()->positions >= end) return *tables_.back();
  constexpr int64_t kFirstTable = 256;
  int64_t positions = tables_.empty() ? kFirstTable : 2 * tables_.back()->positions;
  while (positions < end) positions *= 2;
  positions = std::min(positions, max_positions_);
  const int64_t half = head_dim_ / 2;
  std::vector<float> cos_values(static_cast<size_t>(positions * half));
  std::vector<float> sin_values(cos_values.size());
  for (int64_t pos = 0; pos < positions; ++pos) {
    for (int64_t i = 0; i < half; ++i) {
      const double angle = static_cast<double>(pos) * static_cast<double>(inv_freq_[i]);
      cos_values[pos * half + i] = static_cast<float>(std::cos(angle));
      sin_values[pos * half + i] = static_cast<float>(std::sin(angle));
    }
  }
  auto tables = std::make_unique<Tables>();
  tables->positions = positions;
  tables->cos = tensor::Tensor::from_vector(cos_values, {positions, half});
  tables->sin = tensor::Tensor::from_vector(sin_values, {positions, half});
  if (device_ != base::DeviceType::kCPU) {
    tables->cos = tables->cos.to(device_);
    tables->sin = tables->sin.to(device_);
  }
  tables_.push_back(std::move(tables));
  return *tables_.back();
}

void Rope::forward(const kernels::KernelContext& ctx, tensor::Tensor& q, const tensor::Tensor& k,
                   const tensor::Tensor& v, int64_t n_heads, int64_t n_kv_heads,
                   const tensor::Tensor& positions, const Tables& tables,
                   const tensor::Tensor& slots, tensor::Tensor& k_pool,
                   tensor::Tensor& v_pool) const {
  const int64_t n_tokens = q.dim(0);
  const int64_t kv_dim = n_kv_heads * head_dim_;
  CHECK_EQ(q.numel(), n_tokens * n_heads * head_dim_);
  CHECK_EQ(k.numel(), n_tokens * kv_dim);
  CHECK_EQ(v.numel(), n_tokens * kv_dim);
  CHECK_EQ(positions.numel(), n_tokens);
  CHECK_EQ(slots.numel(), n_tokens);
  CHECK_EQ(k_pool.dim(1), kv_dim);
  CHECK(k_pool.shape() == v_pool.shape());
  kernel_(ctx, q.data<float>(), k.data<float>(), v.data<float>(), n_tokens, n_heads, n_kv_heads,
          head_dim_, positions.data<int32_t>(), tables.cos.data<float>(), tables.sin.data<float>(),
          slots.data<int32_t>(), k_pool.data<float>(), v_pool.data<float>());
}

}  // namespace infer::op

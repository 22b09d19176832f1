#include "infer/op/rope.h"

#include <glog/logging.h>

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
      kernel_(kernels::get_kernel<kernels::RopeOp>(device, base::DataType::kF32)) {
  CHECK(head_dim > 0 && head_dim % 2 == 0) << "head_dim " << head_dim;
  const int64_t half = head_dim / 2;
  const std::vector<float> inv_freq = inverse_frequencies(head_dim, theta, scaling);
  std::vector<float> cos_values(static_cast<size_t>(max_positions * half));
  std::vector<float> sin_values(cos_values.size());
  for (int64_t pos = 0; pos < max_positions; ++pos) {
    for (int64_t i = 0; i < half; ++i) {
      const double angle = static_cast<double>(pos) * static_cast<double>(inv_freq[i]);
      cos_values[pos * half + i] = static_cast<float>(std::cos(angle));
      sin_values[pos * half + i] = static_cast<float>(std::sin(angle));
    }
  }
  cos_ = tensor::Tensor::from_vector(cos_values, {max_positions, half});
  sin_ = tensor::Tensor::from_vector(sin_values, {max_positions, half});
  if (device != base::DeviceType::kCPU) {
    cos_ = cos_.to(device);
    sin_ = sin_.to(device);
  }
}

void Rope::forward(const kernels::KernelContext& ctx, tensor::Tensor& x, int64_t n_heads,
                   const tensor::Tensor& positions) const {
  const int64_t n_tokens = x.dim(0);
  const int64_t row_stride = x.numel() / std::max<int64_t>(n_tokens, 1);
  CHECK_EQ(row_stride, n_heads * head_dim_);
  CHECK_EQ(positions.numel(), n_tokens);
  kernel_(ctx, x.data<float>(), n_tokens, n_heads, head_dim_, row_stride, positions.data<int32_t>(),
          cos_.data<float>(), sin_.data<float>());
}

}  // namespace infer::op

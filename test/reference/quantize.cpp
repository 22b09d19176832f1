#include "quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace infer::test::reference {

std::vector<uint16_t> to_f16(const std::vector<float>& v) {
  std::vector<uint16_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const _Float16 h = static_cast<_Float16>(v[i]);
    std::memcpy(&out[i], &h, 2);
  }
  return out;
}

std::vector<float> from_f16(const std::vector<uint16_t>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    _Float16 h;
    std::memcpy(&h, &v[i], 2);
    out[i] = static_cast<float>(h);
  }
  return out;
}

std::vector<uint16_t> to_bf16(const std::vector<float>& v) {
  std::vector<uint16_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &v[i], 4);
    bits += 0x7FFF + ((bits >> 16) & 1);
    out[i] = static_cast<uint16_t>(bits >> 16);
  }
  return out;
}

std::vector<float> from_bf16(const std::vector<uint16_t>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const uint32_t bits = static_cast<uint32_t>(v[i]) << 16;
    std::memcpy(&out[i], &bits, 4);
  }
  return out;
}

Int8Groups quantize_i8(const std::vector<float>& w, int64_t rows, int64_t cols, int64_t group,
                       bool asymmetric) {
  const int64_t groups = rows * cols / group;
  Int8Groups q{std::vector<int8_t>(w.size()), std::vector<float>(groups),
               std::vector<float>(asymmetric ? groups : 0)};
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < cols / group; ++g) {
      const auto begin = w.begin() + r * cols + g * group;
      const auto [lo, hi] = std::minmax_element(begin, begin + group);
      const float scale = asymmetric ? (*hi - *lo) / 255.f : std::max(-*lo, *hi) / 127.f;
      const float offset = asymmetric ? *lo + 128.f * scale : 0.f;
      q.scales[r * (cols / group) + g] = scale;
      if (asymmetric) q.offsets[r * (cols / group) + g] = offset;
      for (int64_t i = g * group; i < (g + 1) * group; ++i)
        q.values[r * cols + i] = static_cast<int8_t>(
            scale == 0 ? 0
                       : std::clamp(std::lround((w[r * cols + i] - offset) / scale), -128L, 127L));
    }
  return q;
}

std::vector<float> dequantize_i8(const Int8Groups& q, int64_t rows, int64_t cols, int64_t group) {
  std::vector<float> out(q.values.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < cols; ++i)
      out[r * cols + i] = q.values[r * cols + i] * q.scales[r * (cols / group) + i / group] +
                          (q.offsets.empty() ? 0.f : q.offsets[r * (cols / group) + i / group]);
  return out;
}

}  // namespace infer::test::reference

#include "quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace infer::test::reference {
namespace {
// IEEE half by its definition, in float arithmetic: no compiler half type (clang 14, the
// sanitizer + fuzzer build's compiler, has none on x86-64) and nothing shared with the kernels.
// std::nearbyint rounds to nearest even in the default rounding mode, as the conversion must.
uint16_t half_bits(float v) {
  const uint16_t sign = std::signbit(v) ? 0x8000 : 0;
  const float a = std::fabs(v);
  if (std::isnan(v)) return sign | 0x7E00;
  if (a >= 65520.0f) return sign | 0x7C00;  // 65520 and above round to infinity
  if (a < std::ldexp(1.0f, -14)) {          // subnormal: units of 2^-24 (1024 reaches 2^-14)
    return sign | static_cast<uint16_t>(std::nearbyint(std::ldexp(a, 24)));
  }
  int exponent;
  std::frexp(a, &exponent);
  --exponent;  // a = 1.f * 2^exponent
  auto significand = static_cast<uint32_t>(std::nearbyint(std::ldexp(a, 10 - exponent)));
  if (significand == 2048) {  // rounded up to the next power of two
    significand = 1024;
    ++exponent;
  }
  return sign | static_cast<uint16_t>((exponent + 15) << 10) |
         static_cast<uint16_t>(significand - 1024);
}

float half_value(uint16_t h) {
  const float sign = (h & 0x8000) ? -1.0f : 1.0f;
  const int exponent = (h >> 10) & 0x1F;
  const int mantissa = h & 0x3FF;
  if (exponent == 0x1F) {
    return mantissa ? std::numeric_limits<float>::quiet_NaN()
                    : sign * std::numeric_limits<float>::infinity();
  }
  if (exponent == 0) return sign * std::ldexp(static_cast<float>(mantissa), -24);
  return sign * std::ldexp(static_cast<float>(1024 + mantissa), exponent - 25);
}
}  // namespace

std::vector<uint16_t> to_f16(const std::vector<float>& v) {
  std::vector<uint16_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = half_bits(v[i]);
  return out;
}

std::vector<float> from_f16(const std::vector<uint16_t>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = half_value(v[i]);
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

#pragma once
// Scalar conversions from the stored weight dtypes to f32 (internal to the CPU kernels).
#include <cstdint>
#include <cstring>

#include "infer/base/dtype.h"
#include "infer/kernels/ops.h"

namespace infer::kernels::cpu {

inline float bf16_to_f32(uint16_t v) {
  const uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

// IEEE binary16 -> binary32, subnormals, infinities and NaN included.
inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1F;
  uint32_t mantissa = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000 | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal: normalise it
    exponent = 113;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3FF) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

// Writes row `row` (cols elements) of weight `w`, stored as `dtype`, to dst as f32.
inline void dequantize_row(base::DataType dtype, const WeightRef& w, int64_t row, int64_t cols,
                           float* dst) {
  switch (dtype) {
    case base::DataType::kF32:
      std::memcpy(dst, static_cast<const float*>(w.data) + row * cols, cols * sizeof(float));
      return;
    case base::DataType::kF16: {
      const auto* src = static_cast<const uint16_t*>(w.data) + row * cols;
      for (int64_t i = 0; i < cols; ++i) dst[i] = f16_to_f32(src[i]);
      return;
    }
    case base::DataType::kBF16: {
      const auto* src = static_cast<const uint16_t*>(w.data) + row * cols;
      for (int64_t i = 0; i < cols; ++i) dst[i] = bf16_to_f32(src[i]);
      return;
    }
    case base::DataType::kI8: {
      const auto* src = static_cast<const int8_t*>(w.data) + row * cols;
      const int64_t groups = cols / w.group_size;
      const float* scales = w.scales + row * groups;
      const float* offsets = w.offsets ? w.offsets + row * groups : nullptr;
      for (int64_t g = 0; g < groups; ++g) {
        const float scale = scales[g];
        const float offset = offsets ? offsets[g] : 0.0f;
        for (int64_t i = g * w.group_size; i < (g + 1) * w.group_size; ++i)
          dst[i] = src[i] * scale + offset;
      }
      return;
    }
    case base::DataType::kI32:
      break;
  }
}

}  // namespace infer::kernels::cpu

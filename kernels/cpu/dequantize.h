#pragma once
// Scalar conversions from the stored weight dtypes to f32 (internal to the CPU kernels).
#include <cstdint>
#include <cstring>

// Host and device: the CUDA block kernels dequantize with the very functions the CPU uses (the
// format headers in quant/), so both give the same floats.
#if defined(__CUDACC__)
#define INFER_HOST_DEVICE __host__ __device__
#else
#define INFER_HOST_DEVICE
#endif

namespace infer::kernels::cpu {

inline float bf16_to_f32(uint16_t v) {
  const uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

// IEEE binary16 -> binary32, subnormals, infinities and NaN included.
INFER_HOST_DEVICE inline float f16_to_f32(uint16_t h) {
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

}  // namespace infer::kernels::cpu

#pragma once
// Reference conversions to the stored weight dtypes, written independently of the kernels
// (f16 by the format's definition), for kernel tests.
#include <cstdint>
#include <vector>

namespace infer::test::reference {

std::vector<uint16_t> to_f16(const std::vector<float>& v);
std::vector<float> from_f16(const std::vector<uint16_t>& v);
// Round to nearest even, as torch's float32 -> bfloat16.
std::vector<uint16_t> to_bf16(const std::vector<float>& v);
std::vector<float> from_bf16(const std::vector<uint16_t>& v);

struct Int8Groups {
  std::vector<int8_t> values;  // [rows, cols]
  std::vector<float> scales;   // [rows, cols / group]
  std::vector<float> offsets;  // [rows, cols / group]; empty when symmetric
};
// Symmetric: scale = max|w| / 127 per group, q = round(w / scale). Asymmetric: the group's
// [min, max] spread over q in [-128, 127], w = q * scale + offset.
Int8Groups quantize_i8(const std::vector<float>& w, int64_t rows, int64_t cols, int64_t group,
                       bool asymmetric = false);
std::vector<float> dequantize_i8(const Int8Groups& q, int64_t rows, int64_t cols, int64_t group);

}  // namespace infer::test::reference

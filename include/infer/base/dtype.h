#pragma once
// Element types of tensors and weights.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace infer::base {

enum class DataType : uint8_t { kF32, kF16, kBF16, kI8, kI32 };

// Bytes per element.
size_t dtype_size(DataType dtype);

// Short lowercase name as used in the weights file ("f32", "f16", "bf16", "i8", "i32").
const char* dtype_name(DataType dtype);

// Inverse of dtype_name; throws FormatError naming the unknown string.
DataType parse_dtype(std::string_view name);

template <typename T>
constexpr DataType dtype_of();
template <>
constexpr DataType dtype_of<float>() {
  return DataType::kF32;
}
template <>
constexpr DataType dtype_of<int32_t>() {
  return DataType::kI32;
}
template <>
constexpr DataType dtype_of<int8_t>() {
  return DataType::kI8;
}

}  // namespace infer::base

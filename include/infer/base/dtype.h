#pragma once
// Element types of tensors and weights, and the table that says how each is laid out: plain
// element types (f32, f16, bf16, i8, i32) and GGUF's quantized block formats (q8_0 ... q6_k),
// where `block_elements` consecutive values of a row share `block_bytes` bytes of codes, scales
// and minimums. Sizes are always computed through the table, never as numel × element size.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace infer::base {

enum class DataType : uint8_t {
  kF32,
  kF16,
  kBF16,
  kI8,
  kI32,
  // GGUF block formats, bit for bit as llama.cpp's ggml stores them (docs/weights-format.md).
  kQ8_0,
  kQ4_0,
  kQ4_1,
  kQ5_0,
  kQ5_1,
  kQ4_K,
  kQ5_K,
  kQ6_K,
};

struct DataTypeInfo {
  DataType type;
  const char* name;        // as in the weights file: "f32", "q4_0", "q4_k" ...
  int64_t block_elements;  // 1 for element types
  int64_t block_bytes;     // bytes of one block (of one element for element types)
  const char* layout;      // one line on how a block stores its values, for docs and errors
};

// Every dtype, in enum order.
const DataTypeInfo* all_dtypes(size_t* count);
const DataTypeInfo& dtype_info(DataType dtype);

// True for the quantized block formats (block_elements > 1).
bool is_block_format(DataType dtype);

// Bytes per element of an element type; throws Error for a block format (use dtype_bytes).
size_t dtype_size(DataType dtype);

// Bytes that `numel` consecutive values take; throws FormatError when numel is not a whole
// number of blocks.
uint64_t dtype_bytes(DataType dtype, int64_t numel);

// Short lowercase name as used in the weights file.
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

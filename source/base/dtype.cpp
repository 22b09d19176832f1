#include "infer/base/dtype.h"

#include <iterator>

#include "infer/base/error.h"

namespace infer::base {

namespace {

// One row per dtype, in enum order (checked below). The block layouts are ggml's; d and m are
// f16 unless noted, q the codes of the block's values.
constexpr DataTypeInfo kTable[] = {
    {DataType::kF32, "f32", 1, 4, "IEEE binary32"},
    {DataType::kF16, "f16", 1, 2, "IEEE binary16"},
    {DataType::kBF16, "bf16", 1, 2, "bfloat16 (the top half of a binary32)"},
    {DataType::kI8, "i8", 1, 1, "int8 with per-group f32 scales (and offsets) in NAME.scales"},
    {DataType::kI32, "i32", 1, 4, "int32"},
    {DataType::kQ8_0, "q8_0", 32, 34, "d, 32 x int8 q: w = d*q"},
    {DataType::kQ4_0, "q4_0", 32, 18, "d, 16 bytes of 4-bit q: w = d*(q-8)"},
    {DataType::kQ4_1, "q4_1", 32, 20, "d, m, 16 bytes of 4-bit q: w = d*q + m"},
    {DataType::kQ5_0, "q5_0", 32, 22, "d, 32 high bits, 16 bytes of low nibbles: w = d*(q-16)"},
    {DataType::kQ5_1, "q5_1", 32, 24, "d, m, 32 high bits, 16 bytes of low nibbles: w = d*q + m"},
    {DataType::kQ4_K, "q4_k", 256, 144,
     "d, dmin, 8 x 6-bit scales and mins, 128 bytes of 4-bit q: w = d*sc*q - dmin*mn per 32"},
    {DataType::kQ5_K, "q5_k", 256, 176,
     "d, dmin, 8 x 6-bit scales and mins, 32 bytes of high bits, 128 of nibbles: as q4_k, 5-bit"},
    {DataType::kQ6_K, "q6_k", 256, 210,
     "128 bytes of low nibbles, 64 of high 2 bits, 16 int8 scales, d: w = d*sc*(q-32) per 16"},
};

constexpr bool table_in_enum_order() {
  for (size_t i = 0; i < std::size(kTable); ++i)
    if (static_cast<size_t>(kTable[i].type) != i) return false;
  return true;
}
static_assert(table_in_enum_order(), "kTable rows must follow the DataType enum");

}  // namespace

const DataTypeInfo* all_dtypes(size_t* count) {
  *count = std::size(kTable);
  return kTable;
}

const DataTypeInfo& dtype_info(DataType dtype) {
  const size_t i = static_cast<size_t>(dtype);
  if (i >= std::size(kTable)) throw Error("invalid DataType " + std::to_string(i));
  return kTable[i];
}

bool is_block_format(DataType dtype) { return dtype_info(dtype).block_elements > 1; }

size_t dtype_size(DataType dtype) {
  const DataTypeInfo& info = dtype_info(dtype);
  if (info.block_elements != 1) {
    throw Error(std::string("dtype_size: ") + info.name +
                " stores blocks of values, not single elements");
  }
  return static_cast<size_t>(info.block_bytes);
}

uint64_t dtype_bytes(DataType dtype, int64_t numel) {
  const DataTypeInfo& info = dtype_info(dtype);
  if (numel < 0 || numel % info.block_elements != 0) {
    throw FormatError(std::to_string(numel) + " values are not a whole number of " + info.name +
                      " blocks of " + std::to_string(info.block_elements));
  }
  return static_cast<uint64_t>(numel / info.block_elements) *
         static_cast<uint64_t>(info.block_bytes);
}

const char* dtype_name(DataType dtype) {
  const size_t i = static_cast<size_t>(dtype);
  return i < std::size(kTable) ? kTable[i].name : "invalid";
}

DataType parse_dtype(std::string_view name) {
  std::string known;
  for (const DataTypeInfo& info : kTable) {
    if (name == info.name) return info.type;
    known += known.empty() ? info.name : std::string(", ") + info.name;
  }
  throw FormatError("unknown dtype '" + std::string(name) + "' (expected one of " + known + ")");
}

}  // namespace infer::base

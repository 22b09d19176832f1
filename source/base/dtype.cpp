#include "infer/base/dtype.h"

#include "infer/base/error.h"

namespace infer::base {

size_t dtype_size(DataType dtype) {
  switch (dtype) {
    case DataType::kF32:
    case DataType::kI32:
      return 4;
    case DataType::kF16:
    case DataType::kBF16:
      return 2;
    case DataType::kI8:
      return 1;
  }
  throw Error("dtype_size: invalid DataType");
}

const char* dtype_name(DataType dtype) {
  switch (dtype) {
    case DataType::kF32:
      return "f32";
    case DataType::kF16:
      return "f16";
    case DataType::kBF16:
      return "bf16";
    case DataType::kI8:
      return "i8";
    case DataType::kI32:
      return "i32";
  }
  return "invalid";
}

DataType parse_dtype(std::string_view name) {
  for (DataType t :
       {DataType::kF32, DataType::kF16, DataType::kBF16, DataType::kI8, DataType::kI32}) {
    if (name == dtype_name(t)) return t;
  }
  throw FormatError("unknown dtype '" + std::string(name) +
                    "' (expected f32, f16, bf16, i8 or i32)");
}

}  // namespace infer::base

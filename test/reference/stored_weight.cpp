#include "stored_weight.h"

#include <cstring>

#include "quantize.h"

namespace infer::test::reference {

using base::DataType;
using tensor::Tensor;

StoredWeight store(const std::vector<float>& w, int64_t rows, int64_t cols, DataType dtype,
                   base::DeviceType device, bool asymmetric, int64_t group) {
  StoredWeight s;
  auto raw = [&](const void* bytes, DataType t) {
    Tensor tensor = Tensor::empty({rows, cols}, t, base::DeviceType::kCPU);
    std::memcpy(tensor.raw_data(), bytes, tensor.bytes());
    return tensor;
  };
  if (dtype == DataType::kF32) {
    s = {op::Weight{Tensor::from_vector(w, {rows, cols})}, w};
  } else if (dtype == DataType::kF16) {
    const auto half = to_f16(w);
    s = {op::Weight{raw(half.data(), dtype)}, from_f16(half)};
  } else if (dtype == DataType::kBF16) {
    const auto half = to_bf16(w);
    s = {op::Weight{raw(half.data(), dtype)}, from_bf16(half)};
  } else {
    const auto q = quantize_i8(w, rows, cols, group, asymmetric);
    const int64_t groups = cols / group;
    s = {op::Weight{raw(q.values.data(), dtype), Tensor::from_vector(q.scales, {rows, groups}),
                    group, asymmetric ? Tensor::from_vector(q.offsets, {rows, groups}) : Tensor()},
         dequantize_i8(q, rows, cols, group)};
  }
  if (device != base::DeviceType::kCPU) s.weight = s.weight.to(device);
  return s;
}

}  // namespace infer::test::reference

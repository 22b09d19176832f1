#include "stored_weight.h"

#include <cstring>

#include <random>
#include <string>

#include "infer/base/error.h"

#include "infer/kernels/block_formats.h"
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

namespace {

// Byte offsets of the f16 scale and minimum fields inside one block of each format.
std::vector<int> half_fields(DataType dtype) {
  switch (dtype) {
    case DataType::kQ4_1:
    case DataType::kQ5_1:
    case DataType::kQ4_K:
    case DataType::kQ5_K:
      return {0, 2};
    case DataType::kQ6_K:
      return {208};
    default:
      return {0};
  }
}

}  // namespace

StoredWeight random_blocks(DataType dtype, int64_t rows, int64_t cols, uint32_t seed,
                           float max_scale) {
  Tensor t = Tensor::empty({rows, cols}, dtype, base::DeviceType::kCPU);
  auto* bytes = static_cast<uint8_t*>(t.raw_data());
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  const size_t size = t.bytes();
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(byte(rng));
  std::uniform_real_distribution<float> scale(-max_scale, max_scale);
  const base::DataTypeInfo& info = base::dtype_info(dtype);
  for (size_t b = 0; b < t.bytes() / static_cast<size_t>(info.block_bytes); ++b) {
    for (int offset : half_fields(dtype)) {
      const uint16_t h = to_f16({scale(rng)})[0];
      std::memcpy(bytes + b * info.block_bytes + offset, &h, sizeof(h));
    }
  }
  std::vector<float> values(static_cast<size_t>(rows * cols));
  kernels::dequantize_blocks(dtype, bytes, rows * cols, values.data());
  return {op::Weight{t}, values};
}

op::Weight random_weight(DataType dtype, int64_t rows, int64_t cols, uint32_t seed) {
  const int64_t block = base::dtype_info(dtype).block_elements;
  if (cols % block != 0) {
    throw base::InvalidArgument(std::string(base::dtype_name(dtype)) + " rows of " +
                                std::to_string(cols) + " values are not whole blocks");
  }
  if (block > 1) return random_blocks(dtype, rows, cols, seed).weight;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> values(static_cast<size_t>(rows * cols));
  for (float& v : values) v = dist(rng);
  return store(values, rows, cols, dtype, base::DeviceType::kCPU, /*asymmetric=*/true).weight;
}

int64_t stored_bytes(const op::Weight& w) {
  return static_cast<int64_t>(w.data.bytes() + (w.scales.empty() ? 0 : w.scales.bytes()) +
                              (w.offsets.empty() ? 0 : w.offsets.bytes()));
}

}  // namespace infer::test::reference

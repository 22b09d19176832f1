#pragma once
// A weight matrix in its stored dtype: f32, f16, bf16, or i8 with per-group f32 scales (and
// offsets, when asymmetric). Param
// layers hold Weights; kernels dequantise on the fly, so nothing is upcast at load.
#include <cstdint>

#include "infer/kernels/ops.h"
#include "infer/tensor/tensor.h"

namespace infer::op {

struct Weight {
  tensor::Tensor data;    // [rows, cols] (or [cols] for vectors)
  tensor::Tensor scales;  // i8 only: [rows, cols / group_size] f32; empty otherwise
  int64_t group_size = 0;
  tensor::Tensor offsets;  // asymmetric i8 only: [rows, cols / group_size] f32; empty otherwise
  // Block formats on the CPU: the same blocks rearranged for the kernels (Matmul makes it when
  // the ISA in use computes on it); empty otherwise.
  tensor::Tensor prepared;

  base::DataType dtype() const { return data.dtype(); }
  base::DeviceType device() const { return data.device(); }
  kernels::WeightRef ref() const {
    const auto floats = [](const tensor::Tensor& t) -> const float* {
      return t.empty() ? nullptr : t.data<float>();
    };
    return {data.raw_data(),
            floats(scales),
            group_size,
            floats(offsets),
            prepared.empty() ? nullptr : prepared.raw_data(),
            data.empty() ? 0 : data.dim(0)};
  }
  // A copy on `device` (data, scales and offsets; no prepared copy).
  Weight to(base::DeviceType device) const {
    const auto copy = [&](const tensor::Tensor& t) {
      return t.empty() ? tensor::Tensor() : t.to(device);
    };
    return {data.to(device), copy(scales), group_size, copy(offsets), {}};
  }
};

}  // namespace infer::op

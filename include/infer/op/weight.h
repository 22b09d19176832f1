#pragma once
// A weight matrix in its stored dtype: f32, f16, bf16, or i8 with per-group f32 scales. Param
// layers hold Weights; kernels dequantise on the fly, so nothing is upcast at load.
#include <cstdint>

#include "infer/kernels/ops.h"
#include "infer/tensor/tensor.h"

namespace infer::op {

struct Weight {
  tensor::Tensor data;    // [rows, cols] (or [cols] for vectors)
  tensor::Tensor scales;  // i8 only: [rows, cols / group_size] f32; empty otherwise
  int64_t group_size = 0;

  base::DataType dtype() const { return data.dtype(); }
  base::DeviceType device() const { return data.device(); }
  kernels::WeightRef ref() const {
    return {data.raw_data(), scales.empty() ? nullptr : scales.data<float>(), group_size};
  }
  // A copy on `device` (data and scales).
  Weight to(base::DeviceType device) const {
    return {data.to(device), scales.empty() ? tensor::Tensor() : scales.to(device), group_size};
  }
};

}  // namespace infer::op

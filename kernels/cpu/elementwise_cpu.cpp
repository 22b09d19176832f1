// Element-wise and row-wise kernels: SwiGLU, Add, BiasAdd, Softmax, Argmax.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "infer/kernels/registry.h"

namespace infer::kernels {
namespace {

void swiglu_f32_cpu(const KernelContext&, const float* gate, const float* up, float* out,
                    int64_t n) {
#pragma omp parallel for if (n > 65536)
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.f + std::exp(-gate[i])) * up[i];
}

void add_f32_cpu(const KernelContext&, const float* a, const float* b, float* out, int64_t n) {
#pragma omp parallel for if (n > 65536)
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void bias_add_f32_cpu(const KernelContext&, float* x, const float* bias, int64_t rows,
                      int64_t cols) {
#pragma omp parallel for if (rows > 1)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) x[r * cols + c] += bias[c];
  }
}

void softmax_f32_cpu(const KernelContext&, float* x, int64_t rows, int64_t cols) {
#pragma omp parallel for if (rows > 1)
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    const float max = *std::max_element(row, row + cols);
    float sum = 0.f;
    for (int64_t i = 0; i < cols; ++i) {
      row[i] = std::exp(row[i] - max);
      sum += row[i];
    }
    for (int64_t i = 0; i < cols; ++i) row[i] /= sum;
  }
}

void argmax_f32_cpu(const KernelContext&, const float* x, int64_t rows, int64_t cols,
                    int32_t* out) {
#pragma omp parallel for if (rows > 1)
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    if (std::any_of(row, row + cols, [](float v) { return std::isnan(v); })) {
      out[r] = -1;
      continue;
    }
    // max_element returns the first of equal maxima, the same tie rule as torch.argmax.
    out[r] = static_cast<int32_t>(std::max_element(row, row + cols) - row);
  }
}

INFER_REGISTER_KERNEL(SwiGLUOp, base::DeviceType::kCPU, base::DataType::kF32, swiglu_f32_cpu);
INFER_REGISTER_KERNEL(AddOp, base::DeviceType::kCPU, base::DataType::kF32, add_f32_cpu);
INFER_REGISTER_KERNEL(BiasAddOp, base::DeviceType::kCPU, base::DataType::kF32, bias_add_f32_cpu);
INFER_REGISTER_KERNEL(SoftmaxOp, base::DeviceType::kCPU, base::DataType::kF32, softmax_f32_cpu);
INFER_REGISTER_KERNEL(ArgmaxOp, base::DeviceType::kCPU, base::DataType::kF32, argmax_f32_cpu);

}  // namespace
}  // namespace infer::kernels

// Element-wise and row-wise kernels: SwiGLU, Add, BiasAdd, Softmax, Argmax.
#include <cfloat>

#include "cuda_launch.cuh"
#include "infer/kernels/registry.h"

namespace infer::kernels::cuda {
namespace {

__global__ void swiglu_kernel(const float* gate, const float* up, float* out, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = gate[i] / (1.f + expf(-gate[i])) * up[i];
}

__global__ void add_kernel(const float* a, const float* b, float* out, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = a[i] + b[i];
}

__global__ void bias_add_kernel(float* x, const float* bias, int64_t n, int64_t cols) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) x[i] += bias[i % cols];
}

__device__ float block_max(float v) {
  __shared__ float partial[32];
  for (int offset = 16; offset > 0; offset >>= 1)
    v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, offset));
  __syncthreads();
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
  __syncthreads();
  float m = -FLT_MAX;
  for (int w = 0; w < static_cast<int>((blockDim.x + 31) / 32); ++w) m = fmaxf(m, partial[w]);
  return m;
}

__global__ void softmax_kernel(float* x, int64_t cols) {
  float* row = x + blockIdx.x * cols;
  float local_max = -FLT_MAX;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) local_max = fmaxf(local_max, row[i]);
  const float max = block_max(local_max);
  float local_sum = 0.f;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
    row[i] = expf(row[i] - max);
    local_sum += row[i];
  }
  const float sum = block_sum(local_sum);
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) row[i] /= sum;
}

// A block per row; each thread keeps its best (value, lowest index) and whether it saw a NaN,
// then a shared-memory tree.
__global__ void argmax_kernel(const float* x, int64_t cols, int32_t* out) {
  constexpr int kThreads = 1024;
  __shared__ float best_value[kThreads];
  __shared__ int64_t best_index[kThreads];
  __shared__ int saw_nan;
  const float* row = x + static_cast<int64_t>(blockIdx.x) * cols;
  if (threadIdx.x == 0) saw_nan = 0;
  __syncthreads();
  float value = -INFINITY;
  int64_t index = cols;  // none yet: any value, -inf included, replaces it
  bool nan = false;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
    const float v = row[i];
    nan |= isnan(v);
    if (v > value || index == cols) {
      value = v;
      index = i;
    }
  }
  if (nan) saw_nan = 1;
  best_value[threadIdx.x] = value;
  best_index[threadIdx.x] = index;
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) {
      const float v = best_value[threadIdx.x + stride];
      const int64_t j = best_index[threadIdx.x + stride];
      if (v > best_value[threadIdx.x] ||
          (v == best_value[threadIdx.x] && j < best_index[threadIdx.x])) {
        best_value[threadIdx.x] = v;
        best_index[threadIdx.x] = j;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = saw_nan ? -1 : static_cast<int32_t>(best_index[0]);
}

void swiglu_f32_cuda(const KernelContext& ctx, const float* gate, const float* up, float* out,
                     int64_t n) {
  if (n == 0) return;
  swiglu_kernel<<<blocks_for(n, 256), 256, 0, stream_of(ctx)>>>(gate, up, out, n);
  INFER_CUDA_CHECK_LAUNCH();
}

void add_f32_cuda(const KernelContext& ctx, const float* a, const float* b, float* out, int64_t n) {
  if (n == 0) return;
  add_kernel<<<blocks_for(n, 256), 256, 0, stream_of(ctx)>>>(a, b, out, n);
  INFER_CUDA_CHECK_LAUNCH();
}

void bias_add_f32_cuda(const KernelContext& ctx, float* x, const float* bias, int64_t rows,
                       int64_t cols) {
  const int64_t n = rows * cols;
  if (n == 0) return;
  bias_add_kernel<<<blocks_for(n, 256), 256, 0, stream_of(ctx)>>>(x, bias, n, cols);
  INFER_CUDA_CHECK_LAUNCH();
}

void softmax_f32_cuda(const KernelContext& ctx, float* x, int64_t rows, int64_t cols) {
  if (rows == 0) return;
  softmax_kernel<<<static_cast<unsigned>(rows), 256, 0, stream_of(ctx)>>>(x, cols);
  INFER_CUDA_CHECK_LAUNCH();
}

void argmax_f32_cuda(const KernelContext& ctx, const float* x, int64_t rows, int64_t cols,
                     int32_t* out) {
  if (rows == 0) return;
  argmax_kernel<<<static_cast<unsigned>(rows), 1024, 0, stream_of(ctx)>>>(x, cols, out);
  INFER_CUDA_CHECK_LAUNCH();
}

INFER_REGISTER_KERNEL(SwiGLUOp, base::DeviceType::kCUDA, base::DataType::kF32, swiglu_f32_cuda);
INFER_REGISTER_KERNEL(AddOp, base::DeviceType::kCUDA, base::DataType::kF32, add_f32_cuda);
INFER_REGISTER_KERNEL(BiasAddOp, base::DeviceType::kCUDA, base::DataType::kF32, bias_add_f32_cuda);
INFER_REGISTER_KERNEL(SoftmaxOp, base::DeviceType::kCUDA, base::DataType::kF32, softmax_f32_cuda);
INFER_REGISTER_KERNEL(ArgmaxOp, base::DeviceType::kCUDA, base::DataType::kF32, argmax_f32_cuda);

}  // namespace
}  // namespace infer::kernels::cuda

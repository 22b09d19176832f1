#pragma once
// Shared helpers for libinfer's CUDA kernels.
#include <cuda_runtime.h>

#include <cstdint>

#include "infer/base/cuda_check.h"
#include "infer/kernels/kernel_context.h"

namespace infer::kernels::cuda {

inline cudaStream_t stream_of(const KernelContext& ctx) {
  return static_cast<cudaStream_t>(ctx.cuda_stream);
}

inline bool aligned_16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

inline unsigned blocks_for(int64_t n, int threads) {
  return static_cast<unsigned>((n + threads - 1) / threads);
}

// Launch errors are reported immediately; execution errors surface at the next synchronising call.
#define INFER_CUDA_CHECK_LAUNCH() INFER_CUDA_CHECK(cudaGetLastError())

// Sum of `v` over a block of blockDim.x threads (a multiple of 32, at most 1024); every thread
// gets the result.
__device__ inline float block_sum(float v) {
  __shared__ float partial[32];
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  __syncthreads();  // partial[] may still be read by a previous call
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  const int n_warps = (blockDim.x + 31) / 32;
  float total = 0.f;
  for (int w = 0; w < n_warps; ++w) total += partial[w];
  return total;
}

}  // namespace infer::kernels::cuda

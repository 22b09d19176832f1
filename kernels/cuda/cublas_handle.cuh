#pragma once
// The cuBLAS handle of the calling host thread, bound to the kernel's stream.
#include <cublas_v2.h>

#include "cuda_launch.cuh"

namespace infer::kernels::cuda {

inline cublasHandle_t cublas_handle_for(cudaStream_t stream) {
  // One handle per host thread, created on first use; rebinding the stream is cheap.
  thread_local cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    INFER_CUBLAS_CHECK(cublasCreate(&h));
    return h;
  }();
  INFER_CUBLAS_CHECK(cublasSetStream(handle, stream));
  return handle;
}

}  // namespace infer::kernels::cuda

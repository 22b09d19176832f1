#pragma once
// Internal to libinfer's CUDA sources (not installed for consumers to rely on): turns a failed
// CUDA or cuBLAS call into an infer::base::Error naming the call and where it was made.
#include <string>

#include "infer/base/error.h"

#define INFER_CUDA_CHECK(call)                                                         \
  do {                                                                                 \
    cudaError_t infer_err_ = (call);                                                   \
    if (infer_err_ != cudaSuccess) {                                                   \
      throw ::infer::base::Error(std::string(#call) + " failed at " + __FILE__ + ":" + \
                                 std::to_string(__LINE__) + ": " +                     \
                                 cudaGetErrorString(infer_err_));                      \
    }                                                                                  \
  } while (0)

#define INFER_CUBLAS_CHECK(call)                                                       \
  do {                                                                                 \
    cublasStatus_t infer_st_ = (call);                                                 \
    if (infer_st_ != CUBLAS_STATUS_SUCCESS) {                                          \
      throw ::infer::base::Error(std::string(#call) + " failed at " + __FILE__ + ":" + \
                                 std::to_string(__LINE__) + ": cuBLAS status " +       \
                                 std::to_string(static_cast<int>(infer_st_)));         \
    }                                                                                  \
  } while (0)

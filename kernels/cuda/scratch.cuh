#pragma once
// Device memory for the length of one kernel call, from CUDA's stream-ordered pool: it is freed
// in stream order, so another stream cannot be handed it while the kernels that use it are still
// queued, and the pool keeps freed memory for the next call (cuda_runtime.cpp sets it so) instead
// of returning it to the driver: a steady decode step allocates nothing from the driver. Inside
// the recording of a CUDA graph it becomes the graph's own allocation.
#include <cstddef>

#include "cuda_launch.cuh"

namespace infer::kernels::cuda {

class Scratch {
 public:
  Scratch(size_t bytes, cudaStream_t stream) : stream_(stream) {
    INFER_CUDA_CHECK(cudaMallocAsync(&ptr_, bytes, stream));
  }
  ~Scratch() { cudaFreeAsync(ptr_, stream_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <class T = float>
  T* data() const {
    return static_cast<T*>(ptr_);
  }

 private:
  cudaStream_t stream_;
  void* ptr_ = nullptr;
};

}  // namespace infer::kernels::cuda

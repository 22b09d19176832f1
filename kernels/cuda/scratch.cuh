#pragma once
// Device memory for the length of one kernel call, from CUDA's stream-ordered pool: it is freed
// in stream order, so another stream cannot be handed it while the kernels that use it are still
// queued, and the pool keeps freed memory for the next call instead of returning it to the
// driver, so a steady decode step allocates nothing from the driver.
#include <cstdint>
#include <mutex>

#include "cuda_launch.cuh"

namespace infer::kernels::cuda {

class Scratch {
 public:
  Scratch(size_t bytes, cudaStream_t stream) : stream_(stream) {
    keep_freed_memory();
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
  // The default pool gives freed memory back to the driver at every synchronisation; this keeps
  // it (once per process, for the device in use).
  static void keep_freed_memory() {
    static std::once_flag once;
    std::call_once(once, [] {
      int device = 0;
      cudaMemPool_t pool = nullptr;
      INFER_CUDA_CHECK(cudaGetDevice(&device));
      INFER_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device));
      uint64_t keep_all = UINT64_MAX;
      INFER_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_all));
    });
  }

  cudaStream_t stream_;
  void* ptr_ = nullptr;
};

}  // namespace infer::kernels::cuda

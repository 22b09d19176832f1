// The CUDA back end module's runtime side (libinfer_cuda.so): device detection, the pooled CUDA
// allocator and cross-device copies, behind infer/base/cuda_backend.h, the interface libinfer
// loads. The CUDA kernels beside this file are in the same module and register on load.
#include <cuda_runtime_api.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "infer/base/allocator.h"
#include "infer/base/cuda_backend.h"
#include "infer/base/cuda_check.h"
#include "infer/base/error.h"

namespace infer::base {

namespace {

// Kernel scratch memory comes from the device's stream-ordered pool (scratch.cuh), which by
// default gives freed memory back to the driver at every synchronisation: kept instead, so that
// a steady decode step allocates nothing. Set here, before any kernel runs (and never inside the
// recording of a CUDA graph); only speed depends on it, so a failure is ignored.
void keep_freed_pool_memory() {
  static std::once_flag once;
  std::call_once(once, [] {
    int device = 0;
    cudaMemPool_t pool = nullptr;
    uint64_t keep_all = UINT64_MAX;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetDefaultMemPool(&pool, device) != cudaSuccess ||
        cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_all) != cudaSuccess)
      cudaGetLastError();
  });
}

bool detect_device(std::string* reason) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err == cudaErrorInsufficientDriver || err == cudaErrorNoDevice) {
    // The runtime's own words ("CUDA driver version is insufficient") mislead when there is
    // simply no GPU or no NVIDIA driver on the machine.
    *reason = "no NVIDIA GPU with a working driver was found on this machine; use --device cpu";
    cudaGetLastError();
    return false;
  }
  if (err != cudaSuccess) {
    *reason = std::string("no usable GPU: ") + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error so later calls are not poisoned
    return false;
  }
  if (count == 0) {
    *reason = "no NVIDIA GPU was found on this machine; use --device cpu";
    return false;
  }
  keep_freed_pool_memory();
  return true;
}

// Keeps freed blocks in per-size free lists: generation allocates the same few sizes over and
// over, so after the first token every allocation is served from the cache. A block is handed
// out again at once, whatever stream last used it, so its owner releases it only when no queued
// work uses it (KvCache waits for its stream before its buffers go); memory that lives for one
// kernel call comes from the stream-ordered pool instead (scratch.cuh).
class CudaPoolAllocator final : public Allocator {
 public:
  DeviceType device() const override { return DeviceType::kCUDA; }

  void* allocate(size_t bytes) override {
    size_t rounded = round_up(bytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(rounded);
      if (it != free_.end() && !it->second.empty()) {
        void* ptr = it->second.back();
        it->second.pop_back();
        return ptr;
      }
    }
    void* ptr = nullptr;
    cudaError_t err = cudaMalloc(&ptr, rounded);
    if (err != cudaSuccess) {
      cudaGetLastError();
      release_cached();
      INFER_CUDA_CHECK(cudaMalloc(&ptr, rounded));
    }
    return ptr;
  }

  void release(void* ptr, size_t bytes) override {
    std::lock_guard<std::mutex> lock(mutex_);
    free_[round_up(bytes)].push_back(ptr);
  }

 private:
  static size_t round_up(size_t bytes) {
    constexpr size_t kGranule = 512;
    size_t r = (bytes + kGranule - 1) / kGranule * kGranule;
    return r == 0 ? kGranule : r;
  }

  void release_cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, blocks] : free_) {
      for (void* p : blocks) cudaFree(p);
      blocks.clear();
    }
  }

  std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_;
};

Allocator* pool_allocator() {
  // Leaked on purpose: buffers may be destroyed during static destruction, after the CUDA
  // runtime has shut down, and freeing then would fail.
  static auto* pool = new CudaPoolAllocator();
  return pool;
}

cudaMemcpyKind copy_kind(DeviceType dst_device, DeviceType src_device) {
  if (src_device == DeviceType::kCPU && dst_device == DeviceType::kCUDA)
    return cudaMemcpyHostToDevice;
  if (src_device == DeviceType::kCUDA && dst_device == DeviceType::kCPU)
    return cudaMemcpyDeviceToHost;
  if (src_device == DeviceType::kCUDA && dst_device == DeviceType::kCUDA)
    return cudaMemcpyDeviceToDevice;
  return cudaMemcpyDefault;
}

void copy(void* dst, DeviceType dst_device, const void* src, DeviceType src_device, size_t bytes) {
  // A plain cudaMemcpy from pageable memory may return before the data reached the device, and
  // kernels on the non-blocking streams of create_stream() would not wait for it: copying on the
  // legacy stream and waiting for it makes the copy complete for every stream.
  INFER_CUDA_CHECK(
      cudaMemcpyAsync(dst, src, bytes, copy_kind(dst_device, src_device), cudaStreamLegacy));
  INFER_CUDA_CHECK(cudaStreamSynchronize(cudaStreamLegacy));
}

void* create_stream() {
  cudaStream_t stream = nullptr;
  INFER_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  return stream;
}

void synchronize(void* stream) {
  INFER_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
}

void destroy_stream(void* stream) {
  // Called from destructors: a failure of the work still queued was reported, or is lost with
  // the process; it must not throw here.
  cudaStreamSynchronize(static_cast<cudaStream_t>(stream));
  cudaStreamDestroy(static_cast<cudaStream_t>(stream));
  cudaGetLastError();
}

void copy_async(void* dst, DeviceType dst_device, const void* src, DeviceType src_device,
                size_t bytes, void* stream) {
  INFER_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, copy_kind(dst_device, src_device),
                                   static_cast<cudaStream_t>(stream)));
}

void begin_capture(void* stream) {
  // Thread-local mode: other threads (another Engine's scheduler) may go on using the runtime,
  // while this thread's calls that would be unsafe in a capture fail it instead of racing.
  INFER_CUDA_CHECK(
      cudaStreamBeginCapture(static_cast<cudaStream_t>(stream), cudaStreamCaptureModeThreadLocal));
}

void* end_capture(void* stream) {
  cudaGraph_t graph = nullptr;
  const cudaError_t captured = cudaStreamEndCapture(static_cast<cudaStream_t>(stream), &graph);
  if (captured != cudaSuccess || graph == nullptr) {
    if (graph != nullptr) cudaGraphDestroy(graph);
    cudaGetLastError();  // a failed capture leaves an error behind; the stream is usable again
    throw Error(std::string("cannot record the pass as a CUDA graph: ") +
                cudaGetErrorString(captured));
  }
  cudaGraphExec_t exec = nullptr;
  const cudaError_t instantiated = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);
  if (instantiated != cudaSuccess) {
    cudaGetLastError();
    throw Error(std::string("cannot instantiate the CUDA graph of a pass: ") +
                cudaGetErrorString(instantiated));
  }
  return exec;
}

void launch_graph(void* graph, void* stream) {
  INFER_CUDA_CHECK(
      cudaGraphLaunch(static_cast<cudaGraphExec_t>(graph), static_cast<cudaStream_t>(stream)));
}

void destroy_graph(void* graph) { cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(graph)); }

}  // namespace

}  // namespace infer::base

extern "C" const infer::base::CudaBackend* infer_cuda_backend() {
  using namespace infer::base;
  static const CudaBackend backend{&detect_device,  &pool_allocator, &copy,         &create_stream,
                                   &destroy_stream, &synchronize,    &copy_async,   &begin_capture,
                                   &end_capture,    &launch_graph,   &destroy_graph};
  return &backend;
}

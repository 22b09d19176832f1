#pragma once
// The CUDA back end is a separate module, libinfer_cuda.so, loaded on first use (internal). A
// process that only uses the CPU never loads the CUDA runtime or cuBLAS (about 200 MB of
// resident memory), and a CUDA build still starts on a machine without the CUDA libraries.
#include <cstddef>
#include <string>

#include "infer/base/allocator.h"

namespace infer::base {

// What the module provides; its entry point infer_cuda_backend() returns one.
struct CudaBackend {
  bool (*detect_device)(std::string* reason);
  Allocator* (*allocator)();
  // Synchronous: returns when the copy is complete, whichever stream is running.
  void (*copy_bytes)(void* dst, DeviceType dst_device, const void* src, DeviceType src_device,
                     size_t bytes);
  // Streams are cudaStream_t behind void*, so that libinfer needs no CUDA headers. A stream
  // created here does not wait for the legacy default stream (two caches run side by side);
  // destroy_stream waits for its queued work first.
  void* (*create_stream)();
  void (*destroy_stream)(void* stream);
  void (*synchronize)(void* stream);
  void (*copy_bytes_async)(void* dst, DeviceType dst_device, const void* src, DeviceType src_device,
                           size_t bytes, void* stream);
  // CUDA graphs (a cudaGraphExec_t behind void*): end_capture instantiates what was queued on
  // the stream since begin_capture, or throws Error with the reason (the stream is usable again).
  void (*begin_capture)(void* stream);
  void* (*end_capture)(void* stream);
  void (*launch_graph)(void* graph, void* stream);
  void (*destroy_graph)(void* graph);
};

// Loads the module once (thread-safe). nullptr, with the reason, when it cannot be loaded.
const CudaBackend* cuda_backend(std::string* reason);

}  // namespace infer::base

extern "C" const infer::base::CudaBackend* infer_cuda_backend();

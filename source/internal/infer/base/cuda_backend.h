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
  void (*copy_bytes)(void* dst, DeviceType dst_device, const void* src, DeviceType src_device,
                     size_t bytes);
};

// Loads the module once (thread-safe). nullptr, with the reason, when it cannot be loaded.
const CudaBackend* cuda_backend(std::string* reason);

}  // namespace infer::base

extern "C" const infer::base::CudaBackend* infer_cuda_backend();

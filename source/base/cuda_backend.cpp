#include "infer/base/cuda_backend.h"

#include <dlfcn.h>

#include <filesystem>
#include <mutex>

#include "infer/base/device.h"
#include "infer/base/error.h"

namespace infer::base {

namespace {

// The module sits beside libinfer.so (build tree and install tree alike).
[[maybe_unused]] std::string module_path() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&cuda_backend), &info) != 0 && info.dli_fname != nullptr) {
    return (std::filesystem::path(info.dli_fname).parent_path() / "libinfer_cuda.so").string();
  }
  return "libinfer_cuda.so";
}

struct Loaded {
  const CudaBackend* backend = nullptr;
  std::string reason;
};

Loaded load() {
  Loaded loaded;
#if INFER_WITH_CUDA
  const std::string path = module_path();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    loaded.reason = "cannot load the CUDA back end " + path + ": " + dlerror();
    return loaded;
  }
  auto entry = reinterpret_cast<const CudaBackend* (*)()>(dlsym(handle, "infer_cuda_backend"));
  if (entry == nullptr) {
    loaded.reason = path + " has no infer_cuda_backend entry point";
    return loaded;
  }
  loaded.backend = entry();  // the module stays loaded for the life of the process
#else
  loaded.reason = "libinfer was built without CUDA (configure with -DINFER_CUDA=ON)";
#endif
  return loaded;
}

}  // namespace

const CudaBackend* cuda_backend(std::string* reason) {
  static const Loaded loaded = load();  // thread-safe, once
  if (loaded.backend == nullptr && reason != nullptr) *reason = loaded.reason;
  return loaded.backend;
}

bool built_with_cuda() { return INFER_WITH_CUDA; }

bool detect_cuda_device(std::string* reason) {
  const CudaBackend* backend = cuda_backend(reason);
  return backend != nullptr && backend->detect_device(reason);
}

Allocator& cuda_allocator() {
  std::string reason;
  if (const CudaBackend* backend = cuda_backend(&reason)) return *backend->allocator();
  throw Unsupported(reason);
}

void cuda_copy_bytes(void* dst, DeviceType dst_device, const void* src, DeviceType src_device,
                     size_t bytes) {
  std::string reason;
  const CudaBackend* backend = cuda_backend(&reason);
  if (backend == nullptr) throw Unsupported("cannot copy to or from cuda: " + reason);
  backend->copy_bytes(dst, dst_device, src, src_device, bytes);
}

}  // namespace infer::base

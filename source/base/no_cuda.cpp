// CPU-only build: every CUDA entry point reports that CUDA was not built in.
#include <string>

#include "infer/base/allocator.h"
#include "infer/base/error.h"

namespace infer::base {

bool built_with_cuda() { return false; }

bool detect_cuda_device(std::string* reason) {
  *reason = "libinfer was built without CUDA (configure with -DINFER_CUDA=ON)";
  return false;
}

Allocator& cuda_allocator() {
  throw Unsupported("libinfer was built without CUDA (configure with -DINFER_CUDA=ON)");
}

void cuda_copy_bytes(void*, DeviceType, const void*, DeviceType, size_t) {
  throw Unsupported("cannot copy to or from cuda: libinfer was built without CUDA");
}

}  // namespace infer::base

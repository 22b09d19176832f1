#include <cstdlib>
#include <cstring>
#include <string>

#include "infer/base/allocator.h"
#include "infer/base/error.h"

namespace infer::base {

// Defined in cuda_backend.cpp (through the CUDA module when there is one).
Allocator& cuda_allocator();
void cuda_copy_bytes(void* dst, DeviceType dst_device, const void* src, DeviceType src_device,
                     size_t bytes);

namespace {

class CpuAllocator final : public Allocator {
 public:
  DeviceType device() const override { return DeviceType::kCPU; }

  void* allocate(size_t bytes) override {
    // aligned_alloc needs a size that is a multiple of the alignment, and at least one block so
    // that a zero-sized buffer still has a unique, freeable address.
    size_t rounded = (bytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
    if (rounded == 0) rounded = kCpuAlignment;
    void* ptr = std::aligned_alloc(kCpuAlignment, rounded);
    if (ptr == nullptr)
      throw Error("out of CPU memory allocating " + std::to_string(bytes) + " bytes");
    return ptr;
  }

  void release(void* ptr, size_t) override { std::free(ptr); }
};

}  // namespace

Allocator& allocator_for(DeviceType device) {
  static CpuAllocator cpu;
  if (device == DeviceType::kCPU) return cpu;
  require_device(device);
  return cuda_allocator();
}

void copy_bytes(void* dst, DeviceType dst_device, const void* src, DeviceType src_device,
                size_t bytes) {
  if (bytes == 0) return;
  if (dst_device == DeviceType::kCPU && src_device == DeviceType::kCPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
  cuda_copy_bytes(dst, dst_device, src, src_device, bytes);
}

}  // namespace infer::base

#pragma once
// One allocator per device behind one interface. The CPU allocator returns 64-byte aligned
// memory (a cache line, and the widest SIMD load); the CUDA allocator caches freed blocks by
// size so that steady-state generation does not call cudaMalloc.
#include <cstddef>

#include "infer/base/device.h"

namespace infer::base {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual DeviceType device() const = 0;
  // Returns memory for `bytes` bytes (bytes may be 0); throws Error when out of memory.
  virtual void* allocate(size_t bytes) = 0;
  // Gives back a block obtained from allocate() with the same size.
  virtual void release(void* ptr, size_t bytes) = 0;
};

// The process-wide allocator of a device; throws Unsupported when the device cannot be used.
Allocator& allocator_for(DeviceType device);

// Copies `bytes` bytes between any two devices. Synchronous.
void copy_bytes(void* dst, DeviceType dst_device, const void* src, DeviceType src_device,
                size_t bytes);

constexpr size_t kCpuAlignment = 64;

}  // namespace infer::base

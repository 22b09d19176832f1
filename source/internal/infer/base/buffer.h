#pragma once
// A contiguous block of device memory. A Buffer either owns its memory (allocated through the
// device's Allocator and released on destruction) or is a view of memory someone else owns, such
// as a region of an mmap'd weights file; a view keeps its owner alive through `keep_alive`.
#include <cstddef>
#include <memory>

#include "infer/base/device.h"

namespace infer::base {

class Buffer {
 public:
  static std::shared_ptr<Buffer> allocate(size_t bytes, DeviceType device);
  static std::shared_ptr<Buffer> view(void* data, size_t bytes, DeviceType device,
                                      std::shared_ptr<const void> keep_alive);

  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() { return data_; }
  const void* data() const { return data_; }
  size_t size() const { return size_; }
  DeviceType device() const { return device_; }
  bool owns_memory() const { return owned_; }

 private:
  Buffer(void* data, size_t bytes, DeviceType device, bool owned,
         std::shared_ptr<const void> keep_alive);

  void* data_;
  size_t size_;
  DeviceType device_;
  bool owned_;
  std::shared_ptr<const void> keep_alive_;
};

}  // namespace infer::base

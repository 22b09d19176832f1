#include "infer/base/buffer.h"

#include <utility>

#include "infer/base/allocator.h"

namespace infer::base {

std::shared_ptr<Buffer> Buffer::allocate(size_t bytes, DeviceType device) {
  void* data = allocator_for(device).allocate(bytes);
  return std::shared_ptr<Buffer>(new Buffer(data, bytes, device, /*owned=*/true, nullptr));
}

std::shared_ptr<Buffer> Buffer::view(void* data, size_t bytes, DeviceType device,
                                     std::shared_ptr<const void> keep_alive) {
  return std::shared_ptr<Buffer>(
      new Buffer(data, bytes, device, /*owned=*/false, std::move(keep_alive)));
}

Buffer::Buffer(void* data, size_t bytes, DeviceType device, bool owned,
               std::shared_ptr<const void> keep_alive)
    : data_(data),
      size_(bytes),
      device_(device),
      owned_(owned),
      keep_alive_(std::move(keep_alive)) {}

Buffer::~Buffer() {
  if (owned_) allocator_for(device_).release(data_, size_);
}

}  // namespace infer::base

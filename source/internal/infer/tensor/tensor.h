#pragma once
// A Tensor is a typed, shaped view of a Buffer on one device. Copying a Tensor shares the buffer;
// views (rows, reshape) never copy. Tensors are row-major and contiguous.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "infer/base/buffer.h"
#include "infer/base/device.h"
#include "infer/base/dtype.h"

namespace infer::tensor {

using Shape = std::vector<int64_t>;

int64_t numel_of(const Shape& shape);
std::string shape_str(const Shape& shape);  // "128x2048"

class Tensor {
 public:
  Tensor() = default;
  // New zero-initialised memory on `device`.
  static Tensor zeros(Shape shape, base::DataType dtype, base::DeviceType device);
  // New uninitialised memory on `device`.
  static Tensor empty(Shape shape, base::DataType dtype, base::DeviceType device);
  // A view of `buffer` starting `byte_offset` bytes in; throws Error if it does not fit.
  static Tensor view(std::shared_ptr<base::Buffer> buffer, size_t byte_offset, Shape shape,
                     base::DataType dtype);
  // A CPU tensor holding a copy of `values`.
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, Shape shape);

  bool empty() const { return buffer_ == nullptr; }
  const Shape& shape() const { return shape_; }
  int64_t dim(int i) const;
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t numel() const { return numel_of(shape_); }
  size_t bytes() const { return base::dtype_bytes(dtype_, numel()); }
  base::DataType dtype() const { return dtype_; }
  base::DeviceType device() const { return buffer_ ? buffer_->device() : base::DeviceType::kCPU; }

  void* raw_data();
  const void* raw_data() const;
  // Typed access; CHECKs that T matches the dtype.
  template <typename T>
  T* data();
  template <typename T>
  const T* data() const;

  // Rows [begin, end) of the first dimension, sharing memory.
  Tensor rows(int64_t begin, int64_t end) const;
  // The same memory seen with another shape of equal element count.
  Tensor reshape(Shape shape) const;
  // A copy on `device` (a copy even when already there).
  Tensor to(base::DeviceType device) const;
  // Copies `src` (same shape and dtype, any device) into this tensor's memory.
  void copy_from(const Tensor& src);
  // CPU copy of the elements as T (T must match the dtype).
  template <typename T>
  std::vector<T> to_vector() const;

 private:
  std::shared_ptr<base::Buffer> buffer_;
  size_t offset_ = 0;
  Shape shape_;
  base::DataType dtype_ = base::DataType::kF32;
};

}  // namespace infer::tensor

#include "infer/tensor/tensor.h"

#include <glog/logging.h>

#include <algorithm>
#include <cstring>

#include "infer/base/allocator.h"
#include "infer/base/error.h"

namespace infer::tensor {

using base::DataType;
using base::DeviceType;

int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const Shape& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
  return shape.empty() ? "scalar" : s;
}

static void check_shape(const Shape& shape) {
  for (int64_t d : shape) {
    if (d < 0) throw base::InvalidArgument("negative dimension in shape " + shape_str(shape));
  }
}

Tensor Tensor::empty(Shape shape, DataType dtype, DeviceType device) {
  check_shape(shape);
  const size_t bytes = base::dtype_bytes(dtype, numel_of(shape));
  Tensor t;
  t.buffer_ = base::Buffer::allocate(bytes, device);
  t.shape_ = std::move(shape);
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::zeros(Shape shape, DataType dtype, DeviceType device) {
  Tensor t = empty(std::move(shape), dtype, device);
  if (device == DeviceType::kCPU) {
    std::memset(t.raw_data(), 0, t.bytes());
  } else {
    std::vector<uint8_t> host(t.bytes(), 0);
    base::copy_bytes(t.raw_data(), device, host.data(), DeviceType::kCPU, t.bytes());
  }
  return t;
}

Tensor Tensor::view(std::shared_ptr<base::Buffer> buffer, size_t byte_offset, Shape shape,
                    DataType dtype) {
  check_shape(shape);
  const size_t bytes = base::dtype_bytes(dtype, numel_of(shape));
  if (byte_offset > buffer->size() || bytes > buffer->size() - byte_offset) {
    throw base::Error("tensor view of " + shape_str(shape) + " " + base::dtype_name(dtype) +
                      " at offset " + std::to_string(byte_offset) +
                      " does not fit in a buffer of " + std::to_string(buffer->size()) + " bytes");
  }
  Tensor t;
  t.buffer_ = std::move(buffer);
  t.offset_ = byte_offset;
  t.shape_ = std::move(shape);
  t.dtype_ = dtype;
  return t;
}

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, Shape shape) {
  if (numel_of(shape) != static_cast<int64_t>(values.size())) {
    throw base::InvalidArgument("from_vector: " + std::to_string(values.size()) +
                                " values do not fill shape " + shape_str(shape));
  }
  Tensor t = empty(std::move(shape), base::dtype_of<T>(), DeviceType::kCPU);
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), t.bytes());
  return t;
}

int64_t Tensor::dim(int i) const {
  CHECK(i >= 0 && i < ndim()) << "dim " << i << " of a " << ndim() << "-d tensor";
  return shape_[i];
}

void* Tensor::raw_data() {
  CHECK(buffer_) << "raw_data() of an empty tensor";
  return static_cast<uint8_t*>(buffer_->data()) + offset_;
}

const void* Tensor::raw_data() const {
  CHECK(buffer_) << "raw_data() of an empty tensor";
  return static_cast<const uint8_t*>(buffer_->data()) + offset_;
}

template <typename T>
T* Tensor::data() {
  CHECK(dtype_ == base::dtype_of<T>()) << "tensor is " << base::dtype_name(dtype_);
  return static_cast<T*>(raw_data());
}

template <typename T>
const T* Tensor::data() const {
  CHECK(dtype_ == base::dtype_of<T>()) << "tensor is " << base::dtype_name(dtype_);
  return static_cast<const T*>(raw_data());
}

Tensor Tensor::rows(int64_t begin, int64_t end) const {
  CHECK(ndim() >= 1 && begin >= 0 && begin <= end && end <= shape_[0])
      << "rows [" << begin << ", " << end << ") of " << shape_str(shape_);
  Shape s = shape_;
  s[0] = end - begin;
  const size_t row_bytes =
      base::dtype_bytes(dtype_, numel_of(shape_) / std::max<int64_t>(shape_[0], 1));
  return view(buffer_, offset_ + static_cast<size_t>(begin) * row_bytes, std::move(s), dtype_);
}

Tensor Tensor::reshape(Shape shape) const {
  CHECK_EQ(numel_of(shape), numel())
      << "reshape " << shape_str(shape_) << " to " << shape_str(shape);
  return view(buffer_, offset_, std::move(shape), dtype_);
}

Tensor Tensor::to(DeviceType device) const {
  Tensor t = empty(shape_, dtype_, device);
  t.copy_from(*this);
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  CHECK(src.shape_ == shape_ && src.dtype_ == dtype_)
      << "copy_from " << shape_str(src.shape_) << " " << base::dtype_name(src.dtype_) << " into "
      << shape_str(shape_) << " " << base::dtype_name(dtype_);
  base::copy_bytes(raw_data(), device(), src.raw_data(), src.device(), bytes());
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  CHECK(dtype_ == base::dtype_of<T>()) << "tensor is " << base::dtype_name(dtype_);
  std::vector<T> out(static_cast<size_t>(numel()));
  base::copy_bytes(out.data(), DeviceType::kCPU, raw_data(), device(), bytes());
  return out;
}

#define INFER_TENSOR_INSTANTIATE(T)                                     \
  template Tensor Tensor::from_vector<T>(const std::vector<T>&, Shape); \
  template T* Tensor::data<T>();                                        \
  template const T* Tensor::data<T>() const;                            \
  template std::vector<T> Tensor::to_vector<T>() const;
INFER_TENSOR_INSTANTIATE(float)
INFER_TENSOR_INSTANTIATE(int32_t)
INFER_TENSOR_INSTANTIATE(int8_t)
#undef INFER_TENSOR_INSTANTIATE

}  // namespace infer::tensor

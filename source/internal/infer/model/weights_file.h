#pragma once
// Reader of libinfer's weights file (docs/weights-format.md): a magic, a format version, a JSON
// header with the config and a table of named tensors, then 64-byte aligned tensor data. The file
// is mmap'd and tensors are views of the mapping. open() validates the container (magic, version,
// header, every tensor inside the file with bytes matching shape × dtype); callers check shapes
// against the config with get().
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "infer/base/mapped_file.h"
#include "infer/model/config.h"
#include "infer/op/weight.h"
#include "infer/tensor/tensor.h"

namespace infer::model {

constexpr char kWeightsMagic[8] = {'L', 'I', 'B', 'I', 'N', 'F', 'E', 'R'};
constexpr uint32_t kWeightsFormatVersion = 1;
constexpr size_t kWeightsAlignment = 64;

struct TensorInfo {
  std::string name;
  base::DataType dtype = base::DataType::kF32;
  tensor::Shape shape;
  uint64_t offset =
      0;  // from the start of the file (the table stores it relative to the data region)
  uint64_t bytes = 0;
  int64_t group_size = 0;  // i8 only: elements of a row sharing one scale
};

class WeightsFile {
 public:
  // Throws FileError / FormatError naming the file (and the tensor, where one is at fault).
  static WeightsFile open(const std::string& path);

  const std::string& path() const { return file_->path(); }
  uint64_t file_size() const { return file_->size(); }
  const ModelConfig& config() const { return config_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }

  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  // A 64-bit hash (FNV-1a) of the file's header: the config and every tensor's name, dtype,
  // shape and place. Saved sessions carry it to recognise the model they belong to.
  uint64_t fingerprint() const { return fingerprint_; }
  // Drops the file's pages from this process (MappedFile::release_pages): once the layers hold
  // their own copies of the weights, the rest is read again on demand.
  void release_pages() const { file_->release_pages(); }
  // A CPU view of tensor `name`, checked against `expected_shape`; throws FormatError naming the
  // file and the tensor when it is missing or has another shape.
  tensor::Tensor get(const std::string& name, const tensor::Shape& expected_shape) const;
  // A weight matrix `name` in its stored dtype; for i8 also its scales, `name`.scales, and
  // (asymmetric) offsets, `name`.offsets.
  op::Weight get_weight(const std::string& name, const tensor::Shape& expected_shape) const;

 private:
  std::shared_ptr<const base::MappedFile> file_;
  std::shared_ptr<base::Buffer> whole_file_;
  ModelConfig config_;
  std::map<std::string, TensorInfo> tensors_;
  uint64_t fingerprint_ = 0;
};

}  // namespace infer::model

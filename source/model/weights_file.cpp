#include "infer/model/weights_file.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "infer/base/error.h"
#include "infer/base/json_input.h"
#include "infer/kernels/block_formats.h"

namespace infer::model {

using nlohmann::json;

namespace {

constexpr size_t kPreambleBytes = 8 + 4 + 4 + 8;  // magic, version, flags, header length
constexpr uint64_t kDataRegionAlignment = 4096;   // tensor data starts on a page boundary

template <typename T>
T read_le(const uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));  // the format is little-endian, as is every supported host
  return value;
}

TensorInfo parse_tensor_entry(const json& entry, const std::string& path, size_t index) {
  std::string where = path + ": tensor table entry " + std::to_string(index);
  if (!entry.is_object()) throw base::FormatError(where + " is not an object");
  const auto field = [&](const char* key) -> const json& {
    if (!entry.contains(key)) throw base::FormatError(where + " has no '" + key + "'");
    return entry.at(key);
  };
  const auto integer = [&](const json& value, const std::string& name) {
    return base::json_integer(value, where + ": " + name);
  };
  TensorInfo info;
  if (!field("name").is_string() || !field("dtype").is_string() || !field("shape").is_array())
    throw base::FormatError(where + " needs a string name and dtype and a list shape");
  info.name = field("name").get<std::string>();
  where += " (" + base::utf8_prefix(info.name, 80) + ")";
  try {
    info.dtype = base::parse_dtype(field("dtype").get<std::string>());
  } catch (const base::FormatError& e) {
    throw base::FormatError(where + ": " + e.what());
  }
  for (const json& d : field("shape")) info.shape.push_back(integer(d, "shape dimension"));
  info.offset = static_cast<uint64_t>(integer(field("offset"), "offset"));
  info.bytes = static_cast<uint64_t>(integer(field("bytes"), "bytes"));
  if (entry.contains("group_size")) info.group_size = integer(entry.at("group_size"), "group_size");
  return info;
}

void validate_tensor(const TensorInfo& t, uint64_t data_start, uint64_t file_size,
                     const std::string& path) {
  const std::string where = path + ": tensor " + t.name;
  uint64_t numel = 1;
  for (int64_t d : t.shape) {
    if (d <= 0)
      throw base::FormatError(where + ": shape " + tensor::shape_str(t.shape) +
                              " has a non-positive dimension");
    if (numel > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(d)) {
      throw base::FormatError(where + ": shape " + tensor::shape_str(t.shape) + " overflows");
    }
    numel *= static_cast<uint64_t>(d);
  }
  const base::DataTypeInfo& format = base::dtype_info(t.dtype);
  if (format.block_elements > 1 && t.shape.back() % format.block_elements != 0) {
    throw base::FormatError(where + ": " + format.name + " rows of " +
                            std::to_string(t.shape.back()) + " values are not whole blocks of " +
                            std::to_string(format.block_elements));
  }
  const uint64_t expected_bytes =
      base::checked_mul(numel / static_cast<uint64_t>(format.block_elements),
                        static_cast<uint64_t>(format.block_bytes), where);
  if (t.bytes != expected_bytes) {
    throw base::FormatError(where + ": " + std::to_string(t.bytes) + " bytes do not match shape " +
                            tensor::shape_str(t.shape) + " " + base::dtype_name(t.dtype) +
                            " (expected " + std::to_string(expected_bytes) + " bytes)");
  }
  if (t.dtype == base::DataType::kI8) {
    if (t.group_size <= 0 || t.shape.empty() || t.shape.back() % t.group_size != 0) {
      throw base::FormatError(where +
                              ": i8 tensor needs a group_size dividing its last dimension, got " +
                              std::to_string(t.group_size));
    }
  } else if (t.group_size != 0) {
    throw base::FormatError(where + ": group_size is only meaningful for i8 tensors");
  }
  if (t.offset % kWeightsAlignment != 0) {
    throw base::FormatError(where + ": offset " + std::to_string(t.offset) + " is not " +
                            std::to_string(kWeightsAlignment) + "-byte aligned");
  }
  if (t.offset < data_start || t.offset > file_size || t.bytes > file_size - t.offset) {
    throw base::FormatError(where + ": bytes [" + std::to_string(t.offset) + ", " +
                            std::to_string(t.offset + t.bytes) + ") lie outside the data region [" +
                            std::to_string(data_start) + ", " + std::to_string(file_size) +
                            ") — the file is truncated or corrupt");
  }
}

// Two tensors sharing bytes would make one silently alias the other.
void check_no_overlap(const std::map<std::string, TensorInfo>& tensors, const std::string& path) {
  std::vector<const TensorInfo*> by_offset;
  for (const auto& [name, info] : tensors) by_offset.push_back(&info);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorInfo& before = *by_offset[i - 1];
    const TensorInfo& after = *by_offset[i];
    if (after.offset < before.offset + before.bytes) {
      throw base::FormatError(path + ": tensors " + before.name + " and " + after.name +
                              " overlap in the data region (bytes from " +
                              std::to_string(after.offset) + ")");
    }
  }
}

}  // namespace

WeightsFile WeightsFile::open(const std::string& path) {
  WeightsFile wf;
  wf.file_ = base::MappedFile::open(path, "model");
  const uint8_t* data = wf.file_->data();
  const uint64_t size = wf.file_->size();

  if (size < kPreambleBytes) {
    throw base::FormatError(path + ": file is " + std::to_string(size) +
                            " bytes, too short for a libinfer weights file");
  }
  if (std::memcmp(data, kWeightsMagic, sizeof(kWeightsMagic)) != 0) {
    throw base::FormatError(path +
                            ": not a libinfer weights file (bad magic; export one with "
                            "tools/export.py)");
  }
  const uint32_t version = read_le<uint32_t>(data + 8);
  if (version != kWeightsFormatVersion) {
    throw base::FormatError(path + ": weights format version " + std::to_string(version) +
                            ", but this libinfer reads version " +
                            std::to_string(kWeightsFormatVersion) +
                            "; re-export it with this checkout's tools/export.py");
  }
  const uint64_t header_len = read_le<uint64_t>(data + 16);
  if (header_len > size - kPreambleBytes) {
    throw base::FormatError(path + ": header length " + std::to_string(header_len) +
                            " runs past the end of the file (" + std::to_string(size) +
                            " bytes) — the file is truncated or corrupt");
  }

  const std::string_view header_text(reinterpret_cast<const char*>(data) + kPreambleBytes,
                                     header_len);
  base::check_json_depth(header_text, path + ": header");
  json header;
  try {
    header = json::parse(data + kPreambleBytes, data + kPreambleBytes + header_len);
  } catch (const json::parse_error& e) {
    // The byte offset, not nlohmann's message: that quotes the raw (possibly binary) bytes.
    throw base::FormatError(path + ": header is not valid JSON (error at header byte " +
                            std::to_string(e.byte) + "); the file is corrupt");
  } catch (const json::exception&) {  // a number beyond double's range
    throw base::FormatError(path + ": header holds a number too large to represent");
  }
  if (!header.is_object() || !header.contains("config") || !header.contains("tensors") ||
      !header["tensors"].is_array()) {
    throw base::FormatError(path + ": header lacks a 'config' object or a 'tensors' array");
  }
  wf.config_ = ModelConfig::from_json_text(header["config"].dump(), path);
  wf.fingerprint_ = 0xcbf29ce484222325ull;
  for (uint64_t i = 0; i < header_len; ++i) {
    wf.fingerprint_ =
        (wf.fingerprint_ ^ static_cast<uint8_t>(data[kPreambleBytes + i])) * 0x100000001b3ull;
  }

  const uint64_t data_start = (kPreambleBytes + header_len + kDataRegionAlignment - 1) /
                              kDataRegionAlignment * kDataRegionAlignment;
  size_t index = 0;
  for (const json& entry : header["tensors"]) {
    TensorInfo info = parse_tensor_entry(entry, path, index++);
    if (info.offset > std::numeric_limits<uint64_t>::max() - data_start) {
      throw base::FormatError(path + ": tensor " + info.name + ": offset " +
                              std::to_string(info.offset) + " overflows");
    }
    info.offset += data_start;  // the table stores offsets relative to the data region
    validate_tensor(info, data_start, size, path);
    if (wf.tensors_.count(info.name)) {
      throw base::FormatError(path + ": tensor " + info.name + " appears twice");
    }
    wf.tensors_.emplace(info.name, std::move(info));
  }
  check_no_overlap(wf.tensors_, path);
  // The buffer views the read-only mapping; kernels only read weights.
  wf.whole_file_ =
      base::Buffer::view(const_cast<uint8_t*>(data), size, base::DeviceType::kCPU, wf.file_);
  return wf;
}

tensor::Tensor WeightsFile::get(const std::string& name,
                                const tensor::Shape& expected_shape) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    throw base::FormatError(path() + ": required tensor " + name + " is missing");
  }
  const TensorInfo& t = it->second;
  if (t.shape != expected_shape) {
    throw base::FormatError(path() + ": tensor " + name + ": expected shape " +
                            tensor::shape_str(expected_shape) + ", got " +
                            tensor::shape_str(t.shape));
  }
  return tensor::Tensor::view(whole_file_, t.offset, t.shape, t.dtype);
}

op::Weight WeightsFile::get_weight(const std::string& name,
                                   const tensor::Shape& expected_shape) const {
  op::Weight w;
  w.data = get(name, expected_shape);
  if (base::is_block_format(w.dtype())) {
    // A damaged scale would turn whole rows of logits into NaN far from its cause.
    const int64_t blocks = w.data.numel() / base::dtype_info(w.dtype()).block_elements;
    const int64_t bad = kernels::first_nonfinite_block(w.dtype(), w.data.raw_data(), blocks);
    if (bad >= 0) {
      const int64_t per_row = blocks / expected_shape[0];
      throw base::FormatError(path() + ": tensor " + name + ": " + base::dtype_name(w.dtype()) +
                              " block " + std::to_string(bad % per_row) + " of row " +
                              std::to_string(bad / per_row) +
                              " has an infinite or NaN scale; the file is damaged");
    }
  }
  if (w.dtype() != base::DataType::kI8) return w;
  w.group_size = tensors_.at(name).group_size;
  const tensor::Shape group_shape{expected_shape[0], expected_shape[1] / w.group_size};
  const auto per_group = [&](const std::string& part) {
    tensor::Tensor t = get(name + part, group_shape);
    if (t.dtype() != base::DataType::kF32) {
      throw base::FormatError(path() + ": tensor " + name + part + " must be f32");
    }
    return t;
  };
  w.scales = per_group(".scales");
  if (has(name + ".offsets")) w.offsets = per_group(".offsets");
  return w;
}

}  // namespace infer::model

#include "infer/base/device.h"

#include <string>

#include "infer/base/error.h"

namespace infer::base {

// Defined in cuda_backend.cpp (through the CUDA module when there is one).
bool detect_cuda_device(std::string* reason);

const char* device_name(DeviceType device) { return device == DeviceType::kCPU ? "cpu" : "cuda"; }

DeviceType parse_device(std::string_view name) {
  if (name == "cpu") return DeviceType::kCPU;
  if (name == "cuda") return DeviceType::kCUDA;
  throw InvalidArgument("unknown device '" + std::string(name) + "' (expected cpu or cuda)");
}

bool cuda_available() {
  std::string reason;
  return detect_cuda_device(&reason);
}

void require_device(DeviceType device) {
  if (device == DeviceType::kCPU) return;
  std::string reason;
  if (!detect_cuda_device(&reason)) throw Unsupported("device cuda is not usable: " + reason);
}

}  // namespace infer::base

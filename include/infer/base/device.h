#pragma once
// Where memory lives and kernels run.
#include <cstdint>
#include <string_view>

namespace infer::base {

enum class DeviceType : uint8_t { kCPU, kCUDA };

const char* device_name(DeviceType device);

// Parses "cpu" or "cuda"; throws InvalidArgument otherwise.
DeviceType parse_device(std::string_view name);

// True when libinfer was built with CUDA kernels.
bool built_with_cuda();

// True when CUDA kernels were built and at least one GPU can be used right now.
bool cuda_available();

// Throws Unsupported with a reason (not built with CUDA / no GPU present) unless `device` can run.
void require_device(DeviceType device);

}  // namespace infer::base

#pragma once
// One table of kernels keyed by (op, device, dtype). kernels/cpu and kernels/cuda register into
// it at load time; layers look their kernel up once, at construction.
#include <string>

#include "infer/base/device.h"
#include "infer/base/dtype.h"
#include "infer/kernels/ops.h"

namespace infer::kernels {

struct KernelKey {
  OpKind op;
  base::DeviceType device;
  base::DataType dtype;
};

using AnyKernel = void (*)();

void register_kernel(KernelKey key, AnyKernel fn);
// nullptr when no kernel is registered for `key`.
AnyKernel find_kernel(KernelKey key);
// Throws Unsupported naming the op, device and dtype when no kernel is registered.
AnyKernel require_kernel(KernelKey key);

template <typename Op>
typename Op::Fn get_kernel(base::DeviceType device, base::DataType dtype) {
  return reinterpret_cast<typename Op::Fn>(require_kernel({Op::kKind, device, dtype}));
}

// Registers a kernel from a static initializer in the kernel's own translation unit.
template <typename Op>
struct KernelRegistrar {
  KernelRegistrar(base::DeviceType device, base::DataType dtype, typename Op::Fn fn) {
    register_kernel({Op::kKind, device, dtype}, reinterpret_cast<AnyKernel>(fn));
  }
};

}  // namespace infer::kernels

#define INFER_KERNEL_CONCAT_(a, b) a##b
#define INFER_KERNEL_CONCAT(a, b) INFER_KERNEL_CONCAT_(a, b)
#define INFER_REGISTER_KERNEL(Op, device, dtype, fn)                                        \
  static const ::infer::kernels::KernelRegistrar<::infer::kernels::Op> INFER_KERNEL_CONCAT( \
      infer_kernel_registrar_, __COUNTER__)(device, dtype, fn)

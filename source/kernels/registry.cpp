#include "infer/kernels/registry.h"

#include <map>
#include <mutex>
#include <tuple>

#include "infer/base/cuda_backend.h"
#include "infer/base/error.h"

namespace infer::kernels {

const char* op_name(OpKind op) {
  switch (op) {
    case OpKind::kEmbedding:
      return "embedding";
    case OpKind::kMatmul:
      return "matmul";
    case OpKind::kRmsNorm:
      return "rmsnorm";
    case OpKind::kRopeKv:
      return "rope_kv";
    case OpKind::kAttention:
      return "attention";
    case OpKind::kSwiGLU:
      return "swiglu";
    case OpKind::kAdd:
      return "add";
    case OpKind::kSoftmax:
      return "softmax";
    case OpKind::kArgmax:
      return "argmax";
    case OpKind::kBiasAdd:
      return "bias_add";
    case OpKind::kMatmulGroup:
      return "matmul_group";
  }
  return "invalid";
}

namespace {

using Key = std::tuple<OpKind, base::DeviceType, base::DataType>;

struct Table {
  std::mutex mutex;
  std::map<Key, AnyKernel> kernels;
};

// A function-local static so that registrars in other translation units can run in any order.
Table& table() {
  static Table t;
  return t;
}

}  // namespace

void register_kernel(KernelKey key, AnyKernel fn) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  t.kernels[{key.op, key.device, key.dtype}] = fn;
}

AnyKernel find_kernel(KernelKey key) {
  // CUDA kernels live in the CUDA back end module and register when it loads.
  if (key.device == base::DeviceType::kCUDA) base::cuda_backend(nullptr);
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  auto it = t.kernels.find({key.op, key.device, key.dtype});
  return it == t.kernels.end() ? nullptr : it->second;
}

AnyKernel require_kernel(KernelKey key) {
  if (AnyKernel fn = find_kernel(key)) return fn;
  std::string what = std::string("no ") + base::device_name(key.device) + " kernel for op " +
                     op_name(key.op) + " with dtype " + base::dtype_name(key.dtype);
  if (key.device == base::DeviceType::kCUDA && !base::built_with_cuda()) {
    what += " (libinfer was built without CUDA)";
  }
  throw base::Unsupported(what);
}

}  // namespace infer::kernels

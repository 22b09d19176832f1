#include "infer/base/stream.h"

#include <cstring>

#include "infer/base/allocator.h"
#include "infer/base/cuda_backend.h"
#include "infer/base/error.h"

namespace infer::base {

namespace {

const CudaBackend& backend_for(const char* what) {
  std::string reason;
  const CudaBackend* backend = cuda_backend(&reason);
  if (backend == nullptr) throw Unsupported(std::string(what) + ": " + reason);
  return *backend;
}

}  // namespace

Stream::Stream(DeviceType device) : device_(device) {
  if (device == DeviceType::kCPU) return;
  require_device(device);
  handle_ = backend_for("cannot create a CUDA stream").create_stream();
}

Stream::~Stream() {
  if (handle_ != nullptr) backend_for("cannot destroy a CUDA stream").destroy_stream(handle_);
}

void Stream::synchronize() const {
  if (handle_ != nullptr) backend_for("cannot wait for a CUDA stream").synchronize(handle_);
}

Graph::~Graph() { backend_for("cannot destroy a CUDA graph").destroy_graph(exec_); }

void Graph::launch(const Stream& stream) const {
  backend_for("cannot launch a CUDA graph").launch_graph(exec_, stream.handle());
}

std::unique_ptr<Graph> record_graph(const Stream& stream, const std::function<void()>& queue) {
  if (stream.handle() == nullptr) throw Unsupported("only CUDA streams record graphs");
  const CudaBackend& backend = backend_for("cannot record a CUDA graph");
  backend.begin_capture(stream.handle());
  try {
    queue();
  } catch (...) {
    try {
      backend.destroy_graph(backend.end_capture(stream.handle()));
    } catch (const Error&) {  // the capture failed as well: nothing to destroy
    }
    throw;
  }
  return std::unique_ptr<Graph>(new Graph(backend.end_capture(stream.handle())));
}

void copy_bytes_async(void* dst, DeviceType dst_device, const void* src, DeviceType src_device,
                      size_t bytes, const Stream& stream) {
  if (bytes == 0) return;
  if (dst_device == DeviceType::kCPU && src_device == DeviceType::kCPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
  backend_for("cannot copy to or from cuda")
      .copy_bytes_async(dst, dst_device, src, src_device, bytes, stream.handle());
}

}  // namespace infer::base

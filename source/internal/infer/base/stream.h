#pragma once
// An ordered queue of device work: a CUDA stream of its own on the GPU, so that two caches (two
// Engines, two sessions) run side by side and the host waits for its work only where it reads a
// result; nothing on the CPU, where kernels finish before they return.
#include <cstddef>
#include <functional>
#include <memory>

#include "infer/base/device.h"

namespace infer::base {

class Stream {
 public:
  // Throws Unsupported when the device cannot be used.
  explicit Stream(DeviceType device);
  // Waits for the queued work first, so that memory it uses can be released after.
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  DeviceType device() const { return device_; }
  // The cudaStream_t kernels are launched on (KernelContext::cuda_stream); nullptr on the CPU.
  void* handle() const { return handle_; }
  // Returns when every copy and kernel queued on the stream has finished; throws Error, with the
  // CUDA message, when one of them failed.
  void synchronize() const;

 private:
  DeviceType device_;
  void* handle_ = nullptr;
};

// Work recorded from a stream and replayed with one call (a CUDA graph): the few hundred launches
// of a decode step become one.
class Graph {
 public:
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  // Queues the recorded work on `stream`.
  void launch(const Stream& stream) const;

 private:
  friend std::unique_ptr<Graph> record_graph(const Stream&, const std::function<void()>&);
  explicit Graph(void* exec) : exec_(exec) {}
  void* exec_;
};

// Runs `queue` with the (CUDA) stream recording what it queues instead of running it, and returns
// the recording. Throws Error when the work cannot be recorded (a host synchronisation or a copy
// from pageable memory inside it), leaving the stream usable; an exception of `queue` itself
// passes through once the recording is abandoned.
std::unique_ptr<Graph> record_graph(const Stream& stream, const std::function<void()>& queue);

// Queues a copy of `bytes` bytes on `stream`. A copy into host memory is only complete after
// stream.synchronize(); host memory copied to the device may be reused as soon as this returns.
// Copies between two CPU buffers happen at once.
void copy_bytes_async(void* dst, DeviceType dst_device, const void* src, DeviceType src_device,
                      size_t bytes, const Stream& stream);

}  // namespace infer::base

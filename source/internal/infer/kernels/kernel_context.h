#pragma once
// What every kernel receives first: the execution stream of the caller (a cudaStream_t for CUDA
// kernels, unused on the CPU, where the thread count comes from base::set_num_threads).

namespace infer::kernels {

struct KernelContext {
  void* cuda_stream = nullptr;  // nullptr = the default stream
};

}  // namespace infer::kernels

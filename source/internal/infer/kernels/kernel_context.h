#pragma once
// What every kernel receives first: the execution stream of the caller (a cudaStream_t for CUDA
// kernels, unused on the CPU, where the thread count comes from base::set_num_threads), and the
// model's numeric options.

namespace infer::kernels {

struct KernelContext {
  void* cuda_stream = nullptr;  // nullptr = the default stream
  // bf16 weights multiply activations rounded to bf16 (model::LoadOptions::bf16_activations).
  bool bf16_activations = false;
  // The kernels are being recorded into a CUDA graph that later steps replay: a launch's shape
  // may depend on the tensors' sizes but not on host-side values that change from step to step
  // (KvPages::max_keys).
  bool fixed_launch_shapes = false;
};

}  // namespace infer::kernels

// Google Benchmark for libinfer's CUDA kernels at real model shapes, each beside a reference
// measured in the same run (on a machine with a GPU; elsewhere every benchmark says why not):
//   BM_CudaCopy/BYTES        device-to-device copy; bytes = read + written. A decode GEMV or
//                            attention reads its bytes once, so this rate is what they can reach.
//   BM_CudaMatmul/D/M/N/K    out[M, N] = x[M, K] · wᵀ, w stored as dtype D (as kernel_bench: 0 f32,
//                            1 f16, 2 bf16, 3 i8, 5.. the GGUF block formats); bytes = the weight's
//                            stored bytes; GFLOP/s for the prefill shapes. BM_CudaMatmul/2/8192/
//                            8192/8192 is the bf16 tensor-core reference for prefill.
//   BM_CudaAttentionDecode/CONTEXT/HEADS/KV_HEADS/HEAD_DIM/ROWS  one decode step of ROWS
//                            sequences; bytes = their keys and values.
// Every iteration runs a pass over copies of the data larger than any GPU's L2 cache (so that
// each kernel streams from memory, as in a decode step), from the first launch to the end of the
// stream: launch overheads count, as they do in a step.
//   build/bench/cuda_kernel_bench [--benchmark_filter=...] [--benchmark_format=json]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <vector>

#include "infer/base/device.h"
#include "infer/base/stream.h"
#include "infer/op/attention.h"
#include "infer/op/matmul.h"
#include "infer/tensor/tensor.h"
#include "stored_weight.h"

namespace {

using infer::base::DataType;
using infer::base::DeviceType;
using infer::tensor::Tensor;
using Clock = std::chrono::steady_clock;

constexpr int64_t kColdBytes = int64_t(512) << 20;  // H100 and H200 have 50-60 MiB of L2

using infer::test::reference::kBenchDtypes;

bool skip_without_gpu(benchmark::State& state) {
  if (infer::base::cuda_available()) return false;
  state.SkipWithError("no usable CUDA GPU on this machine");
  return true;
}

std::vector<float> random_values(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = dist(rng);
  return v;
}

Tensor random_on_gpu(infer::tensor::Shape shape, uint32_t seed) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return Tensor::from_vector(random_values(n, seed), std::move(shape)).to(DeviceType::kCUDA);
}

// Runs `pass` (which queues its kernels on `stream`) once per iteration, timing it to the end
// of the stream.
template <class Pass>
void time_passes(benchmark::State& state, const infer::base::Stream& stream, Pass pass) {
  pass();  // warm-up: first-use allocations, cuBLAS heuristics
  stream.synchronize();
  for (auto _ : state) {
    const auto start = Clock::now();
    pass();
    stream.synchronize();
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
  }
}

void BM_CudaCopy(benchmark::State& state) {
  if (skip_without_gpu(state)) return;
  const int64_t bytes = state.range(0);
  infer::base::Stream stream(DeviceType::kCUDA);
  const Tensor from = Tensor::empty({bytes / 4}, DataType::kF32, DeviceType::kCUDA);
  Tensor to = Tensor::empty({bytes / 4}, DataType::kF32, DeviceType::kCUDA);
  time_passes(state, stream, [&] {
    infer::base::copy_bytes_async(to.raw_data(), DeviceType::kCUDA, from.raw_data(),
                                  DeviceType::kCUDA, static_cast<size_t>(bytes), stream);
  });
  state.SetBytesProcessed(state.iterations() * 2 * bytes);
  state.SetLabel("read + written");
}

void BM_CudaMatmul(benchmark::State& state) {
  if (skip_without_gpu(state)) return;
  const DataType dtype = kBenchDtypes[state.range(0)];
  const int64_t m = state.range(1), n = state.range(2), k = state.range(3);
  if (k % infer::base::dtype_info(dtype).block_elements != 0) {
    state.SkipWithError("rows are not whole blocks of this format");
    return;
  }
  const infer::op::Weight on_host = infer::test::reference::random_weight(dtype, n, k, 42);
  const int64_t bytes = infer::test::reference::stored_bytes(on_host);
  std::vector<infer::op::Matmul> layers;
  for (int64_t i = 0; i < std::max<int64_t>(1, kColdBytes / bytes); ++i)
    layers.emplace_back(on_host.to(DeviceType::kCUDA));
  const Tensor x = random_on_gpu({m, k}, 7);
  Tensor out = Tensor::empty({m, n}, DataType::kF32, DeviceType::kCUDA);
  infer::base::Stream stream(DeviceType::kCUDA);
  infer::kernels::KernelContext ctx;
  ctx.cuda_stream = stream.handle();
  time_passes(state, stream, [&] {
    for (const infer::op::Matmul& layer : layers) layer.forward(ctx, x, out);
  });
  const double per_pass = static_cast<double>(layers.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * per_pass * bytes));
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * m * n * k * per_pass * state.iterations(),
                         benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
  state.SetLabel(infer::base::dtype_name(dtype));
}

void BM_CudaAttentionDecode(benchmark::State& state) {
  if (skip_without_gpu(state)) return;
  const int64_t context = state.range(0), heads = state.range(1), kv_heads = state.range(2),
                head_dim = state.range(3), rows = state.range(4);
  const int64_t block = 16, blocks_per_row = (context + block - 1) / block;
  // Each row a sequence with blocks of its own, laid out in order in one pool.
  const int64_t slots = rows * blocks_per_row * block, kv_dim = kv_heads * head_dim;
  const Tensor k = random_on_gpu({slots, kv_dim}, 8), v = random_on_gpu({slots, kv_dim}, 9);
  const Tensor q = random_on_gpu({rows, heads * head_dim}, 10);
  Tensor out = Tensor::empty({rows, heads * head_dim}, DataType::kF32, DeviceType::kCUDA);
  std::vector<int32_t> positions(static_cast<size_t>(rows), static_cast<int32_t>(context - 1));
  std::vector<int32_t> offsets, tables;
  for (int64_t r = 0; r < rows; ++r) {
    offsets.push_back(static_cast<int32_t>(r * blocks_per_row));
    for (int64_t b = 0; b < blocks_per_row; ++b)
      tables.push_back(static_cast<int32_t>(r * blocks_per_row + b));
  }
  const auto on_gpu = [](const std::vector<int32_t>& values) {
    return Tensor::from_vector(values, {static_cast<int64_t>(values.size())}).to(DeviceType::kCUDA);
  };
  const Tensor positions_gpu = on_gpu(positions), offsets_gpu = on_gpu(offsets),
               tables_gpu = on_gpu(tables);
  infer::kernels::KvPages pages;
  pages.positions = positions_gpu.data<int32_t>();
  pages.table_offsets = offsets_gpu.data<int32_t>();
  pages.tables = tables_gpu.data<int32_t>();
  pages.block_size = block;
  pages.max_keys = context;
  const infer::op::Attention layer(DeviceType::kCUDA, heads, kv_heads, head_dim);
  infer::base::Stream stream(DeviceType::kCUDA);
  infer::kernels::KernelContext ctx;
  ctx.cuda_stream = stream.handle();
  time_passes(state, stream, [&] { layer.forward(ctx, q, k, v, out, pages); });
  state.SetBytesProcessed(state.iterations() * 2 * rows * context * kv_dim *
                          int64_t(sizeof(float)));
}

// Llama-3.2-1B's matrices (dim 2048, kv 512, ffn 8192) and Qwen2.5-0.5B's largest: decode
// (m = 1), batched decode (m = 64) and prefill (m = 512), for each dtype.
void MatmulShapes(benchmark::internal::Benchmark* b) {
  const int64_t shapes[][2] = {{2048, 2048}, {512, 2048}, {8192, 2048}, {2048, 8192}, {4864, 896}};
  for (int64_t m : {1, 64, 512}) {
    for (int64_t dtype = 0; dtype < int64_t(std::size(kBenchDtypes)); ++dtype) {
      if (dtype == infer::test::reference::kBf16ActivationsIndex) continue;  // a CPU option
      for (const auto& s : shapes) b->Args({dtype, m, s[0], s[1]});
    }
  }
  b->Args({2, 8192, 8192, 8192});  // the tensor cores' reference
}

BENCHMARK(BM_CudaCopy)->Arg(kColdBytes)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CudaMatmul)->Apply(MatmulShapes)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CudaAttentionDecode)
    ->Args({512, 32, 8, 64, 1})
    ->Args({4096, 32, 8, 64, 1})
    ->Args({32768, 32, 8, 64, 1})
    ->Args({1024, 32, 8, 64, 64})
    ->Args({4096, 14, 2, 64, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

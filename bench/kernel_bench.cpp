// Google Benchmark for libinfer's CPU kernels at real model shapes, next to a plain memory read
// of the same size so that GEMV throughput can be quoted as a fraction of read bandwidth.
//   build/bench/kernel_bench [--benchmark_filter=...] [--threads=N via INFER_THREADS]
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <vector>

#include "infer/base/threads.h"
#include "infer/op/attention.h"
#include "infer/op/matmul.h"
#include "infer/tensor/tensor.h"

namespace {

using infer::base::DataType;
using infer::base::DeviceType;
using infer::tensor::Tensor;

Tensor random_tensor(infer::tensor::Shape shape) {
  Tensor t = Tensor::empty(std::move(shape), DataType::kF32, DeviceType::kCPU);
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = dist(rng);
  return t;
}

// Weights are cycled through this many bytes so that each GEMV streams from DRAM, as in a real
// decode step, instead of from a cache that a single matrix would fit in.
constexpr int64_t kColdBytes = int64_t(512) << 20;

// out[m, n] = x[m, k] · w[n, k]ᵀ; args: m, n, k.
void BM_MatmulF32(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const int64_t copies = std::max<int64_t>(1, kColdBytes / (n * k * int64_t(sizeof(float))));
  std::vector<infer::op::Matmul> layers;
  for (int64_t i = 0; i < copies; ++i)
    layers.emplace_back(infer::op::Weight{random_tensor({n, k})});
  Tensor x = random_tensor({m, k});
  Tensor out = Tensor::empty({m, n}, DataType::kF32, DeviceType::kCPU);
  size_t next = 0;
  for (auto _ : state) {
    layers[next].forward({}, x, out);
    next = (next + 1) % layers.size();
    benchmark::DoNotOptimize(out.data<float>());
  }
  state.SetBytesProcessed(state.iterations() * n * k * int64_t(sizeof(float)));
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * m * n * k * state.iterations(), benchmark::Counter::kIsRate,
                         benchmark::Counter::kIs1000);
}

// Sums a float array of n_floats with all threads: the read-bandwidth reference.
void BM_ReadBandwidth(benchmark::State& state) {
  const int64_t n = state.range(0);
  Tensor t = random_tensor({n});
  const float* p = t.data<float>();
  for (auto _ : state) {
    float total = 0;
#pragma omp parallel for simd reduction(+ : total)
    for (int64_t i = 0; i < n; ++i) total += p[i];
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(state.iterations() * n * int64_t(sizeof(float)));
}

// One decode step of attention: args: context length, n_heads, n_kv_heads, head_dim.
void BM_AttentionDecode(benchmark::State& state) {
  const int64_t ctx = state.range(0), heads = state.range(1), kv_heads = state.range(2),
                head_dim = state.range(3);
  infer::op::Attention layer(DeviceType::kCPU, heads, kv_heads, head_dim);
  Tensor q = random_tensor({1, heads * head_dim});
  Tensor k = random_tensor({ctx, kv_heads * head_dim});
  Tensor v = random_tensor({ctx, kv_heads * head_dim});
  Tensor out = Tensor::empty({1, heads * head_dim}, DataType::kF32, DeviceType::kCPU);
  for (auto _ : state) layer.forward({}, q, k, v, out, ctx - 1);
  state.SetBytesProcessed(state.iterations() * 2 * ctx * kv_heads * head_dim *
                          int64_t(sizeof(float)));
}

// Qwen2.5-0.5B: dim 896, ffn 4864; SmolLM2-135M: dim 576, ffn 1536.
BENCHMARK(BM_MatmulF32)
    ->Args({1, 4864, 896})
    ->Args({1, 896, 4864})
    ->Args({1, 1536, 576})
    ->Args({128, 4864, 896})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_ReadBandwidth)
    ->Arg(kColdBytes / sizeof(float))
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_AttentionDecode)
    ->Args({512, 14, 2, 64})
    ->Args({4096, 14, 2, 64})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  const char* threads = std::getenv("INFER_THREADS");
  infer::base::set_num_threads(threads ? std::atoi(threads) : 0);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

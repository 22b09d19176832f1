// Google Benchmark for libinfer's CPU kernels at real model shapes, next to a plain memory read
// of the same size so that GEMV throughput can be quoted as a fraction of read bandwidth.
//   INFER_THREADS=2 build/bench/kernel_bench [--benchmark_filter=...]
// BM_Matmul/DTYPE/M/N/K: DTYPE 0 f32, 1 f16, 2 bf16, 3 i8 (the label says which).
#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "infer/base/cpu_isa.h"
#include "infer/base/threads.h"
#include "infer/op/attention.h"
#include "infer/op/matmul.h"
#include "infer/tensor/tensor.h"
#include "membw.h"
#include "stored_weight.h"

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

// The weight dtypes benchmarked, indexed by the first benchmark argument; index 4 is bf16 with
// the activations rounded to bf16 (LoadOptions::bf16_activations, AVX512_BF16 CPUs only), then
// the GGUF block formats (random blocks: the kernels' work does not depend on the values).
using infer::test::reference::kBenchDtypes;
using infer::test::reference::kBf16ActivationsIndex;

Tensor copy_of(const Tensor& t) {
  if (t.empty()) return t;
  Tensor c = Tensor::empty(t.shape(), t.dtype(), DeviceType::kCPU);
  std::memcpy(c.raw_data(), t.raw_data(), t.bytes());
  return c;
}

// out[m, n] = x[m, k] · w[n, k]ᵀ with w stored as kBenchDtypes[dtype] (i8: asymmetric groups of 32,
// the exporter's default); args: dtype, m, n, k. Bytes are the weight's stored bytes.
void BM_Matmul(benchmark::State& state) {
  const DataType dtype = kBenchDtypes[state.range(0)];
  infer::kernels::KernelContext ctx;
  ctx.bf16_activations = state.range(0) == kBf16ActivationsIndex;
  if (ctx.bf16_activations && infer::base::cpu_isa() != infer::base::CpuIsa::kAvx512Bf16) {
    state.SkipWithError("bf16 activations need AVX512_BF16");
    return;
  }
  const int64_t m = state.range(1), n = state.range(2), k = state.range(3);
  if (k % infer::base::dtype_info(dtype).block_elements != 0) {
    state.SkipWithError("rows are not whole blocks of this format");
    return;
  }
  const infer::op::Weight first = infer::test::reference::random_weight(dtype, n, k, 42);
  const int64_t bytes = infer::test::reference::stored_bytes(first);
  std::vector<infer::op::Matmul> layers;
  for (int64_t i = 0; i < std::max<int64_t>(1, kColdBytes / bytes); ++i) {
    layers.emplace_back(infer::op::Weight{copy_of(first.data), copy_of(first.scales),
                                          first.group_size, copy_of(first.offsets)});
  }
  Tensor x = random_tensor({m, k});
  Tensor out = Tensor::empty({m, n}, DataType::kF32, DeviceType::kCPU);
  size_t next = 0;
  for (auto _ : state) {
    layers[next].forward(ctx, x, out);
    next = (next + 1) % layers.size();
    benchmark::DoNotOptimize(out.data<float>());
  }
  state.SetLabel(ctx.bf16_activations ? "bf16 activations" : infer::base::dtype_name(dtype));
  state.SetBytesProcessed(state.iterations() * bytes);
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * m * n * k * state.iterations(), benchmark::Counter::kIsRate,
                         benchmark::Counter::kIs1000);
}

// The read-bandwidth reference: bench/membw's loop (the one infer_bench uses) over n floats.
void BM_ReadBandwidth(benchmark::State& state) {
  const infer::bench::ReadBandwidthProbe probe(state.range(0) * int64_t(sizeof(float)));
  for (auto _ : state) benchmark::DoNotOptimize(probe.measure(1).median_gb_per_s);
  state.SetBytesProcessed(state.iterations() * state.range(0) * int64_t(sizeof(float)));
}

// The machine's FMA peak, the ceiling for prefill and batched decode: on every thread, 12
// independent chains of vector FMAs in registers (enough to cover the FMA latency), with the
// widest vectors the CPU has. Reported as GFLOP/s (2 per lane per FMA).
constexpr int64_t kPeakSteps = 1 << 22;
constexpr int kChains = 12;

__attribute__((target("avx512f"))) float fma_chains_avx512(float seed) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(seed + static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t s = 0; s < kPeakSteps; ++s) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  float out = 0;
  for (int i = 0; i < kChains; ++i) out += _mm512_reduce_add_ps(acc[i]);
  return out;
}

__attribute__((target("avx2,fma"))) float fma_chains_avx2(float seed) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(seed + static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t s = 0; s < kPeakSteps; ++s) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  alignas(32) float lanes[8];
  float out = 0;
  for (int i = 0; i < kChains; ++i) {
    _mm256_store_ps(lanes, acc[i]);
    for (float v : lanes) out += v;
  }
  return out;
}

void BM_PeakFma(benchmark::State& state) {
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const int lanes = avx512 ? 16 : 8;
  if (!avx512 && !__builtin_cpu_supports("fma")) {
    state.SkipWithError("no FMA instructions on this CPU");
    return;
  }
  int threads = 1;
  for (auto _ : state) {
#pragma omp parallel
    {
#pragma omp single
      threads = omp_get_num_threads();
      benchmark::DoNotOptimize(avx512 ? fma_chains_avx512(1.f) : fma_chains_avx2(1.f));
    }
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * threads * kPeakSteps * kChains * lanes * 2 / 1e9,
      benchmark::Counter::kIsRate);
  state.SetLabel(avx512 ? "avx512 fma" : "avx2 fma");
}
BENCHMARK(BM_PeakFma)->Unit(benchmark::kMillisecond)->UseRealTime();

// One decode step of attention: args: context length, n_heads, n_kv_heads, head_dim.
void BM_AttentionDecode(benchmark::State& state) {
  const int64_t ctx = state.range(0), heads = state.range(1), kv_heads = state.range(2),
                head_dim = state.range(3);
  infer::op::Attention layer(DeviceType::kCPU, heads, kv_heads, head_dim);
  Tensor q = random_tensor({1, heads * head_dim});
  // One sequence whose blocks of 16 positions lie in order in the pool.
  const int64_t block = 16, blocks = (ctx + block - 1) / block;
  Tensor k = random_tensor({blocks * block, kv_heads * head_dim});
  Tensor v = random_tensor({blocks * block, kv_heads * head_dim});
  Tensor out = Tensor::empty({1, heads * head_dim}, DataType::kF32, DeviceType::kCPU);
  std::vector<int32_t> table(static_cast<size_t>(blocks));
  for (int64_t b = 0; b < blocks; ++b) table[b] = static_cast<int32_t>(b);
  const int32_t position = static_cast<int32_t>(ctx - 1), offset = 0;
  infer::kernels::KvPages pages;
  pages.positions = &position;
  pages.table_offsets = &offset;
  pages.tables = table.data();
  pages.block_size = block;
  for (auto _ : state) layer.forward({}, q, k, v, out, pages);
  state.SetBytesProcessed(state.iterations() * 2 * ctx * kv_heads * head_dim *
                          int64_t(sizeof(float)));
}

// Every matrix shape of Qwen2.5-0.5B (dim 896, kv 128, ffn 4864) and Llama-3.2-1B (dim 2048,
// kv 512, ffn 8192), and SmolLM2-135M's up/gate (576 -> 1536), for each dtype: m = 1 is the
// decode GEMV, m = 8 and 32 batched decode steps, m = 128 and 512 prefill chunks.
void MatmulShapes(benchmark::internal::Benchmark* b) {
  const int64_t shapes[][2] = {{896, 896},  {128, 896},   {4864, 896},  {896, 4864}, {2048, 2048},
                               {512, 2048}, {8192, 2048}, {2048, 8192}, {1536, 576}};
  for (int64_t m : {1, 8, 32, 128, 512}) {
    for (int64_t dtype = 0; dtype < int64_t(std::size(kBenchDtypes)); ++dtype) {
      for (const auto& s : shapes) b->Args({dtype, m, s[0], s[1]});
    }
  }
}
BENCHMARK(BM_Matmul)->Apply(MatmulShapes)->Unit(benchmark::kMicrosecond)->UseRealTime();
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

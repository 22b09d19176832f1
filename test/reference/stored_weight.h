#pragma once
// A weight matrix in one of libinfer's stored dtypes, made from f32 values by the reference
// conversions (test/reference/quantize.h): for kernel tests and kernel benchmarks.
#include <cstdint>
#include <vector>

#include "infer/op/weight.h"

namespace infer::test::reference {

// The group size of i8 weights made here (the exporter's default).
constexpr int64_t kStoredGroup = 32;

struct StoredWeight {
  op::Weight weight;          // [rows, cols] in the requested dtype
  std::vector<float> values;  // what the stored weight stands for, as f32
};

// i8 weights are quantised symmetrically unless `asymmetric` (per-group offsets), in groups of
// `group` columns.
StoredWeight store(const std::vector<float>& w, int64_t rows, int64_t cols, base::DataType dtype,
                   base::DeviceType device, bool asymmetric = false, int64_t group = kStoredGroup);

// A [rows, cols] weight in a GGUF block format (cols whole blocks) of random bytes whose f16
// scales and minimums are random finite values within +-max_scale: every code pattern occurs.
// `values` are the blocks dequantized (kernels::dequantize_blocks, checked against the gguf
// package by the golden tests).
// Every GGUF block format libinfer stores.
constexpr base::DataType kBlockFormats[] = {
    base::DataType::kQ8_0, base::DataType::kQ4_0, base::DataType::kQ4_1, base::DataType::kQ5_0,
    base::DataType::kQ5_1, base::DataType::kQ4_K, base::DataType::kQ5_K, base::DataType::kQ6_K};

StoredWeight random_blocks(base::DataType dtype, int64_t rows, int64_t cols, uint32_t seed,
                           float max_scale = 0.01f);

// The weight dtypes kernel_bench and cuda_kernel_bench index by their first argument; index
// kBf16ActivationsIndex is bf16 with the activations rounded to bf16 (a CPU option).
constexpr base::DataType kBenchDtypes[] = {
    base::DataType::kF32,  base::DataType::kF16,  base::DataType::kBF16, base::DataType::kI8,
    base::DataType::kBF16, base::DataType::kQ8_0, base::DataType::kQ4_0, base::DataType::kQ4_1,
    base::DataType::kQ5_0, base::DataType::kQ5_1, base::DataType::kQ4_K, base::DataType::kQ5_K,
    base::DataType::kQ6_K};
constexpr int64_t kBf16ActivationsIndex = 4;

// A [rows, cols] weight of any stored dtype for a benchmark, on the CPU: random blocks for a
// block format, else values uniform in +-1 stored as `dtype` (i8 with offsets, the exporter's
// default). Throws InvalidArgument when cols is not whole blocks of the format.
op::Weight random_weight(base::DataType dtype, int64_t rows, int64_t cols, uint32_t seed);
// The bytes a weight streams: data, scales and offsets.
int64_t stored_bytes(const op::Weight& w);

}  // namespace infer::test::reference

#pragma once
// Matmuls on GGUF block weights (q8_0 ... q6_k) on the CPU: the kernel tables of each
// instruction set and the threaded drivers (quant_matmul_cpu.cpp).
#include <cstdint>

#include "infer/base/cpu_isa.h"
#include "infer/base/dtype.h"
#include "infer/kernels/ops.h"
#include "quant/int8_dot.h"

namespace infer::kernels::cpu {

const quant::BlockKernels& generic_block_kernels();
const quant::BlockKernels& avx2_block_kernels();
const quant::BlockKernels& avx_vnni_block_kernels();
const quant::BlockKernels& avx512_vnni_block_kernels();

// The kernels for `isa`: VPDPBUSD where the CPU has it at that level (AVX512_VNNI from avx512,
// AVX-VNNI from avx2), else the level's own; the name of the set chosen, for benchmarks.
const quant::BlockKernels& block_kernels_for(base::CpuIsa isa, const char** name = nullptr);

// Each row of x [m, k] quantized to int8 per 32 values into `subs` sub-blocks (k / 32 rounded up
// to a multiple of 8, the rest zero): q [m, 2, 32 subs] (codes and residual codes), meta
// [m, 2, subs], sums [m, subs] (QuantizedRows).
void quantize_rows(const float* x, int64_t m, int64_t k, int64_t subs, int8_t* q, float* meta,
                   int32_t* sums);

// out[m, n] = x[m, k] · w[n, k]ᵀ for a block-format weight, on the current thread pool.
void block_matmul(base::DataType dtype, const WeightRef& w, const float* x, int64_t m, int64_t n,
                  int64_t k, float* out);

// ys[i] = W_i x for `count` block weights of one format sharing x (quantized once).
void block_matmul_group(base::DataType dtype, const WeightRef* w, const float* x, float* const* ys,
                        const int64_t* n, int count, int64_t k);

}  // namespace infer::kernels::cpu

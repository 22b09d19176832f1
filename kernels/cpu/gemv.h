#pragma once
// Batch-1 matrix-vector products (the decode step) that stream each weight row once in its
// stored dtype and widen it in registers: no dequantised copy of the weights is ever written.
// One implementation per instruction set (generic, AVX2, AVX-512), chosen at run time.
#include <cstdint>

#include "infer/base/cpu_isa.h"
#include "infer/base/dtype.h"
#include "infer/kernels/ops.h"

namespace infer::kernels::cpu {

// y[r] = sum_c w[r, c] * x[c] for rows r in [begin, end) of a [rows, k] weight. For i8 weights
// with offsets, group_sums[g] is the sum of x over group g (the offsets' share of the product).
using GemvRowsFn = void (*)(const WeightRef& w, const float* x, const float* group_sums, float* y,
                            int64_t begin, int64_t end, int64_t k);

// dst = rows [begin, end) of a [rows, k] f16, bf16 or i8 weight as f32, row-major.
using DequantRowsFn = void (*)(const WeightRef& w, int64_t begin, int64_t end, int64_t k,
                               float* dst);

// nullptr when `isa` has no kernel for `dtype`.
GemvRowsFn gemv_rows_kernel(base::DataType dtype, base::CpuIsa isa);
DequantRowsFn dequant_rows_kernel(base::DataType dtype, base::CpuIsa isa);

// out[i * ldo + j] = x[i, :] · w[j, :] for i < m, j < rows: a block of the prefill GEMM, with
// `rows` f32 weight rows of length k.
using GemmRowsFn = void (*)(const float* x, int64_t m, const float* w, int64_t rows, int64_t k,
                            float* out, int64_t ldo);

// x for the bf16 GEMM: each value split into two bf16, x = hi + lo with hi = bf16(x) and
// lo = bf16(x - hi) (16 significant bits, a relative error within 2^-16, where bf16 alone keeps
// 8), stored per row in chunks of 32 columns: the chunk's 32 hi, then its 32 lo; rows padded
// with zeros to whole chunks.
inline int64_t bf16_pairs_stride(int64_t k) { return 2 * ((k + 31) / 32 * 32); }  // per row
// pairs = rows [begin, end) of x[m, k] as bf16 pairs.
using SplitBf16Fn = void (*)(const float* x, int64_t begin, int64_t end, int64_t k,
                             uint16_t* pairs);

// The block of the prefill GEMM for bf16 weights: out[i * ldo + j] = x[i, :] · w[j, :] for
// i < m, j < rows, with x as bf16 pairs and `rows` bf16 weight rows in place. Every product is
// exact in f32 and summed in f32.
using GemmBf16Fn = void (*)(const uint16_t* x_pairs, int64_t m, const uint16_t* w, int64_t rows,
                            int64_t k, float* out, int64_t ldo);

// One instruction set's kernels; each table is defined in a file compiled for its set.
struct IsaKernels {
  GemvRowsFn gemv_f32, gemv_f16, gemv_bf16, gemv_i8;
  DequantRowsFn rows_f16, rows_bf16, rows_i8;
  GemmRowsFn gemm_rows = nullptr;    // null: the prefill GEMM goes to OpenBLAS
  GemmBf16Fn gemm_bf16 = nullptr;    // null: bf16 weights are widened into f32 tiles
  SplitBf16Fn split_bf16 = nullptr;  // set with gemm_bf16
};
// nullptr when `isa` has no prefill GEMM of its own.
GemmRowsFn gemm_rows_kernel(base::CpuIsa isa);

const IsaKernels& generic_kernels();
const IsaKernels& avx2_kernels();
const IsaKernels& avx512_kernels();
const IsaKernels& avx512_bf16_kernels();

// y = W x for m == 1 on the current thread pool, with the kernel for base::cpu_isa().
void gemv(base::DataType dtype, const WeightRef& w, const float* x, float* y, int64_t n, int64_t k);

// out[m, n] = x[m, k] · w[n, k]ᵀ for f32 rows with `gemm`, blocks of rows of w split among the
// threads of the pool.
void gemm(GemmRowsFn gemm, const float* x, int64_t m, const float* w, int64_t n, int64_t k,
          float* out);
// The same for bf16 weights in place, with the bf16 GEMM of base::cpu_isa(): false, and nothing
// computed, where that set has none.
bool gemm_bf16(const float* x, int64_t m, const uint16_t* w, int64_t n, int64_t k, float* out);

// ys[i] = W_i x for `count` weights of one dtype and k columns sharing x, in one parallel
// region: the rows of all of them are split evenly among the threads.
void gemv_group(base::DataType dtype, const WeightRef* w, const float* x, float* const* ys,
                const int64_t* n, int count, int64_t k);

}  // namespace infer::kernels::cpu

#pragma once
// Batch-1 matrix-vector products (the decode step) that stream each weight row once in its
// stored dtype and widen it in registers: no dequantised copy of the weights is ever written.
// One implementation per instruction set (generic, AVX2, AVX-512), chosen at run time.
#include <omp.h>

#include <algorithm>
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

// out[i * ldo + j] = x[i, :] · w[j, :] for i < m, j < rows: a block of the prefill and batched
// GEMM, with `rows` f32 weight rows of length k (in place, or f16/bf16 rows widened into a
// tile). Each sum is formed exactly as the f32/f16/bf16 GemvRowsFn forms it for that row alone.
using GemmRowsFn = void (*)(const float* x, int64_t m, const float* w, int64_t rows, int64_t k,
                            float* out, int64_t ldo);

// The same with f16 or bf16 weight rows in place, widened in registers: the same floats as
// GemmRowsFn over the widened rows. Reads each weight once where a widened tile would write and
// read it again, which pays when x has few rows (batched decode).
using GemmHalfRowsFn = void (*)(const float* x, int64_t m, const uint16_t* w, int64_t rows,
                                int64_t k, float* out, int64_t ldo);

// y for m (1..4) rows of x against f32/f16/bf16 weight rows [begin, end) in place, each row
// streamed once: out[i * ldo + r] as GemvRowsFn gives it for row i of x alone.
using StreamRowsFn = void (*)(const WeightRef& w, const float* x, int64_t m, float* out,
                              int64_t ldo, int64_t begin, int64_t end, int64_t k);

// The same for int8 weights in place: out[i * ldo + r] = x[i, :] · w[r, :] for every row i < m
// of x and weight rows r in [begin, end), each sum formed as the i8 GemvRowsFn forms it.
// group_sums: for weights with offsets, GemvRowsFn's group sums of each row of x,
// [m, k / group_size].
using BatchRowsFn = void (*)(const WeightRef& w, const float* x, int64_t m, const float* group_sums,
                             float* out, int64_t ldo, int64_t begin, int64_t end, int64_t k);

// One instruction set's kernels; each table is defined in a file compiled for its set.
struct IsaKernels {
  GemvRowsFn gemv_f32, gemv_f16, gemv_bf16, gemv_i8;
  BatchRowsFn batch_i8;
  DequantRowsFn rows_f16, rows_bf16, rows_i8;
  GemmRowsFn gemm_rows;
  GemmHalfRowsFn gemm_f16_rows, gemm_bf16_rows;
  StreamRowsFn stream_f32, stream_f16, stream_bf16;
};

// The AVX512_BF16 set runs the AVX-512 kernels: its bf16 dot products round x to bf16, which
// would make a row's result depend on whether it runs alone (GEMV) or in a batch. Every set
// has a batched kernel of its own (no OpenBLAS), for the same reason.
const IsaKernels& generic_kernels();
const IsaKernels& avx2_kernels();
const IsaKernels& avx512_kernels();

// y = W x for m == 1 on the current thread pool, with the kernel for base::cpu_isa().
void gemv(base::DataType dtype, const WeightRef& w, const float* x, float* y, int64_t n, int64_t k);

// out[m, n] = x[m, k] · w[n, k]ᵀ for m >= 1 rows of x on the current thread pool, with the
// kernels for base::cpu_isa(): row for row the same floats as gemv() gives for that row alone.
void gemm(base::DataType dtype, const WeightRef& w, const float* x, int64_t m, int64_t n, int64_t k,
          float* out);

// Runs rows(i, from, to) on the current thread pool over the rows of `count` matrices of n[i]
// rows each, taken as one concatenation and split evenly: each thread gets one contiguous span,
// so that it streams its share of the weights in order, with one fork/join for all of them.
// Spans start at multiples of `align` rows of their matrix.
template <class Rows>
void parallel_row_spans(const int64_t* n, int count, Rows rows, int64_t align = 1) {
  int64_t total = 0;  // in units of `align` rows (a matrix's last unit may be shorter)
  for (int i = 0; i < count; ++i) total += (n[i] + align - 1) / align;
#pragma omp parallel
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t begin = total * t / threads, end = total * (t + 1) / threads;
    int64_t first = 0;  // first unit of matrix i, in the concatenation
    for (int i = 0; i < count && first < end; ++i) {
      const int64_t units = (n[i] + align - 1) / align;
      const int64_t from = std::max(begin, first) - first,
                    to = std::min(end, first + units) - first;
      if (from < to) rows(i, from * align, std::min(n[i], to * align));
      first += units;
    }
  }
}

// ys[i] = W_i x for `count` bf16 weights sharing x, with x rounded to bf16 once: the decode step
// of gemm_bf16_activations, the same floats as its rows.
void gemv_bf16_activations(const WeightRef* w, const float* x, float* const* ys, const int64_t* n,
                           int count, int64_t k);

// out[m, n] = x[m, k] · w[n, k]ᵀ for bf16 weights, with x rounded to bf16 and multiplied by
// AVX512_BF16 dot products: for LoadOptions::bf16_activations, on CPUs with that set only (the
// caller checks). Row for row the same floats whatever m is.
void gemm_bf16_activations(const WeightRef& w, const float* x, int64_t m, int64_t n, int64_t k,
                           float* out);

// ys[i] = W_i x for `count` weights of one dtype and k columns sharing x, in one parallel
// region: the rows of all of them are split evenly among the threads.
void gemv_group(base::DataType dtype, const WeightRef* w, const float* x, float* const* ys,
                const int64_t* n, int count, int64_t k);

}  // namespace infer::kernels::cpu

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

// nullptr when `isa` has no kernel for `dtype`.
GemvRowsFn gemv_rows_kernel(base::DataType dtype, base::CpuIsa isa);

// The per-ISA tables behind gemv_rows_kernel, each in a file compiled for its instruction set.
GemvRowsFn gemv_generic(base::DataType dtype);
GemvRowsFn gemv_avx2(base::DataType dtype);
GemvRowsFn gemv_avx512(base::DataType dtype);

// y = W x for m == 1 on the current thread pool, with the kernel for base::cpu_isa().
void gemv(base::DataType dtype, const WeightRef& w, const float* x, float* y, int64_t n, int64_t k);

}  // namespace infer::kernels::cpu

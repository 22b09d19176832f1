#pragma once
// The GGUF block formats (q8_0 ... q6_k) as the layers above the kernels need them: checking a
// weight's blocks at load, and turning blocks into f32 (tests, tools, embedding rows).
#include <cstdint>

#include "infer/base/dtype.h"

namespace infer::kernels {

// Index of the first of `blocks` consecutive blocks of `dtype` at `data` whose f16 scale or
// minimum is infinite or NaN, or -1 when all are finite.
int64_t first_nonfinite_block(base::DataType dtype, const void* data, int64_t blocks);

// out[0, n) = the first n values (a whole number of blocks) of `data` as f32, bit for bit the
// gguf package's dequantize.
void dequantize_blocks(base::DataType dtype, const void* data, int64_t n, float* out);

// Whether the CPU kernels of the ISA in use compute `dtype` faster from a prepared copy of the
// weight (the same number of bytes, 8 rows interleaved; kernels/cpu/quant/prepared.h).
bool uses_prepared_layout(base::DataType dtype);

// out = the prepared copy of a [rows, cols] weight of `dtype` at `data` (as many bytes).
void prepare_blocks(base::DataType dtype, const void* data, int64_t rows, int64_t cols, void* out);

}  // namespace infer::kernels

#pragma once
// One instruction set's table of block kernels (BlockKernels), built from the format list: each
// ISA file instantiates block_kernels<B, I>() once.
#include "formats.h"
#include "int8_dot.h"
#include "prepared.h"

namespace infer::kernels::cpu::quant {

// Whether I computes format F on prepared weights: I has those kernels, F a prepared layout, and
// I's byte products take F's unsigned codes (q8_0's reach 255) without saturating.
template <class F, class I>
constexpr bool kComputesPrepared = I::kPacked&& PreparedLayout<F>::kExists &&
                                   (F::kCodeBits < 8 || I::kWideUnsigned);

template <class B, class I>
BlockKernels block_kernels() {
  BlockKernels table{};
  table.quantize = quantize_rows;
#define INFER_BLOCK_ROWS(F)                                             \
  table.rows[block_format_index(F::kType)] = block_rows<F, B, I>;       \
  if constexpr (kComputesPrepared<F, I>) {                              \
    table.prepared[block_format_index(F::kType)] = prepared_rows<F, I>; \
  }
  INFER_FOR_EACH_BLOCK_FORMAT(INFER_BLOCK_ROWS)
#undef INFER_BLOCK_ROWS
  return table;
}

}  // namespace infer::kernels::cpu::quant

#pragma once
// Every GGUF block format libinfer computes on. INFER_FOR_EACH_BLOCK_FORMAT(X) expands X(F) for
// each format struct; the kernel tables are built from it, so a format added here is known to
// every instruction set's kernels at once.
#include "q4_0.h"
#include "q4_1.h"
#include "q4_k.h"
#include "q5_0.h"
#include "q5_1.h"
#include "q5_k.h"
#include "q6_k.h"
#include "q8_0.h"

#define INFER_FOR_EACH_BLOCK_FORMAT(X) \
  X(Q8_0)                              \
  X(Q4_0)                              \
  X(Q4_1)                              \
  X(Q5_0)                              \
  X(Q5_1)                              \
  X(Q4_K)                              \
  X(Q5_K)                              \
  X(Q6_K)

namespace infer::kernels::cpu::quant {

// The format struct of a block dtype.
template <base::DataType kType>
struct FormatOfType;
#define INFER_FORMAT_OF_TYPE(F)   \
  template <>                     \
  struct FormatOfType<F::kType> { \
    using type = F;               \
  };
INFER_FOR_EACH_BLOCK_FORMAT(INFER_FORMAT_OF_TYPE)
#undef INFER_FORMAT_OF_TYPE
template <base::DataType kType>
using FormatOf = typename FormatOfType<kType>::type;

}  // namespace infer::kernels::cpu::quant

// The block-format kernels for AVX2 without VNNI (maddubs + madd); compiled with AVX2, FMA and
// F16C, run only where base::cpu_isa() allows AVX2.
#include "quant/bytes_avx2.h"
#include "quant/kernel_table.h"
#include "quant_kernels.h"

namespace infer::kernels::cpu {

const quant::BlockKernels& avx2_block_kernels() {
  static const quant::BlockKernels kernels =
      quant::block_kernels<quant::Avx2Bytes, quant::Avx2Int8<quant::MaddubsDot, 4, 2>>();
  return kernels;
}

}  // namespace infer::kernels::cpu

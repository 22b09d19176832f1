// The block-format kernels in portable C++ (any CPU; INFER_ISA=generic).
#include "quant/bytes_generic.h"
#include "quant/kernel_table.h"
#include "quant_kernels.h"

namespace infer::kernels::cpu {

const quant::BlockKernels& generic_block_kernels() {
  static const quant::BlockKernels kernels =
      quant::block_kernels<quant::GenericBytes, quant::GenericDot>();
  return kernels;
}

}  // namespace infer::kernels::cpu

// The block-format kernels with AVX-VNNI's VPDPBUSD (the VEX form, on CPUs with AVX2 and no
// AVX-512, such as Intel's hybrid cores). The same sums as the AVX512_VNNI kernels.
#include "quant/bytes_avx2.h"
#include "quant/kernel_table.h"
#include "quant_kernels.h"

namespace infer::kernels::cpu {

namespace {

struct VexVpdpbusd {
  static constexpr bool kWideUnsigned = true;
  static __m256i dot(__m256i acc, __m256i u, __m256i s) {
    return _mm256_dpbusd_avx_epi32(acc, u, s);
  }
};

}  // namespace

const quant::BlockKernels& avx_vnni_block_kernels() {
  static const quant::BlockKernels kernels =
      quant::block_kernels<quant::Avx2Bytes, quant::Avx2Int8<VexVpdpbusd, 4, 2>>();
  return kernels;
}

}  // namespace infer::kernels::cpu

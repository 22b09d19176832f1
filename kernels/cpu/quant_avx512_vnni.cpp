// The block-format kernels with AVX512_VNNI's VPDPBUSD on 256-bit registers (AVX512VL), which
// sums 32 byte products per instruction without AVX2's int16 step. Run only on CPUs with AVX-512
// and AVX512_VNNI.
#include "quant/bytes_avx2.h"
#include "quant/kernel_table.h"
#include "quant_kernels.h"

namespace infer::kernels::cpu {

namespace {

struct Vpdpbusd {
  static constexpr bool kWideUnsigned = true;
  static __m256i dot(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(acc, u, s); }
};

}  // namespace

const quant::BlockKernels& avx512_vnni_block_kernels() {
  static const quant::BlockKernels kernels =
      quant::block_kernels<quant::Avx2Bytes, quant::Avx2Int8<Vpdpbusd, 4, 2>>();
  return kernels;
}

}  // namespace infer::kernels::cpu

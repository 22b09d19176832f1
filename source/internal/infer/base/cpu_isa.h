#pragma once
// Which SIMD instruction set the CPU kernels use. The best one the CPU supports is chosen at run
// time; the environment variable INFER_ISA (generic, avx2, avx512, avx512_bf16) or set_cpu_isa()
// picks a lower one, so that tests can cover every path on one machine.
#include <string>

namespace infer::base {

enum class CpuIsa {
  kGeneric,     // portable C++ (whatever the compiler's baseline vectorises)
  kAvx2,        // AVX2 + FMA + F16C
  kAvx512,      // AVX-512 F/BW/VL + FMA + F16C
  kAvx512Bf16,  // the above + AVX512_BF16 (bf16 dot products for the prefill of bf16 weights)
};

// Every set, each a superset of the one before it.
inline constexpr CpuIsa kAllIsas[] = {CpuIsa::kGeneric, CpuIsa::kAvx2, CpuIsa::kAvx512,
                                      CpuIsa::kAvx512Bf16};

const char* isa_name(CpuIsa isa);
// Throws InvalidArgument for a name other than generic, avx2, avx512, avx512_bf16.
CpuIsa parse_isa(const std::string& name);
bool isa_supported(CpuIsa isa);
CpuIsa best_supported_isa();

// The integer dot-product instructions the quantized-weight kernels use where the CPU has them:
// VPDPBUSD in its EVEX form (AVX512_VNNI, with AVX512VL for 256-bit registers) and in its VEX
// form (AVX-VNNI, on CPUs without AVX-512). Within an ISA level they are an extra, not a level of
// their own: INFER_ISA=avx2 on a CPU with AVX512_VNNI runs the AVX2 integer kernels.
bool cpu_has_avx512_vnni();
bool cpu_has_avx_vnni();

// The ISA in use: INFER_ISA when set, else the best supported. Throws InvalidArgument or
// Unsupported (naming INFER_ISA) when the variable is malformed or names an ISA this CPU lacks.
CpuIsa cpu_isa();
// Overrides the choice for this process; throws Unsupported when the CPU lacks `isa`.
void set_cpu_isa(CpuIsa isa);

}  // namespace infer::base

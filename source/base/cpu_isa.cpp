#include "infer/base/cpu_isa.h"

#include <cpuid.h>

#include <atomic>
#include <cstdlib>

#include "infer/base/error.h"

namespace infer::base {

namespace {

// -1: not chosen yet; otherwise a CpuIsa.
std::atomic<int> chosen{-1};

}  // namespace

const char* isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kGeneric:
      return "generic";
    case CpuIsa::kAvx2:
      return "avx2";
    case CpuIsa::kAvx512:
      return "avx512";
    case CpuIsa::kAvx512Bf16:
      return "avx512_bf16";
  }
  return "unknown";
}

CpuIsa parse_isa(const std::string& name) {
  for (CpuIsa isa : kAllIsas)
    if (name == isa_name(isa)) return isa;
  throw InvalidArgument("unknown instruction set '" + name +
                        "' (generic, avx2, avx512, avx512_bf16)");
}

// F16C from CPUID leaf 1 directly: clang's __builtin_cpu_supports does not know the name.
bool has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}

bool isa_supported(CpuIsa isa) {
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  switch (isa) {
    case CpuIsa::kGeneric:
      return true;
    case CpuIsa::kAvx2:
      return avx2;
    case CpuIsa::kAvx512:
      return avx512;
    case CpuIsa::kAvx512Bf16:
      return avx512 && __builtin_cpu_supports("avx512bf16");
  }
  return false;
}

namespace {

// Bit `bit` of register ecx (leaf 7, subleaf 0) or eax (leaf 7, subleaf 1) of CPUID.
bool cpuid7_bit(unsigned subleaf, int bit) {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_count(7, subleaf, &eax, &ebx, &ecx, &edx) == 0) return false;
  return ((subleaf == 0 ? ecx : eax) >> bit & 1u) != 0;
}

}  // namespace

// CPUID traps to the hypervisor on a VM (microseconds): asked once, on the first matmul.
bool cpu_has_avx512_vnni() {
  static const bool has = isa_supported(CpuIsa::kAvx512) && cpuid7_bit(0, 11);
  return has;
}

bool cpu_has_avx_vnni() {
  static const bool has = isa_supported(CpuIsa::kAvx2) && cpuid7_bit(1, 4);
  return has;
}

CpuIsa best_supported_isa() {
  CpuIsa best = CpuIsa::kGeneric;
  for (CpuIsa isa : kAllIsas)
    if (isa_supported(isa)) best = isa;
  return best;
}

void set_cpu_isa(CpuIsa isa) {
  if (!isa_supported(isa)) {
    throw Unsupported(std::string("this CPU does not support the ") + isa_name(isa) +
                      " instruction set");
  }
  chosen.store(static_cast<int>(isa));
}

CpuIsa cpu_isa() {
  const int current = chosen.load();
  if (current >= 0) return static_cast<CpuIsa>(current);
  CpuIsa isa = best_supported_isa();
  if (const char* env = std::getenv("INFER_ISA"); env != nullptr && *env != '\0') {
    try {
      isa = parse_isa(env);
      set_cpu_isa(isa);
    } catch (const Error& e) {
      throw InvalidArgument(std::string("INFER_ISA=") + env + ": " + e.what());
    }
  }
  chosen.store(static_cast<int>(isa));
  return isa;
}

}  // namespace infer::base

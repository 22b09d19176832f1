#pragma once
// The BLAS library behind the CPU prefill GEMMs of f32 weights (OpenBLAS, through Armadillo).

namespace infer::base {

// The kernel family OpenBLAS runs ("Haswell", "SkylakeX", ...: OpenBLAS picks it from the CPU,
// or from OPENBLAS_CORETYPE when set), or "unknown" for a BLAS that does not say.
const char* blas_core_name();

}  // namespace infer::base

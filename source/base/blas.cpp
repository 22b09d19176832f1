#include "infer/base/blas.h"

#include <dlfcn.h>

namespace infer::base {

const char* blas_core_name() {
  // Looked up at run time, so that libinfer links against any BLAS, not only OpenBLAS.
  using CoreNameFn = char* (*)();
  const auto core_name = reinterpret_cast<CoreNameFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = core_name != nullptr ? core_name() : nullptr;
  return name != nullptr ? name : "unknown";
}

}  // namespace infer::base

#include "infer/base/threads.h"

#include <omp.h>

#include <string>
#include <thread>

#include "infer/base/error.h"

// OpenBLAS's own pool; declared here so that the header does not leak OpenBLAS.
extern "C" void openblas_set_num_threads(int num_threads);

namespace infer::base {

void set_num_threads(int n) {
  if (n > 4096) throw InvalidArgument("--threads " + std::to_string(n) + " is absurdly large");
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace infer::base

#pragma once
// The CPU thread pool size shared by libinfer's kernels (OpenMP) and OpenBLAS.

namespace infer::base {

// n <= 0 means "all cores". Throws InvalidArgument for absurd values.
void set_num_threads(int n);
int num_threads();

}  // namespace infer::base

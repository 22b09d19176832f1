#pragma once
// The decode matmul for every stored weight dtype on CUDA: out = x · wᵀ for up to kGemvMaxRows
// rows of x, a warp per weight row, so that each row is read once, in its stored dtype, for all
// rows of x. A dtype supplies a Rows type with
//   template <int M> __device__ void accumulate(int64_t row, int lane, const float* x,
//                                               int64_t k, float* acc) const
// that adds lane `lane`'s share of x_i · w_row to acc[i] for i < M (lanes stride over the row).
#include <type_traits>

#include "cuda_launch.cuh"

namespace infer::kernels::cuda {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 4;
constexpr int kGemvMaxRows = 4;

template <class Rows, int M>
__global__ void gemv_rows_kernel(Rows rows, const float* x, int64_t n, int64_t k, float* out) {
  const int64_t row = blockIdx.x * static_cast<int64_t>(kWarpsPerBlock) + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (row >= n) return;  // the whole warp leaves together, so the shuffles see every lane
  float acc[M] = {};
  rows.template accumulate<M>(row, lane, x, k, acc);
  for (int i = 0; i < M; ++i) {
    float sum = acc[i];
    for (int offset = kWarp / 2; offset > 0; offset >>= 1)
      sum += __shfl_down_sync(0xffffffffu, sum, offset);
    if (lane == 0) out[i * n + row] = sum;
  }
}

// Launches gemv_rows_kernel for 1 <= m <= kGemvMaxRows and returns true; false for more rows.
template <class Rows>
bool launch_gemv_rows(cudaStream_t stream, const Rows& rows, const float* x, int64_t m, int64_t n,
                      int64_t k, float* out) {
  const auto launch = [&](auto rows_of_x) {
    if (n == 0) return;  // a grid of no blocks is a launch error
    gemv_rows_kernel<Rows, decltype(rows_of_x)::value>
        <<<blocks_for(n, kWarpsPerBlock), kWarpsPerBlock * kWarp, 0, stream>>>(rows, x, n, k, out);
    INFER_CUDA_CHECK_LAUNCH();
  };
  switch (m) {
    case 1:
      return launch(std::integral_constant<int, 1>{}), true;
    case 2:
      return launch(std::integral_constant<int, 2>{}), true;
    case 3:
      return launch(std::integral_constant<int, 3>{}), true;
    case 4:
      return launch(std::integral_constant<int, 4>{}), true;
    default:
      return false;
  }
}
static_assert(kGemvMaxRows == 4, "launch_gemv_rows launches 1 to 4 rows");

}  // namespace infer::kernels::cuda

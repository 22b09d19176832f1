#pragma once
// The decode matmul for every stored weight dtype on CUDA: out = x · wᵀ for up to kGemvMaxRows
// rows of x, a warp per weight row, so that each row is read once, in its stored dtype, for all
// rows of x. A dtype supplies a Rows type with
//   template <int M> __device__ void accumulate(int64_t row, int lane, const float* x,
//                                               int64_t k, float* acc) const
// that adds lane `lane`'s share of x_i · w_row to acc[i] for i < M (lanes stride over the row).
// Weights that share x at batch 1 (q/k/v, gate/up) go in one launch (launch_gemv_group).
#include <string>
#include <type_traits>

#include "cuda_launch.cuh"
#include "infer/base/error.h"

namespace infer::kernels::cuda {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 4;
constexpr int kGemvMaxRows = 4;

// The warp's dot products of weight row `row` with the M rows of x; lane 0 writes them to
// out[i * out_stride] for i < M.
template <class Rows, int M>
__device__ void warp_gemv_row(const Rows& rows, int64_t row, int lane, const float* x, int64_t k,
                              float* out, int64_t out_stride) {
  float acc[M] = {};
  rows.template accumulate<M>(row, lane, x, k, acc);
  for (int i = 0; i < M; ++i) {
    float sum = acc[i];
    for (int offset = kWarp / 2; offset > 0; offset >>= 1)
      sum += __shfl_down_sync(0xffffffffu, sum, offset);
    if (lane == 0) out[i * out_stride] = sum;
  }
}

template <class Rows, int M>
__global__ void gemv_rows_kernel(Rows rows, const float* x, int64_t n, int64_t k, float* out) {
  const int64_t row = blockIdx.x * static_cast<int64_t>(kWarpsPerBlock) + threadIdx.x / kWarp;
  if (row >= n) return;  // the whole warp leaves together, so the shuffles see every lane
  warp_gemv_row<Rows, M>(rows, row, threadIdx.x % kWarp, x, k, out + row, n);
}

// Weights that share x (q/k/v, gate/up), multiplied by one row of x in one launch: their rows
// numbered one after another, a warp per row as above. Passed by value (kernel parameters).
constexpr int kMaxGroupMembers = 8;
template <class Rows>
struct RowsGroup {
  Rows members[kMaxGroupMembers];
  float* outs[kMaxGroupMembers];
  int64_t first_row[kMaxGroupMembers + 1];  // member i has rows [first_row[i], first_row[i + 1])
  int count;
};

template <class Rows>
__global__ void gemv_group_kernel(RowsGroup<Rows> group, const float* x, int64_t k) {
  const int64_t row = blockIdx.x * static_cast<int64_t>(kWarpsPerBlock) + threadIdx.x / kWarp;
  if (row >= group.first_row[group.count]) return;
  int i = 0;
  while (row >= group.first_row[i + 1]) ++i;
  const int64_t local = row - group.first_row[i];
  warp_gemv_row<Rows, 1>(group.members[i], local, threadIdx.x % kWarp, x, k, group.outs[i] + local,
                         0);
}

// Throws InvalidArgument for a group larger than the kernel takes (before members are gathered).
inline void check_group_size(int count) {
  if (count > kMaxGroupMembers) {
    throw base::InvalidArgument("a CUDA matmul group takes at most " +
                                std::to_string(kMaxGroupMembers) + " weights, got " +
                                std::to_string(count));
  }
}

// outs[i][:n[i]] = x[:k] · members[i]ᵀ for i < count (at most kMaxGroupMembers), one launch.
template <class Rows>
void launch_gemv_group(cudaStream_t stream, const Rows* members, float* const* outs,
                       const int64_t* n, int count, const float* x, int64_t k) {
  RowsGroup<Rows> group{};
  group.count = count;
  for (int i = 0; i < count; ++i) {
    group.members[i] = members[i];
    group.outs[i] = outs[i];
    group.first_row[i + 1] = group.first_row[i] + n[i];
  }
  const int64_t rows = group.first_row[count];
  if (rows == 0) return;
  gemv_group_kernel<Rows>
      <<<blocks_for(rows, kWarpsPerBlock), kWarpsPerBlock * kWarp, 0, stream>>>(group, x, k);
  INFER_CUDA_CHECK_LAUNCH();
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

// fp32 matmul through cuBLAS. Row-major out[m, n] = x[m, k] · w[n, k]ᵀ is, in cuBLAS's
// column-major terms, outᵀ[n, m] = w[k, n]ᵀ · xᵀ[k, m]. Weights that share x at batch 1 (q/k/v,
// gate/up) go through the warp-per-row GEMV in one launch instead of one cuBLAS call each.
#include "cublas_handle.cuh"
#include "gemv_rows.cuh"
#include "infer/base/error.h"
#include "infer/kernels/registry.h"

namespace infer::kernels::cuda {
namespace {

void matmul_f32_cuda(const KernelContext& ctx, const float* x, const WeightRef& weight, float* out,
                     int64_t m, int64_t n, int64_t k) {
  const float alpha = 1.f;
  const float beta = 0.f;
  INFER_CUBLAS_CHECK(cublasSgemm(
      cublas_handle_for(stream_of(ctx)), CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n),
      static_cast<int>(m), static_cast<int>(k), &alpha, static_cast<const float*>(weight.data),
      static_cast<int>(k), x, static_cast<int>(k), &beta, out, static_cast<int>(n)));
}

// f32 rows [n, k]; with `vectorized` (k a multiple of 4, 16-byte aligned data), 4 values a load.
struct F32Rows {
  const float* data;
  bool vectorized;

  template <int M>
  __device__ void accumulate(int64_t row, int lane, const float* x, int64_t k, float* acc) const {
    const float* w = data + row * k;
    if (vectorized) {
      for (int64_t c = 4 * lane; c < k; c += 4 * kWarp) {
        const float4 v = *reinterpret_cast<const float4*>(w + c);
        for (int i = 0; i < M; ++i) {
          const float* xi = x + i * k + c;
          acc[i] = __fmaf_rn(v.x, xi[0], acc[i]);
          acc[i] = __fmaf_rn(v.y, xi[1], acc[i]);
          acc[i] = __fmaf_rn(v.z, xi[2], acc[i]);
          acc[i] = __fmaf_rn(v.w, xi[3], acc[i]);
        }
      }
      return;
    }
    for (int64_t c = lane; c < k; c += kWarp) {
      for (int i = 0; i < M; ++i) acc[i] = __fmaf_rn(w[c], x[i * k + c], acc[i]);
    }
  }
};

void matmul_group_f32_cuda(const KernelContext& ctx, const float* x, const WeightRef* w,
                           float* const* outs, const int64_t* n, int count, int64_t k) {
  if (count > kMaxGroupMembers)
    throw base::InvalidArgument("a CUDA matmul group takes at most 8 weights");
  F32Rows members[kMaxGroupMembers];
  for (int i = 0; i < count; ++i) {
    const auto* data = static_cast<const float*>(w[i].data);
    members[i] = {data, k % 4 == 0 && aligned_16(data)};
  }
  launch_gemv_group(stream_of(ctx), members, outs, n, count, x, k);
}

INFER_REGISTER_KERNEL(MatmulOp, base::DeviceType::kCUDA, base::DataType::kF32, matmul_f32_cuda);
INFER_REGISTER_KERNEL(MatmulGroupOp, base::DeviceType::kCUDA, base::DataType::kF32,
                      matmul_group_f32_cuda);

}  // namespace
}  // namespace infer::kernels::cuda

#pragma once
// The prefill path shared by the weight dtypes that cuBLAS cannot multiply as stored: the weight
// is widened to f32 in chunks of rows into scratch memory and multiplied by cuBLAS SGEMM, so the
// products are those of the same weights in f32 (tensor-core GEMMs are a later step).
#include <algorithm>

#include "cublas_handle.cuh"
#include "scratch.cuh"

namespace infer::kernels::cuda {

// The widened chunk is bounded, so that a large output head does not need its whole f32 copy.
constexpr int64_t kDequantizedChunkBytes = int64_t{64} << 20;

// out[m, n] = x[m, k] · wᵀ where widen_rows(r0, rows, f32) launches, on `stream`, a kernel that
// writes weight rows [r0, r0 + rows) as f32 into f32 [rows, k].
template <class WidenRows>
void dequantized_gemm(cudaStream_t stream, const float* x, int64_t m, int64_t n, int64_t k,
                      float* out, WidenRows widen_rows) {
  const int64_t chunk = std::min<int64_t>(
      n, std::max<int64_t>(1, kDequantizedChunkBytes / (k * static_cast<int64_t>(sizeof(float)))));
  const Scratch scratch(static_cast<size_t>(chunk * k) * sizeof(float), stream);
  const float alpha = 1.f, beta = 0.f;
  for (int64_t r0 = 0; r0 < n; r0 += chunk) {
    const int64_t rows = std::min(chunk, n - r0);
    widen_rows(r0, rows, scratch.data());
    // Columns [r0, r0 + rows) of the row-major out [m, n]: outᵀ's rows r0.. in cuBLAS's
    // column-major terms (as matmul_cuda.cu).
    INFER_CUBLAS_CHECK(cublasSgemm(cublas_handle_for(stream), CUBLAS_OP_T, CUBLAS_OP_N,
                                   static_cast<int>(rows), static_cast<int>(m), static_cast<int>(k),
                                   &alpha, scratch.data(), static_cast<int>(k), x,
                                   static_cast<int>(k), &beta, out + r0, static_cast<int>(n)));
  }
}

}  // namespace infer::kernels::cuda

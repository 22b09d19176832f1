// GGUF block-format weights (q8_0 ... q6_k) on CUDA. Every block is dequantized by its format's
// own function, the one the CPU uses (kernels/cpu/quant/*.h, compiled for the device too), and
// this file is compiled with --fmad=false, so both devices see the same weight values, bit for
// bit; the activations stay f32. Decode (up to 4 rows of x): a warp per weight row, each lane a
// block at a time (q/k/v and gate/up in one launch at batch 1). More rows: dequantized_gemm.
// Embedding rows are dequantized in place into the output.
#include <string>

#include "../cpu/quant/formats.h"
#include "dequantized_gemm.cuh"
#include "gemv_rows.cuh"
#include "infer/base/error.h"
#include "infer/kernels/registry.h"

namespace infer::kernels::cuda {
namespace {

// Rows [0, rows) of a block weight (row ids[r] when ids is given) dequantized into out [rows, k];
// one thread per block.
template <class F>
__global__ void dequantize_rows_kernel(const uint8_t* w, int64_t row_bytes, const int32_t* ids,
                                       int64_t rows, int64_t k, float* out) {
  const int64_t per_row = k / F::kBlock;
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= rows * per_row) return;
  const int64_t r = i / per_row, b = i % per_row;
  const int64_t source = ids != nullptr ? ids[r] : r;
  F::dequantize(w + source * row_bytes + b * F::kBytes, out + r * k + b * F::kBlock);
}

// The block-format rows for gemv_rows_kernel: each lane a block at a time.
template <class F>
struct BlockRows {
  const uint8_t* w;
  int64_t row_bytes;

  template <int M>
  __device__ void accumulate(int64_t row, int lane, const float* x, int64_t k, float* acc) const {
    float values[F::kBlock];
    for (int64_t b = lane; b < k / F::kBlock; b += kWarp) {
      F::dequantize(w + row * row_bytes + b * F::kBytes, values);
      for (int i = 0; i < M; ++i) {
        const float* xb = x + i * k + b * F::kBlock;
        for (int e = 0; e < F::kBlock; ++e) acc[i] = __fmaf_rn(values[e], xb[e], acc[i]);
      }
    }
  }
};

template <class F>
int64_t row_bytes_of(int64_t k) {
  if (k % F::kBlock != 0) {
    throw base::InvalidArgument(std::string(base::dtype_name(F::kType)) + " rows of " +
                                std::to_string(k) + " values are not whole blocks of " +
                                std::to_string(F::kBlock));
  }
  return k / F::kBlock * F::kBytes;
}

template <class F>
void matmul_blocks_cuda(const KernelContext& ctx, const float* x, const WeightRef& weight,
                        float* out, int64_t m, int64_t n, int64_t k) {
  const int64_t row_bytes = row_bytes_of<F>(k);
  const auto* w = static_cast<const uint8_t*>(weight.data);
  cudaStream_t stream = stream_of(ctx);
  if (m == 0 || launch_gemv_rows(stream, BlockRows<F>{w, row_bytes}, x, m, n, k, out)) return;
  dequantized_gemm(stream, x, m, n, k, out, [&](int64_t r0, int64_t rows, float* f32) {
    dequantize_rows_kernel<F><<<blocks_for(rows * (k / F::kBlock), 256), 256, 0, stream>>>(
        w + r0 * row_bytes, row_bytes, nullptr, rows, k, f32);
    INFER_CUDA_CHECK_LAUNCH();
  });
}

template <class F>
void matmul_group_blocks_cuda(const KernelContext& ctx, const float* x, const WeightRef* w,
                              float* const* outs, const int64_t* n, int count, int64_t k) {
  check_group_size(count);
  BlockRows<F> members[kMaxGroupMembers];
  for (int i = 0; i < count; ++i)
    members[i] = {static_cast<const uint8_t*>(w[i].data), row_bytes_of<F>(k)};
  launch_gemv_group(stream_of(ctx), members, outs, n, count, x, k);
}

template <class F>
void embedding_blocks_cuda(const KernelContext& ctx, const WeightRef& table, const int32_t* ids,
                           int64_t n_tokens, int64_t dim, float* out) {
  if (n_tokens == 0) return;
  const int64_t row_bytes = row_bytes_of<F>(dim);
  dequantize_rows_kernel<F>
      <<<blocks_for(n_tokens * (dim / F::kBlock), 256), 256, 0, stream_of(ctx)>>>(
          static_cast<const uint8_t*>(table.data), row_bytes, ids, n_tokens, dim, out);
  INFER_CUDA_CHECK_LAUNCH();
}

#define INFER_REGISTER_CUDA_BLOCK_FORMAT(F)                                           \
  INFER_REGISTER_KERNEL(MatmulOp, base::DeviceType::kCUDA, cpu::quant::F::kType,      \
                        matmul_blocks_cuda<cpu::quant::F>);                           \
  INFER_REGISTER_KERNEL(MatmulGroupOp, base::DeviceType::kCUDA, cpu::quant::F::kType, \
                        matmul_group_blocks_cuda<cpu::quant::F>);                     \
  INFER_REGISTER_KERNEL(EmbeddingOp, base::DeviceType::kCUDA, cpu::quant::F::kType,   \
                        embedding_blocks_cuda<cpu::quant::F>);
INFER_FOR_EACH_BLOCK_FORMAT(INFER_REGISTER_CUDA_BLOCK_FORMAT)
#undef INFER_REGISTER_CUDA_BLOCK_FORMAT

}  // namespace
}  // namespace infer::kernels::cuda

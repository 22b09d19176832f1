// GGUF block-format weights (q8_0 ... q6_k) on CUDA. Every block is dequantized by its format's
// own function, the one the CPU uses (kernels/cpu/quant/*.h, compiled for the device too), and
// this file is compiled with --fmad=false, so both devices see the same weight values, bit for
// bit; the activations stay f32. Decode (up to 4 rows of x): a warp per weight row, each lane a
// block at a time. More rows: the weight dequantized in chunks of rows into scratch and
// multiplied by cuBLAS SGEMM. Embedding rows are dequantized in place into the output.
#include <algorithm>
#include <string>

#include "../cpu/quant/formats.h"
#include "cublas_handle.cuh"
#include "infer/base/allocator.h"
#include "infer/base/error.h"
#include "infer/kernels/registry.h"

namespace infer::kernels::cuda {
namespace {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 4;
constexpr int kGemvMaxRows = 4;
// The dequantized chunk of a prefill matmul: bounded, so a large head does not need its whole
// f32 copy at once.
constexpr int64_t kScratchBytes = int64_t{64} << 20;

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

// out[i * n + row] = x_i · w_row for M rows of x: a warp per weight row (the whole warp leaves
// together past the last row, so the shuffles see every lane).
template <class F, int M>
__global__ void gemv_blocks_kernel(const uint8_t* w, int64_t row_bytes, const float* x, int64_t n,
                                   int64_t k, float* out) {
  const int64_t row = blockIdx.x * static_cast<int64_t>(kWarpsPerBlock) + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (row >= n) return;
  float acc[M] = {};
  float values[F::kBlock];
  for (int64_t b = lane; b < k / F::kBlock; b += kWarp) {
    F::dequantize(w + row * row_bytes + b * F::kBytes, values);
    for (int i = 0; i < M; ++i) {
      const float* xb = x + i * k + b * F::kBlock;
      for (int e = 0; e < F::kBlock; ++e) acc[i] = __fmaf_rn(values[e], xb[e], acc[i]);
    }
  }
  for (int i = 0; i < M; ++i) {
    float sum = acc[i];
    for (int offset = kWarp / 2; offset > 0; offset >>= 1)
      sum += __shfl_down_sync(0xffffffffu, sum, offset);
    if (lane == 0) out[i * n + row] = sum;
  }
}

template <class F, int M>
void launch_gemv(cudaStream_t stream, const uint8_t* w, int64_t row_bytes, const float* x,
                 int64_t n, int64_t k, float* out) {
  gemv_blocks_kernel<F, M><<<blocks_for(n, kWarpsPerBlock), kWarpsPerBlock * kWarp, 0, stream>>>(
      w, row_bytes, x, n, k, out);
  INFER_CUDA_CHECK_LAUNCH();
}

// Device memory from the caching allocator for the length of one call; later kernels on the
// same stream run after the ones that use it.
class Scratch {
 public:
  explicit Scratch(size_t bytes)
      : bytes_(bytes), ptr_(base::allocator_for(base::DeviceType::kCUDA).allocate(bytes)) {}
  ~Scratch() { base::allocator_for(base::DeviceType::kCUDA).release(ptr_, bytes_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  float* data() const { return static_cast<float*>(ptr_); }

 private:
  size_t bytes_;
  void* ptr_;
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
  switch (m) {
    case 0:
      return;
    case 1:
      return launch_gemv<F, 1>(stream, w, row_bytes, x, n, k, out);
    case 2:
      return launch_gemv<F, 2>(stream, w, row_bytes, x, n, k, out);
    case 3:
      return launch_gemv<F, 3>(stream, w, row_bytes, x, n, k, out);
    case kGemvMaxRows:
      return launch_gemv<F, kGemvMaxRows>(stream, w, row_bytes, x, n, k, out);
    default:
      break;
  }
  const int64_t chunk = std::min<int64_t>(
      n, std::max<int64_t>(1, kScratchBytes / (k * static_cast<int64_t>(sizeof(float)))));
  const Scratch scratch(static_cast<size_t>(chunk * k) * sizeof(float));
  const float alpha = 1.f, beta = 0.f;
  for (int64_t r0 = 0; r0 < n; r0 += chunk) {
    const int64_t rows = std::min(chunk, n - r0);
    dequantize_rows_kernel<F><<<blocks_for(rows * (k / F::kBlock), 256), 256, 0, stream>>>(
        w + r0 * row_bytes, row_bytes, nullptr, rows, k, scratch.data());
    INFER_CUDA_CHECK_LAUNCH();
    // Columns [r0, r0 + rows) of the row-major out [m, n]: outᵀ's rows r0.. in cuBLAS's
    // column-major terms (as matmul_cuda.cu).
    INFER_CUBLAS_CHECK(cublasSgemm(cublas_handle_for(stream), CUBLAS_OP_T, CUBLAS_OP_N,
                                   static_cast<int>(rows), static_cast<int>(m), static_cast<int>(k),
                                   &alpha, scratch.data(), static_cast<int>(k), x,
                                   static_cast<int>(k), &beta, out + r0, static_cast<int>(n)));
  }
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

#define INFER_REGISTER_CUDA_BLOCK_FORMAT(F)                                         \
  INFER_REGISTER_KERNEL(MatmulOp, base::DeviceType::kCUDA, cpu::quant::F::kType,    \
                        matmul_blocks_cuda<cpu::quant::F>);                         \
  INFER_REGISTER_KERNEL(EmbeddingOp, base::DeviceType::kCUDA, cpu::quant::F::kType, \
                        embedding_blocks_cuda<cpu::quant::F>);
INFER_FOR_EACH_BLOCK_FORMAT(INFER_REGISTER_CUDA_BLOCK_FORMAT)
#undef INFER_REGISTER_CUDA_BLOCK_FORMAT

}  // namespace
}  // namespace infer::kernels::cuda

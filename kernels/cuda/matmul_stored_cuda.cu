// f16, bf16 and group-wise int8 weights on CUDA (and f32 groups), kept in their stored dtype in GPU
// memory and widened in registers: decode through gemv_rows_kernel (16-byte loads where the rows
// allow them), embedding rows widened straight into the output. The widened values equal the CPU's:
// f16 and bf16 convert exactly, and an int8 element is fma(q, scale, offset) as in the CPU's
// row widening. Prefill (more rows than the GEMV takes): f16 and bf16 weights are multiplied as
// stored on tensor cores, by a cuBLAS GEMM of x rounded to the weight's type with f32
// accumulation (products of two halves are exact in f32, so the only rounding beyond the
// summation's is x's, 2^-9 relative for bf16 and 2^-12 for f16, as in HF's half-precision
// runs); int8 through dequantized_gemm.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <string>

#include "dequantized_gemm.cuh"
#include "gemv_rows.cuh"
#include "infer/base/error.h"
#include "infer/kernels/registry.h"

namespace infer::kernels::cuda {
namespace {

// A half type's conversions: widen (exact) and narrow (round to nearest even; f16 overflows
// to inf beyond 65504, which surfaces as NaN logits, refused by the sampler).
struct WidenF16 {
  static constexpr cudaDataType_t kCudaType = CUDA_R_16F;
  __device__ float operator()(uint16_t h) const { return __half2float(__ushort_as_half(h)); }
  __device__ static uint16_t narrow(float v) { return __half_as_ushort(__float2half_rn(v)); }
};
struct WidenBF16 {
  static constexpr cudaDataType_t kCudaType = CUDA_R_16BF;
  __device__ float operator()(uint16_t h) const {
    return __uint_as_float(static_cast<uint32_t>(h) << 16);
  }
  __device__ static uint16_t narrow(float v) {
    return __bfloat16_as_ushort(__float2bfloat16_rn(v));
  }
};

struct WidenF32 {
  __device__ float operator()(float v) const { return v; }
};

// Dense rows [n, k] of f32, f16 or bf16. With `vectorized` (k a multiple of a 16-byte load's
// elements and the data 16-byte aligned, so every row is), each lane reads 16 bytes per load and
// a warp 512 contiguous bytes.
template <class Element, class Widen>
struct DenseRows {
  static constexpr int kPerLoad = 16 / sizeof(Element);
  const Element* data;
  bool vectorized;

  __device__ float value(int64_t row, int64_t c, int64_t k) const {
    return Widen{}(data[row * k + c]);
  }

  template <int M>
  __device__ void accumulate(int64_t row, int lane, const float* x, int64_t k, float* acc) const {
    const Element* w = data + row * k;
    if (vectorized) {
      for (int64_t c = kPerLoad * lane; c < k; c += kPerLoad * kWarp) {
        const uint4 packed = *reinterpret_cast<const uint4*>(w + c);
        Element values[kPerLoad];
        memcpy(values, &packed, sizeof(packed));
#pragma unroll
        for (int e = 0; e < kPerLoad; ++e) {
          const float v = Widen{}(values[e]);
          for (int i = 0; i < M; ++i) acc[i] = __fmaf_rn(v, x[i * k + c + e], acc[i]);
        }
      }
      return;
    }
    for (int64_t c = lane; c < k; c += kWarp) {
      const float v = Widen{}(w[c]);
      for (int i = 0; i < M; ++i) acc[i] = __fmaf_rn(v, x[i * k + c], acc[i]);
    }
  }
};

template <class Widen>
using HalfRows = DenseRows<uint16_t, Widen>;
using F32Rows = DenseRows<float, WidenF32>;

// Group-wise int8 rows [n, k] with f32 scales (and offsets) per group of `group` values. Each
// lane takes whole groups, as the CPU does: the group's products summed, then scaled once, and
// the offset times the group's sum of x. With `vectorized` (groups and rows in multiples of 16
// bytes, 16-byte aligned data), 16 codes per load.
struct I8Rows {
  const int8_t* data;
  const float* scales;
  const float* offsets;  // null for symmetric weights
  int64_t group;
  bool vectorized;

  __device__ float value(int64_t row, int64_t c, int64_t k) const {
    const int64_t g = row * (k / group) + c / group;
    return __fmaf_rn(static_cast<float>(data[row * k + c]), scales[g],
                     offsets != nullptr ? offsets[g] : 0.0f);
  }

  template <int M>
  __device__ void accumulate(int64_t row, int lane, const float* x, int64_t k, float* acc) const {
    const int64_t groups = k / group;
    const int8_t* w = data + row * k;
    for (int64_t g = lane; g < groups; g += kWarp) {
      float products[M] = {}, x_sums[M] = {};
      const int64_t begin = g * group, end = begin + group;
      const auto add = [&](int64_t c, float q) {
        for (int i = 0; i < M; ++i) {
          products[i] = __fmaf_rn(q, x[i * k + c], products[i]);
          if (offsets != nullptr) x_sums[i] += x[i * k + c];  // only offsets need it
        }
      };
      if (vectorized) {
        for (int64_t c = begin; c < end; c += 16) {
          const int4 packed = *reinterpret_cast<const int4*>(w + c);
          const int32_t words[4] = {packed.x, packed.y, packed.z, packed.w};
#pragma unroll
          for (int e = 0; e < 16; ++e)
            add(c + e, static_cast<float>(static_cast<int8_t>(words[e / 4] >> (8 * (e % 4)))));
        }
      } else {
        for (int64_t c = begin; c < end; ++c) add(c, static_cast<float>(w[c]));
      }
      const float scale = scales[row * groups + g];
      const float offset = offsets != nullptr ? offsets[row * groups + g] : 0.0f;
      for (int i = 0; i < M; ++i) {
        acc[i] = __fmaf_rn(products[i], scale, acc[i]);
        if (offsets != nullptr) acc[i] = __fmaf_rn(offset, x_sums[i], acc[i]);
      }
    }
  }
};

// out[r, :] = weight row (ids[r] when ids is given, else first + r), widened; one thread per value.
template <class Rows>
__global__ void widen_rows_kernel(Rows w, int64_t first, const int32_t* ids, int64_t rows,
                                  int64_t k, float* out) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= rows * k) return;
  const int64_t r = i / k, c = i % k;
  out[i] = w.value(ids != nullptr ? ids[r] : first + r, c, k);
}

template <class Rows>
void widen_rows(cudaStream_t stream, const Rows& w, int64_t first, const int32_t* ids, int64_t rows,
                int64_t k, float* out) {
  if (rows == 0) return;
  widen_rows_kernel<Rows>
      <<<blocks_for(rows * k, 256), 256, 0, stream>>>(w, first, ids, rows, k, out);
  INFER_CUDA_CHECK_LAUNCH();
}

template <class Element, class Widen>
DenseRows<Element, Widen> dense_rows(const WeightRef& w, int64_t k) {
  return {static_cast<const Element*>(w.data),
          k % DenseRows<Element, Widen>::kPerLoad == 0 && aligned_16(w.data)};
}

I8Rows i8_rows(const WeightRef& w, int64_t k) {
  if (w.scales == nullptr || w.group_size <= 0 || k % w.group_size != 0) {
    throw base::InvalidArgument("i8 weight rows of " + std::to_string(k) +
                                " values need scales per group of a size that divides them "
                                "(group size " +
                                std::to_string(w.group_size) + ")");
  }
  return {static_cast<const int8_t*>(w.data), w.scales, w.offsets, w.group_size,
          w.group_size % 16 == 0 && aligned_16(w.data)};
}

template <class Widen>
__global__ void narrow_kernel(const float* x, int64_t n, uint16_t* out) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = Widen::narrow(x[i]);
}

// out[m, n] = x[m, k] · wᵀ on tensor cores: x rounded to the weight's type, f32 accumulation.
template <class Widen>
void prefill(cudaStream_t stream, const HalfRows<Widen>& w, const float* x, int64_t m, int64_t n,
             int64_t k, float* out) {
  const Scratch narrowed(static_cast<size_t>(m * k) * sizeof(uint16_t), stream);
  narrow_kernel<Widen>
      <<<blocks_for(m * k, 256), 256, 0, stream>>>(x, m * k, narrowed.data<uint16_t>());
  INFER_CUDA_CHECK_LAUNCH();
  const float alpha = 1.f, beta = 0.f;
  // Row-major out[m, n] is column-major outᵀ [n, m] = w[n, k] · xᵀ (as matmul_cuda.cu).
  INFER_CUBLAS_CHECK(cublasGemmEx(
      cublas_handle_for(stream), CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
      static_cast<int>(k), &alpha, w.data, Widen::kCudaType, static_cast<int>(k),
      narrowed.data<uint16_t>(), Widen::kCudaType, static_cast<int>(k), &beta, out, CUDA_R_32F,
      static_cast<int>(n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

void prefill(cudaStream_t stream, const I8Rows& w, const float* x, int64_t m, int64_t n, int64_t k,
             float* out) {
  dequantized_gemm(stream, x, m, n, k, out, [&](int64_t r0, int64_t rows, float* f32) {
    widen_rows(stream, w, r0, nullptr, rows, k, f32);
  });
}

template <class Rows, Rows (*kRows)(const WeightRef&, int64_t)>
void matmul_stored_cuda(const KernelContext& ctx, const float* x, const WeightRef& weight,
                        float* out, int64_t m, int64_t n, int64_t k) {
  const Rows w = kRows(weight, k);
  cudaStream_t stream = stream_of(ctx);
  if (m == 0 || launch_gemv_rows(stream, w, x, m, n, k, out)) return;
  prefill(stream, w, x, m, n, k, out);
}

template <class Rows, Rows (*kRows)(const WeightRef&, int64_t)>
void matmul_group_stored_cuda(const KernelContext& ctx, const float* x, const WeightRef* w,
                              float* const* outs, const int64_t* n, int count, int64_t k) {
  check_group_size(count);
  Rows members[kMaxGroupMembers];
  for (int i = 0; i < count; ++i) members[i] = kRows(w[i], k);
  launch_gemv_group(stream_of(ctx), members, outs, n, count, x, k);
}

template <class Rows, Rows (*kRows)(const WeightRef&, int64_t)>
void embedding_stored_cuda(const KernelContext& ctx, const WeightRef& table, const int32_t* ids,
                           int64_t n_tokens, int64_t dim, float* out) {
  widen_rows(stream_of(ctx), kRows(table, dim), 0, ids, n_tokens, dim, out);
}

using F16Rows = HalfRows<WidenF16>;
using BF16Rows = HalfRows<WidenBF16>;

#define INFER_REGISTER_CUDA_STORED(dtype, Rows, make)                  \
  INFER_REGISTER_KERNEL(MatmulOp, base::DeviceType::kCUDA, dtype,      \
                        (matmul_stored_cuda<Rows, make>));             \
  INFER_REGISTER_KERNEL(MatmulGroupOp, base::DeviceType::kCUDA, dtype, \
                        (matmul_group_stored_cuda<Rows, make>));       \
  INFER_REGISTER_KERNEL(EmbeddingOp, base::DeviceType::kCUDA, dtype,   \
                        (embedding_stored_cuda<Rows, make>));
INFER_REGISTER_CUDA_STORED(base::DataType::kF16, F16Rows, (dense_rows<uint16_t, WidenF16>))
INFER_REGISTER_CUDA_STORED(base::DataType::kBF16, BF16Rows, (dense_rows<uint16_t, WidenBF16>))
INFER_REGISTER_CUDA_STORED(base::DataType::kI8, I8Rows, i8_rows)
#undef INFER_REGISTER_CUDA_STORED
// f32 matrices alone go to cuBLAS (matmul_cuda.cu); groups sharing x at batch 1 come here.
INFER_REGISTER_KERNEL(MatmulGroupOp, base::DeviceType::kCUDA, base::DataType::kF32,
                      (matmul_group_stored_cuda<F32Rows, dense_rows<float, WidenF32>>));

}  // namespace
}  // namespace infer::kernels::cuda

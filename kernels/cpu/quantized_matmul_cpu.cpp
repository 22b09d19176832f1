// Matmul and embedding for weights stored as f16, bf16 or i8 (group-wise scales). Weights stay
// in their dtype in memory. A single row (decode) goes through the SIMD GEMV kernels; several
// rows (prefill) dequantise blocks of weight rows into a per-thread f32 tile for the GEMM, except
// bf16 on CPUs with AVX512_BF16, which multiplies the weights in place. Accumulation is f32 and
// no whole-model upcast ever happens.
#include <algorithm>
#include <armadillo>
#include <vector>

#include "gemv.h"
#include "infer/kernels/registry.h"

namespace infer::kernels {
namespace {

using base::DataType;

// Rows of the weight dequantised per tile for OpenBLAS: small enough for the tile to stay in L2
// (64 rows: +7% prefill over 16 on Qwen2.5-0.5B fp16, measured; 128 no better).
constexpr int64_t kTileRows = 64;

// out = x · wᵀ for m > 1 through f32 tiles of dequantised weight rows.
void gemm_dequantised(DataType type, const float* x, const WeightRef& w, float* out, int64_t m,
                      int64_t n, int64_t k) {
  const cpu::DequantRowsFn dequant = cpu::dequant_rows_kernel(type, base::cpu_isa());
  if (const cpu::GemmRowsFn gemm = cpu::gemm_rows_kernel(base::cpu_isa())) {
    // The widened tile must stay in L2 (~256 KiB here): written out to memory, widening the
    // weights cost a third of the bf16 prefill (perf: 32% in rows_bf16 with 64-row tiles at
    // k = 4864, a 1.2 MB tile).
    const int64_t tile_rows = std::clamp<int64_t>((int64_t(256) << 10) / (4 * k) / 4 * 4, 4, 64);
#pragma omp parallel
    {
      // Nothing per token: each thread's tile is kept, and grows only for a larger matrix.
      static thread_local std::vector<float> tile;
      if (tile.size() < static_cast<size_t>(tile_rows * k)) tile.resize(tile_rows * k);
#pragma omp for schedule(static)
      for (int64_t r0 = 0; r0 < n; r0 += tile_rows) {
        const int64_t rows = std::min(tile_rows, n - r0);
        dequant(w, r0, r0 + rows, k, tile.data());
        gemm(x, m, tile.data(), rows, k, out + r0, n);
      }
    }
    return;
  }
  const arma::fmat x_t(const_cast<float*>(x), k, m, /*copy_aux_mem=*/false, /*strict=*/true);
  arma::fmat out_t(out, n, m, /*copy_aux_mem=*/false, /*strict=*/true);
#pragma omp parallel
  {
    std::vector<float> tile(static_cast<size_t>(kTileRows * k));
#pragma omp for schedule(static)
    for (int64_t r0 = 0; r0 < n; r0 += kTileRows) {
      const int64_t rows = std::min(kTileRows, n - r0);
      dequant(w, r0, r0 + rows, k, tile.data());
      const arma::fmat tile_t(tile.data(), k, rows, /*copy_aux_mem=*/false, /*strict=*/true);
      out_t.rows(r0, r0 + rows - 1) = tile_t.t() * x_t;
    }
  }
}

template <DataType kType>
void matmul_dequant_cpu(const KernelContext&, const float* x, const WeightRef& w, float* out,
                        int64_t m, int64_t n, int64_t k) {
  if (m == 1) {  // decode: stream the weights once, widening in registers
    cpu::gemv(kType, w, x, out, n, k);
    return;
  }
  // bf16 with AVX512_BF16: multiplied in place; everything else through widened tiles.
  if (kType == DataType::kBF16 &&
      cpu::gemm_bf16(x, m, static_cast<const uint16_t*>(w.data), n, k, out))
    return;
  gemm_dequantised(kType, x, w, out, m, n, k);
}

template <DataType kType>
void embedding_dequant_cpu(const KernelContext&, const WeightRef& table, const int32_t* ids,
                           int64_t n_tokens, int64_t dim, float* out) {
  const cpu::DequantRowsFn dequant = cpu::dequant_rows_kernel(kType, base::cpu_isa());
  for (int64_t t = 0; t < n_tokens; ++t) dequant(table, ids[t], ids[t] + 1, dim, out + t * dim);
}

INFER_REGISTER_KERNEL(MatmulOp, base::DeviceType::kCPU, DataType::kF16,
                      matmul_dequant_cpu<DataType::kF16>);
INFER_REGISTER_KERNEL(MatmulOp, base::DeviceType::kCPU, DataType::kBF16,
                      matmul_dequant_cpu<DataType::kBF16>);
INFER_REGISTER_KERNEL(MatmulOp, base::DeviceType::kCPU, DataType::kI8,
                      matmul_dequant_cpu<DataType::kI8>);
INFER_REGISTER_KERNEL(EmbeddingOp, base::DeviceType::kCPU, DataType::kF16,
                      embedding_dequant_cpu<DataType::kF16>);
INFER_REGISTER_KERNEL(EmbeddingOp, base::DeviceType::kCPU, DataType::kBF16,
                      embedding_dequant_cpu<DataType::kBF16>);
INFER_REGISTER_KERNEL(EmbeddingOp, base::DeviceType::kCPU, DataType::kI8,
                      embedding_dequant_cpu<DataType::kI8>);

}  // namespace
}  // namespace infer::kernels

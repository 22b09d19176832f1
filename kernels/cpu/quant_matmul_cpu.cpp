// Matmul, fused group matmul and embedding for GGUF block weights: x is quantized to int8 once
// per call (quantize_rows), then each thread runs its share of the weight rows through the
// instruction set's block kernels (quant/int8_dot.h). Embedding rows are dequantized exactly.
#include <omp.h>

#include <string>
#include <vector>

#include "gemv.h"
#include "infer/base/error.h"
#include "infer/kernels/block_formats.h"
#include "infer/kernels/registry.h"
#include "quant_kernels.h"

namespace infer::kernels {

namespace cpu {

const quant::BlockKernels& block_kernels_for(base::CpuIsa isa, const char** name) {
  const auto named = [&](const quant::BlockKernels& k,
                         const char* n) -> const quant::BlockKernels& {
    if (name != nullptr) *name = n;
    return k;
  };
  switch (isa) {
    case base::CpuIsa::kAvx512:
    case base::CpuIsa::kAvx512Bf16:
      if (base::cpu_has_avx512_vnni()) return named(avx512_vnni_block_kernels(), "avx512_vnni");
      [[fallthrough]];
    case base::CpuIsa::kAvx2:
      if (base::cpu_has_avx_vnni()) return named(avx_vnni_block_kernels(), "avx_vnni");
      return named(avx2_block_kernels(), "avx2");
    case base::CpuIsa::kGeneric:
      break;
  }
  return named(generic_block_kernels(), "generic");
}

void quantize_rows(const float* x, int64_t m, int64_t k, int64_t subs, int8_t* q, float* meta,
                   int32_t* sums) {
  block_kernels_for(base::cpu_isa()).quantize(x, m, k, subs, q, meta, sums);
}

namespace {

// Grow-only scratch for the quantized activations: nothing is allocated per token once the
// largest input has been seen.
quant::QuantizedRows quantized(const float* x, int64_t m, int64_t k) {
  static thread_local std::vector<int8_t> q;
  static thread_local std::vector<float> meta;
  static thread_local std::vector<int32_t> sums;
  const int64_t subs = (k / quant::kSub + 7) / 8 * 8;
  if (q.size() < static_cast<size_t>(2 * m * subs * quant::kSub))
    q.resize(2 * m * subs * quant::kSub);
  if (meta.size() < static_cast<size_t>(m * subs * 2)) meta.resize(m * subs * 2);
  if (sums.size() < static_cast<size_t>(m * subs)) sums.resize(m * subs);
  // Rows are independent: a prefill chunk's are quantized by all threads (a decode row stays out
  // of the thread team).
  int8_t* codes = q.data();
  float* scales = meta.data();
  int32_t* code_sums = sums.data();
  const auto rows = [&](int64_t i, int64_t count) {
    quantize_rows(x + i * k, count, k, subs, codes + i * 2 * subs * quant::kSub,
                  scales + i * 2 * subs, code_sums + i * subs);
  };
  if (m < 4) {
    rows(0, m);
  } else {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < m; ++i) rows(i, 1);
  }
  return {q.data(), meta.data(), sums.data(), k, subs};
}

quant::BlockRowsFn rows_kernel(base::DataType dtype) {
  const int index = quant::block_format_index(dtype);
  if (index < 0) {
    throw base::Unsupported(std::string("no block kernel for dtype ") + base::dtype_name(dtype));
  }
  return block_kernels_for(base::cpu_isa()).rows[index];
}

void check_row(base::DataType dtype, int64_t k) {
  const int64_t block = base::dtype_info(dtype).block_elements;
  if (k % block != 0) {
    throw base::InvalidArgument(std::string(base::dtype_name(dtype)) + " rows of " +
                                std::to_string(k) + " values are not whole blocks of " +
                                std::to_string(block));
  }
}

// Weight rows per parallel chunk of the batched product: 64 rows of blocks stay in L2 while all
// of x's rows pass.
constexpr int64_t kChunkRows = 64;

}  // namespace

void block_matmul(base::DataType dtype, const WeightRef& w, const float* x, int64_t m, int64_t n,
                  int64_t k, float* out) {
  if (m == 1) return block_matmul_group(dtype, &w, x, &out, &n, 1, k);
  check_row(dtype, k);
  const quant::BlockRowsFn rows = rows_kernel(dtype);
  const quant::QuantizedRows xq = quantized(x, m, k);
  const int64_t row_bytes = static_cast<int64_t>(base::dtype_bytes(dtype, k));
  const auto* data = static_cast<const uint8_t*>(w.data);
#pragma omp parallel for schedule(static)
  for (int64_t r0 = 0; r0 < n; r0 += kChunkRows)
    rows(data, row_bytes, n, xq, m, out, n, r0, std::min(n, r0 + kChunkRows));
}

void block_matmul_group(base::DataType dtype, const WeightRef* w, const float* x, float* const* ys,
                        const int64_t* n, int count, int64_t k) {
  check_row(dtype, k);
  const quant::BlockRowsFn rows = rows_kernel(dtype);
  const quant::QuantizedRows xq = quantized(x, 1, k);
  const int64_t row_bytes = static_cast<int64_t>(base::dtype_bytes(dtype, k));
  parallel_row_spans(n, count, [&](int i, int64_t from, int64_t to) {
    rows(static_cast<const uint8_t*>(w[i].data), row_bytes, n[i], xq, 1, ys[i], 0, from, to);
  });
}

}  // namespace cpu

namespace {

using base::DataType;

template <class F>
int64_t first_nonfinite(const uint8_t* data, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b)
    if (!F::finite(data + b * F::kBytes)) return b;
  return -1;
}

template <class F>
void dequantize_all(const uint8_t* data, int64_t n, float* out) {
  for (int64_t b = 0; b < n / F::kBlock; ++b)
    F::dequantize(data + b * F::kBytes, out + b * F::kBlock);
}

template <DataType kType>
void matmul_blocks_cpu(const KernelContext&, const float* x, const WeightRef& w, float* out,
                       int64_t m, int64_t n, int64_t k) {
  cpu::block_matmul(kType, w, x, m, n, k, out);
}

template <DataType kType>
void matmul_group_blocks_cpu(const KernelContext&, const float* x, const WeightRef* w,
                             float* const* outs, const int64_t* n, int count, int64_t k) {
  cpu::block_matmul_group(kType, w, x, outs, n, count, k);
}

template <DataType kType>
void embedding_blocks_cpu(const KernelContext&, const WeightRef& table, const int32_t* ids,
                          int64_t n_tokens, int64_t dim, float* out) {
  const uint64_t row_bytes = base::dtype_bytes(kType, dim);
  for (int64_t t = 0; t < n_tokens; ++t) {
    dequantize_blocks(kType, static_cast<const uint8_t*>(table.data) + ids[t] * row_bytes, dim,
                      out + t * dim);
  }
}

#define INFER_REGISTER_BLOCK_FORMAT(F)                                               \
  INFER_REGISTER_KERNEL(MatmulOp, base::DeviceType::kCPU, cpu::quant::F::kType,      \
                        matmul_blocks_cpu<cpu::quant::F::kType>);                    \
  INFER_REGISTER_KERNEL(MatmulGroupOp, base::DeviceType::kCPU, cpu::quant::F::kType, \
                        matmul_group_blocks_cpu<cpu::quant::F::kType>);              \
  INFER_REGISTER_KERNEL(EmbeddingOp, base::DeviceType::kCPU, cpu::quant::F::kType,   \
                        embedding_blocks_cpu<cpu::quant::F::kType>);
INFER_FOR_EACH_BLOCK_FORMAT(INFER_REGISTER_BLOCK_FORMAT)
#undef INFER_REGISTER_BLOCK_FORMAT

}  // namespace

int64_t first_nonfinite_block(DataType dtype, const void* data, int64_t blocks) {
  const auto* bytes = static_cast<const uint8_t*>(data);
#define INFER_CHECK_BLOCKS(F) \
  if (dtype == cpu::quant::F::kType) return first_nonfinite<cpu::quant::F>(bytes, blocks);
  INFER_FOR_EACH_BLOCK_FORMAT(INFER_CHECK_BLOCKS)
#undef INFER_CHECK_BLOCKS
  return -1;
}

void dequantize_blocks(DataType dtype, const void* data, int64_t n, float* out) {
  const auto* bytes = static_cast<const uint8_t*>(data);
#define INFER_DEQUANTIZE(F) \
  if (dtype == cpu::quant::F::kType) return dequantize_all<cpu::quant::F>(bytes, n, out);
  INFER_FOR_EACH_BLOCK_FORMAT(INFER_DEQUANTIZE)
#undef INFER_DEQUANTIZE
  throw base::Unsupported(std::string("dequantize_blocks: ") + base::dtype_name(dtype) +
                          " is not a block format");
}

}  // namespace infer::kernels

// Matmul, fused group matmul and embedding for GGUF block weights: x is quantized to int8 once
// per call (quantize_rows), then each thread runs its share of the weight rows through the
// instruction set's block kernels: on the prepared copy of the weight (quant/prepared.h) where it
// has one, else on the blocks as stored (quant/int8_dot.h). Embedding rows are dequantized
// exactly.
#include <omp.h>

#include <cstring>
#include <string>
#include <vector>

#include "gemv.h"
#include "infer/base/error.h"
#include "infer/kernels/block_formats.h"
#include "infer/kernels/registry.h"
#include "quant/prepared.h"
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

int kernel_index(base::DataType dtype) {
  const int index = quant::block_format_index(dtype);
  if (index < 0) {
    throw base::Unsupported(std::string("no block kernel for dtype ") + base::dtype_name(dtype));
  }
  return index;
}

// Rows [from, to) of w for the m rows of x: those in whole blocks of 8 from the prepared copy
// where there is one and the ISA computes on it (`from` then a multiple of 8), the rest, and
// everything otherwise, from the rows as stored (the prepared copy keeps the last n mod 8 rows
// as stored, at the same offsets).
void product_rows(base::DataType dtype, const WeightRef& w, int64_t row_bytes, int64_t n,
                  const quant::QuantizedRows& x, int64_t m, float* out, int64_t ldo, int64_t from,
                  int64_t to) {
  const quant::BlockKernels& kernels = block_kernels_for(base::cpu_isa());
  const int index = kernel_index(dtype);
  const quant::PreparedRowsFn prepared = w.prepared ? kernels.prepared[index] : nullptr;
  const auto* data = static_cast<const uint8_t*>(prepared ? w.prepared : w.data);
  if (prepared) {
    const int64_t whole_blocks_end = std::min(to, n / 8 * 8);
    if (from < whole_blocks_end) {
      prepared(data, row_bytes, x, m, out, ldo, from, whole_blocks_end);
      from = whole_blocks_end;
    }
  }
  if (from < to) kernels.rows[index](data, row_bytes, n, x, m, out, ldo, from, to);
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
  const quant::QuantizedRows xq = quantized(x, m, k);
  const int64_t row_bytes = static_cast<int64_t>(base::dtype_bytes(dtype, k));
#pragma omp parallel for schedule(static)
  for (int64_t r0 = 0; r0 < n; r0 += kChunkRows)
    product_rows(dtype, w, row_bytes, n, xq, m, out, n, r0, std::min(n, r0 + kChunkRows));
}

void block_matmul_group(base::DataType dtype, const WeightRef* w, const float* x, float* const* ys,
                        const int64_t* n, int count, int64_t k) {
  check_row(dtype, k);
  kernel_index(dtype);  // throws here, not inside the parallel region (which would terminate)
  const quant::QuantizedRows xq = quantized(x, 1, k);
  const int64_t row_bytes = static_cast<int64_t>(base::dtype_bytes(dtype, k));
  // Spans in whole blocks of 8 rows, the prepared layout's unit.
  parallel_row_spans(
      n, count,
      [&](int i, int64_t from, int64_t to) {
        product_rows(dtype, w[i], row_bytes, n[i], xq, 1, ys[i], 0, from, to);
      },
      8);
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
  using F = cpu::quant::FormatOf<kType>;
  const int64_t row_bytes = static_cast<int64_t>(base::dtype_bytes(kType, dim));
  // A table shared with the output head reads its rows from the head's prepared copy, so that
  // the file's pages of it are not brought back beside the copy.
  const int64_t prepared_rows = table.prepared ? table.rows / 8 * 8 : 0;
  const auto* bytes = static_cast<const uint8_t*>(table.prepared ? table.prepared : table.data);
  for (int64_t t = 0; t < n_tokens; ++t) {
    if constexpr (cpu::quant::PreparedLayout<F>::kExists) {
      if (ids[t] < prepared_rows) {
        cpu::quant::dequantize_prepared_row<F>(bytes, row_bytes, ids[t], dim, out + t * dim);
        continue;
      }
    }
    dequantize_blocks(kType, bytes + ids[t] * row_bytes, dim, out + t * dim);
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

bool uses_prepared_layout(DataType dtype) {
  const int index = cpu::quant::block_format_index(dtype);
  return index >= 0 && cpu::block_kernels_for(base::cpu_isa()).prepared[index] != nullptr;
}

void prepare_blocks(DataType dtype, const void* data, int64_t rows, int64_t cols, void* out) {
  cpu::check_row(dtype, cols);
  const int64_t row_bytes = static_cast<int64_t>(base::dtype_bytes(dtype, cols));
  const int64_t blocks = rows / 8;
  const auto* in = static_cast<const uint8_t*>(data);
  auto* prepared = static_cast<uint8_t*>(out);
  const auto prepare = [&](auto format) {
    using F = decltype(format);
    if constexpr (cpu::quant::PreparedLayout<F>::kExists) {
#pragma omp parallel for schedule(static)
      for (int64_t b = 0; b < blocks; ++b)
        cpu::quant::prepare_block<F>(in + b * 8 * row_bytes, row_bytes,
                                     prepared + b * 8 * row_bytes);
      // The rows past the last whole block of 8 as stored.
      std::memcpy(prepared + blocks * 8 * row_bytes, in + blocks * 8 * row_bytes,
                  static_cast<size_t>((rows - blocks * 8) * row_bytes));
    } else {
      throw base::Unsupported(std::string("prepare_blocks: ") + base::dtype_name(dtype) +
                              " has no prepared layout");
    }
  };
#define INFER_PREPARE(F) \
  if (dtype == cpu::quant::F::kType) return prepare(cpu::quant::F{});
  INFER_FOR_EACH_BLOCK_FORMAT(INFER_PREPARE)
#undef INFER_PREPARE
  throw base::Unsupported(std::string("prepare_blocks: ") + base::dtype_name(dtype) +
                          " is not a block format");
}

}  // namespace infer::kernels

#pragma once
// The kernel signature of every op. One convention for all devices: a KernelContext, then raw
// pointers in the op's device memory, then sizes. Row-major throughout. `dtype` in the registry
// key is the dtype of the weight for param ops (embedding, matmul, rmsnorm) and f32 otherwise;
// activations are always f32.
#include <cstdint>

#include "infer/kernels/kernel_context.h"

namespace infer::kernels {

enum class OpKind : uint8_t {
  kEmbedding,
  kMatmul,
  kRmsNorm,
  kRopeKv,
  kAttention,
  kSwiGLU,
  kAdd,
  kSoftmax,
  kArgmax,
  kBiasAdd,
  kMatmulGroup,
};

const char* op_name(OpKind op);

// A weight matrix [rows, cols] as kernels see it, in its stored dtype. For i8, `scales` (and,
// for asymmetric quantisation, `offsets`) hold one f32 per group of `group_size` consecutive
// elements of a row ([rows, cols / group_size]) and an element is q * scale + offset (offset 0
// when `offsets` is null); other dtypes leave both null.
struct WeightRef {
  const void* data = nullptr;
  const float* scales = nullptr;
  int64_t group_size = 0;
  const float* offsets = nullptr;
  // Block formats on the CPU: the same bytes rearranged for the kernels of the ISA in use
  // (kernels::prepare_blocks), or null; with it, the matrix's number of rows.
  const void* prepared = nullptr;
  int64_t rows = 0;
};

// out[t, :] = table[ids[t], :] (dequantised); table is [vocab, dim]. ids are checked by the caller.
struct EmbeddingOp {
  static constexpr OpKind kKind = OpKind::kEmbedding;
  using Fn = void (*)(const KernelContext&, const WeightRef& table, const int32_t* ids,
                      int64_t n_tokens, int64_t dim, float* out);
};

// out[m, n] = sum_k x[m, k] * w[n, k]  (x · wᵀ, w in the HF [out_features, in_features] layout),
// accumulated in f32 whatever the weight's dtype.
struct MatmulOp {
  static constexpr OpKind kKind = OpKind::kMatmul;
  using Fn = void (*)(const KernelContext&, const float* x, const WeightRef& w, float* out,
                      int64_t m, int64_t n, int64_t k);
};

// out[r, :] = s[r, :] / sqrt(mean(s[r, :]²) + eps) * weight, where s = x, or, with `residual`,
// s = x + residual, also written to `sum` (which may be x): the residual add before a norm in
// the same pass. `out` may alias x only without a residual.
struct RmsNormOp {
  static constexpr OpKind kKind = OpKind::kRmsNorm;
  using Fn = void (*)(const KernelContext&, const float* x, const float* residual, float* sum,
                      const void* weight, float* out, int64_t rows, int64_t dim, float eps);
};

// The new rows of a pass made ready for attention, for token t at position positions[t] with the
// rotate-half RoPE (HF) tables cos/sin [positions, head_dim / 2]: q[t] rotated in place, k[t]
// rotated into k_pool's row slots[t], v[t] copied into v_pool's row slots[t]. q: [n_tokens,
// n_heads * head_dim]; k, v and the pools' rows: n_kv_heads * head_dim. One kernel where the
// steps were four (two ropes, two row copies). positions and slots are in device memory.
struct RopeKvOp {
  static constexpr OpKind kKind = OpKind::kRopeKv;
  using Fn = void (*)(const KernelContext&, float* q, const float* k, const float* v,
                      int64_t n_tokens, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim,
                      const int32_t* positions, const float* cos, const float* sin,
                      const int32_t* slots, float* k_pool, float* v_pool);
};

// outs[i][0, :n[i]] = x[0, :] · w[i]ᵀ for `count` weights of one dtype that share the input x
// (q/k/v, gate/up) at batch 1: one pass over all of them, one fork/join instead of `count`.
struct MatmulGroupOp {
  static constexpr OpKind kKind = OpKind::kMatmulGroup;
  using Fn = void (*)(const KernelContext&, const float* x, const WeightRef* w, float* const* outs,
                      const int64_t* n, int count, int64_t k);
};

// Where the keys and values of each query row live in a paged KV pool: the pool is
// [blocks * block_size, n_kv_heads * head_dim] row-major, and query row t, at position
// positions[t], sees positions [0, positions[t]] of its sequence, whose position p is pool row
// tables[table_offsets[t] + p / block_size] * block_size + p % block_size. All arrays are in the
// kernel's device memory.
struct KvPages {
  const int32_t* positions = nullptr;
  const int32_t* tables = nullptr;
  const int32_t* table_offsets = nullptr;
  int64_t block_size = 0;
  // The most keys a row reads (1 + the largest position), known on the host: a device kernel
  // sizes its split of the keys by it without reading the positions back.
  int64_t max_keys = 0;
};

// Causal GQA attention for n_tokens query rows, each over its own sequence's keys (KvPages),
// which already hold the row's own position. q/out: [n_tokens, n_heads, head_dim]. Query head h
// reads KV head h / (n_heads / n_kv_heads). A row's result depends only on its query and its
// keys, never on the other rows of the batch.
struct AttentionOp {
  static constexpr OpKind kKind = OpKind::kAttention;
  using Fn = void (*)(const KernelContext&, const float* q, const float* k_pool,
                      const float* v_pool, float* out, int64_t n_tokens, const KvPages& pages,
                      int64_t n_heads, int64_t n_kv_heads, int64_t head_dim);
};

// out[i] = silu(gate[i]) * up[i].
struct SwiGLUOp {
  static constexpr OpKind kKind = OpKind::kSwiGLU;
  using Fn = void (*)(const KernelContext&, const float* gate, const float* up, float* out,
                      int64_t n);
};

// out[i] = a[i] + b[i]; out may alias a or b.
struct AddOp {
  static constexpr OpKind kKind = OpKind::kAdd;
  using Fn = void (*)(const KernelContext&, const float* a, const float* b, float* out, int64_t n);
};

// In-place, numerically stable softmax over each row of x[rows, cols].
struct SoftmaxOp {
  static constexpr OpKind kKind = OpKind::kSoftmax;
  using Fn = void (*)(const KernelContext&, float* x, int64_t rows, int64_t cols);
};

// out[r] (device memory) = index of the largest x[r, c] over c, the lowest on ties (torch.argmax);
// -1 for a row that holds a NaN, from which no choice means anything.
struct ArgmaxOp {
  static constexpr OpKind kKind = OpKind::kArgmax;
  using Fn = void (*)(const KernelContext&, const float* x, int64_t rows, int64_t cols,
                      int32_t* out);
};

// x[r, c] += bias[c] for every row r of x[rows, cols].
struct BiasAddOp {
  static constexpr OpKind kKind = OpKind::kBiasAdd;
  using Fn = void (*)(const KernelContext&, float* x, const float* bias, int64_t rows,
                      int64_t cols);
};

}  // namespace infer::kernels

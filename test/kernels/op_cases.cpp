#include "op_cases.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <random>

#include <cstring>

#include "../reference/quantize.h"
#include "../reference/random_values.h"
#include "../reference/reference_ops.h"
#include "../reference/stored_weight.h"
#include "infer/kernels/registry.h"
#include "infer/op/attention.h"
#include "infer/op/elementwise.h"
#include "infer/op/embedding.h"
#include "infer/op/matmul.h"
#include "infer/op/matmul_group.h"
#include "infer/op/rmsnorm.h"
#include "infer/op/rope.h"

namespace infer::test {

using base::DataType;
using base::DeviceType;
using tensor::Shape;
using tensor::Tensor;
using Vec = std::vector<float>;
using reference::random_normal;

namespace {

Tensor on(DeviceType device, const Vec& v, Shape shape) {
  Tensor t = Tensor::from_vector(v, std::move(shape));
  return device == DeviceType::kCPU ? t : t.to(device);
}

Tensor empty_on(DeviceType device, Shape shape) {
  return Tensor::zeros(std::move(shape), DataType::kF32, device);
}

const kernels::KernelContext kCtx{};

OpCase matmul_case(int64_t m, int64_t n, int64_t k) {
  const Vec x = random_normal(m * k, 1), w = random_normal(n * k, 2);
  return {"matmul_" + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k),
          [=](DeviceType d) {
            op::Matmul layer(op::Weight{on(d, w, {n, k})});
            Tensor out = empty_on(d, {m, n});
            layer.forward(kCtx, on(d, x, {m, k}), out);
            return out.to_vector<float>();
          },
          [=] { return reference::matmul(x, w, m, n, k); }, 1e-4f};
}

using reference::store;

// CUDA multiplies more rows of x than its GEMV takes (4, kernels/cuda/gemv_rows.cuh) by half
// weights on tensor cores, with x rounded to the weight's type: the same product of exact
// values, so the tolerance stays that of the summation order.
std::function<Vec()> cuda_half_prefill_reference(DataType dtype, const Vec& x, const Vec& w,
                                                 int64_t m, int64_t n, int64_t k) {
  constexpr int64_t kCudaGemvMaxRows = 4;
  if (m <= kCudaGemvMaxRows || (dtype != DataType::kF16 && dtype != DataType::kBF16))
    return nullptr;
  return [=] {
    const Vec x_rounded = dtype == DataType::kF16 ? reference::from_f16(reference::to_f16(x))
                                                  : reference::from_bf16(reference::to_bf16(x));
    return reference::matmul(x_rounded, store(w, n, k, dtype, DeviceType::kCPU).values, m, n, k);
  };
}

// x · wᵀ with w stored as `dtype`; the reference multiplies by the values w stands for.
OpCase matmul_stored_case(DataType dtype, int64_t m, int64_t n, int64_t k,
                          bool asymmetric = false) {
  const Vec x = random_normal(m * k, 21), w = random_normal(n * k, 22);
  return {std::string("matmul_") + base::dtype_name(dtype) + (asymmetric ? "_asym_" : "_") +
              std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k),
          [=](DeviceType d) {
            op::Matmul layer(store(w, n, k, dtype, d, asymmetric).weight);
            Tensor out = empty_on(d, {m, n});
            layer.forward(kCtx, on(d, x, {m, k}), out);
            return out.to_vector<float>();
          },
          [=] {
            return reference::matmul(x, store(w, n, k, dtype, DeviceType::kCPU, asymmetric).values,
                                     m, n, k);
          },
          1e-4f, cuda_half_prefill_reference(dtype, x, w, m, n, k)};
}

// A MatmulGroup of three weights sharing x (as q/k/v), the second with a bias; outputs
// concatenated. Decode (m = 1) takes the fused kernel where the device has one; `mixed` stores the
// last weight as f32 so that the group must fall back to one matmul at a time.
OpCase matmul_group_case(DataType dtype, int64_t m, bool asymmetric = false, bool mixed = false) {
  constexpr int64_t k = 96;
  const int64_t n[3] = {40, 17, 23};
  const Vec x = random_normal(m * k, 31), bias = random_normal(n[1], 32);
  std::vector<Vec> w;
  for (int i = 0; i < 3; ++i) w.push_back(random_normal(n[i] * k, 33 + i));
  auto dtype_of = [=](int i) { return mixed && i == 2 ? DataType::kF32 : dtype; };
  return {std::string("matmul_group_") + base::dtype_name(dtype) + (asymmetric ? "_asym" : "") +
              (mixed ? "_mixed_" : "_") + std::to_string(m),
          [=](DeviceType d) {
            std::vector<op::Matmul> members;
            for (int i = 0; i < 3; ++i) {
              std::optional<Tensor> b;
              if (i == 1) b = on(d, bias, {n[1]});
              members.emplace_back(store(w[i], n[i], k, dtype_of(i), d, asymmetric).weight, b);
            }
            op::MatmulGroup group(std::move(members));
            Tensor o0 = empty_on(d, {m, n[0]}), o1 = empty_on(d, {m, n[1]}),
                   o2 = empty_on(d, {m, n[2]});
            group.forward(kCtx, on(d, x, {m, k}), {&o0, &o1, &o2});
            Vec out;
            for (const Tensor* o : {&o0, &o1, &o2}) {
              const Vec part = o->to_vector<float>();
              out.insert(out.end(), part.begin(), part.end());
            }
            return out;
          },
          [=] {
            Vec out;
            for (int i = 0; i < 3; ++i) {
              Vec part = reference::matmul(
                  x, store(w[i], n[i], k, dtype_of(i), DeviceType::kCPU, asymmetric).values, m,
                  n[i], k);
              if (i == 1) {
                for (int64_t r = 0; r < m; ++r)
                  for (int64_t c = 0; c < n[1]; ++c) part[r * n[1] + c] += bias[c];
              }
              out.insert(out.end(), part.begin(), part.end());
            }
            return out;
          },
          1e-4f};
}

OpCase embedding_stored_case(DataType dtype, int64_t vocab, int64_t dim, int64_t n_tokens,
                             bool asymmetric = false) {
  const Vec table = random_normal(vocab * dim, 23);
  std::vector<int32_t> ids(n_tokens);
  for (int64_t i = 0; i < n_tokens; ++i) ids[i] = static_cast<int32_t>((i * 31) % vocab);
  return {std::string("embedding_") + base::dtype_name(dtype) + (asymmetric ? "_asym_" : "_") +
              std::to_string(n_tokens) + "_tokens",
          [=](DeviceType d) {
            op::Embedding layer(store(table, vocab, dim, dtype, d, asymmetric).weight);
            Tensor id_tensor = Tensor::from_vector(ids, {n_tokens});
            if (d != DeviceType::kCPU) id_tensor = id_tensor.to(d);
            Tensor out = empty_on(d, {n_tokens, dim});
            layer.forward(kCtx, id_tensor, out);
            return out.to_vector<float>();
          },
          [=] {
            return reference::embedding(
                store(table, vocab, dim, dtype, DeviceType::kCPU, asymmetric).values, ids, dim);
          },
          // q * scale + offset may be one fused rounding in the kernel, two in the reference.
          asymmetric ? 1e-6f : 0.f};
}

OpCase matmul_bias_case(int64_t m, int64_t n, int64_t k) {
  const Vec x = random_normal(m * k, 16), w = random_normal(n * k, 17), b = random_normal(n, 18);
  return {"matmul_bias_" + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k),
          [=](DeviceType d) {
            op::Matmul layer(op::Weight{on(d, w, {n, k})}, on(d, b, {n}));
            Tensor out = empty_on(d, {m, n});
            layer.forward(kCtx, on(d, x, {m, k}), out);
            return out.to_vector<float>();
          },
          [=] {
            Vec out = reference::matmul(x, w, m, n, k);
            for (int64_t i = 0; i < m * n; ++i) out[i] += b[i % n];
            return out;
          },
          1e-4f};
}

OpCase rmsnorm_case(int64_t rows, int64_t dim) {
  const Vec x = random_normal(rows * dim, 3), w = random_normal(dim, 4);
  return {"rmsnorm_" + std::to_string(rows) + "x" + std::to_string(dim),
          [=](DeviceType d) {
            op::RmsNorm layer(on(d, w, {dim}), 1e-5f);
            Tensor out = empty_on(d, {rows, dim});
            layer.forward(kCtx, on(d, x, {rows, dim}), out);
            return out.to_vector<float>();
          },
          [=] { return reference::rmsnorm(x, w, rows, dim, 1e-5f); }, 1e-5f};
}

// x += residual, then the norm of x: both outputs (the sum, then the normalised rows).
OpCase rmsnorm_add_case(int64_t rows, int64_t dim) {
  const Vec x = random_normal(rows * dim, 3), r = random_normal(rows * dim, 5),
            w = random_normal(dim, 4);
  return {"rmsnorm_add_" + std::to_string(rows) + "x" + std::to_string(dim),
          [=](DeviceType d) {
            op::RmsNorm layer(on(d, w, {dim}), 1e-5f);
            Tensor sum = on(d, x, {rows, dim}), out = empty_on(d, {rows, dim});
            layer.forward_add(kCtx, sum, on(d, r, {rows, dim}), out);
            Vec both = sum.to_vector<float>();
            const Vec normed = out.to_vector<float>();
            both.insert(both.end(), normed.begin(), normed.end());
            return both;
          },
          [=] {
            Vec both(x.size());
            for (size_t i = 0; i < x.size(); ++i) both[i] = x[i] + r[i];
            const Vec normed = reference::rmsnorm(both, w, rows, dim, 1e-5f);
            both.insert(both.end(), normed.begin(), normed.end());
            return both;
          },
          1e-5f};
}

OpCase embedding_case(int64_t vocab, int64_t dim, int64_t n_tokens) {
  const Vec table = random_normal(vocab * dim, 5);
  std::vector<int32_t> ids(n_tokens);
  for (int64_t i = 0; i < n_tokens; ++i) ids[i] = static_cast<int32_t>((i * 7919) % vocab);
  return {"embedding_" + std::to_string(n_tokens) + "_tokens",
          [=](DeviceType d) {
            op::Embedding layer(op::Weight{on(d, table, {vocab, dim})});
            Tensor id_tensor = Tensor::from_vector(ids, {n_tokens});
            if (d != DeviceType::kCPU) id_tensor = id_tensor.to(d);
            Tensor out = empty_on(d, {n_tokens, dim});
            layer.forward(kCtx, id_tensor, out);
            return out.to_vector<float>();
          },
          [=] { return reference::embedding(table, ids, dim); }, 0.f};
}

// RoPE on the new rows with their keys and values stored: q and k rotated (k into its slot of
// the pool), v copied into its slot; the pools have rows the pass does not touch, which must
// keep their values. Outputs: q, then both pools whole.
OpCase rope_kv_case(int64_t n_tokens, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim,
                    int64_t start_pos, op::RopeScaling scaling = {}) {
  const int64_t kv_dim = n_kv_heads * head_dim, pool_rows = 2 * n_tokens + 3;
  const Vec q = random_normal(n_tokens * n_heads * head_dim, 6);
  const Vec k = random_normal(n_tokens * kv_dim, 7), v = random_normal(n_tokens * kv_dim, 8);
  const Vec k_pool = random_normal(pool_rows * kv_dim, 9),
            v_pool = random_normal(pool_rows * kv_dim, 10);
  std::vector<int32_t> positions, slots;
  for (int64_t t = 0; t < n_tokens; ++t) {
    positions.push_back(static_cast<int32_t>(start_pos + t));
    slots.push_back(static_cast<int32_t>(pool_rows - 1 - 2 * t));  // descending, every other row
  }
  const double theta = 500000.0;
  const bool scaled = scaling.type != op::RopeScaling::Type::kNone;
  return {"rope_kv_" + std::to_string(n_tokens) + "tok_at_" + std::to_string(start_pos) + "_" +
              std::to_string(n_heads) + "h" + std::to_string(n_kv_heads) + "kv" +
              (scaled ? "_scaled" : ""),
          [=](DeviceType d) {
            op::Rope layer(head_dim, theta, scaling, start_pos + n_tokens, d);
            Tensor tq = on(d, q, {n_tokens, n_heads * head_dim});
            Tensor tk_pool = on(d, k_pool, {pool_rows, kv_dim}),
                   tv_pool = on(d, v_pool, {pool_rows, kv_dim});
            const auto ints = [&](const std::vector<int32_t>& values) {
              Tensor t = Tensor::from_vector(values, {n_tokens});
              return d == DeviceType::kCPU ? t : t.to(d);
            };
            layer.forward(kCtx, tq, on(d, k, {n_tokens, kv_dim}), on(d, v, {n_tokens, kv_dim}),
                          n_heads, n_kv_heads, ints(positions),
                          layer.tables_for(start_pos + n_tokens), ints(slots), tk_pool, tv_pool);
            Vec out = tq.to_vector<float>();
            for (const Tensor* t : {&tk_pool, &tv_pool}) {
              const Vec part = t->to_vector<float>();
              out.insert(out.end(), part.begin(), part.end());
            }
            return out;
          },
          [=] {
            Vec out = reference::rope(q, n_tokens, n_heads, head_dim, start_pos, theta, scaling);
            const Vec k_rotated =
                reference::rope(k, n_tokens, n_kv_heads, head_dim, start_pos, theta, scaling);
            Vec kp = k_pool, vp = v_pool;
            for (int64_t t = 0; t < n_tokens; ++t) {
              std::copy_n(k_rotated.begin() + t * kv_dim, kv_dim, kp.begin() + slots[t] * kv_dim);
              std::copy_n(v.begin() + t * kv_dim, kv_dim, vp.begin() + slots[t] * kv_dim);
            }
            out.insert(out.end(), kp.begin(), kp.end());
            out.insert(out.end(), vp.begin(), vp.end());
            return out;
          },
          1e-5f};
}

op::RopeScaling llama3_scaling() {
  op::RopeScaling s;
  s.type = op::RopeScaling::Type::kLlama3;
  s.factor = 32;
  s.low_freq_factor = 1;
  s.high_freq_factor = 4;
  s.original_max_position_embeddings = 64;  // small, so that all three frequency bands occur
  return s;
}

// Paged attention for rows of several sequences, each given as (new rows, positions before
// them). The pool holds blocks of 4 positions in a scrambled order, every sequence in blocks of
// its own, so the kernel must follow the block tables; the reference sees each sequence's keys
// contiguously.
struct AttentionSeq {
  int64_t n_tokens;
  int64_t start_pos;
};

OpCase attention_case(std::vector<AttentionSeq> seqs, int64_t n_heads, int64_t n_kv_heads,
                      int64_t head_dim) {
  constexpr int64_t kBlock = 4;
  const int64_t kv_dim = n_kv_heads * head_dim;
  std::string name = "attention";
  int64_t rows = 0, blocks = 0;
  for (const AttentionSeq& s : seqs) {
    name += "_" + std::to_string(s.n_tokens) + "tok_at_" + std::to_string(s.start_pos);
    rows += s.n_tokens;
    blocks += (s.start_pos + s.n_tokens + kBlock - 1) / kBlock;
  }
  name += "_" + std::to_string(n_heads) + "h" + std::to_string(n_kv_heads) + "kv";
  const Vec q = random_normal(rows * n_heads * head_dim, 7);
  const Vec k_pool = random_normal((blocks + 1) * kBlock * kv_dim, 8);  // a spare block unused
  const Vec v_pool = random_normal((blocks + 1) * kBlock * kv_dim, 9);
  // Block b of the pool is logical block order[b]: sequence blocks in a scrambled order.
  std::vector<int32_t> physical(static_cast<size_t>(blocks));
  for (int64_t b = 0; b < blocks; ++b)
    physical[b] = static_cast<int32_t>((b * 7 + 3) % (blocks + 1));
  std::vector<int32_t> positions, offsets, tables;
  int64_t first_block = 0;
  for (const AttentionSeq& s : seqs) {
    const int64_t n_blocks = (s.start_pos + s.n_tokens + kBlock - 1) / kBlock;
    for (int64_t t = 0; t < s.n_tokens; ++t) {
      positions.push_back(static_cast<int32_t>(s.start_pos + t));
      offsets.push_back(static_cast<int32_t>(first_block));
    }
    for (int64_t b = 0; b < n_blocks; ++b) tables.push_back(physical[first_block + b]);
    first_block += n_blocks;
  }
  return {name,
          [=](DeviceType d) {
            op::Attention layer(d, n_heads, n_kv_heads, head_dim);
            Tensor out = empty_on(d, {rows, n_heads * head_dim});
            auto ints = [&](const std::vector<int32_t>& v) {
              Tensor t = Tensor::from_vector(v, {static_cast<int64_t>(v.size())});
              return d == DeviceType::kCPU ? t : t.to(d);
            };
            const Tensor pos = ints(positions), off = ints(offsets), tab = ints(tables);
            kernels::KvPages pages;
            pages.positions = pos.data<int32_t>();
            pages.table_offsets = off.data<int32_t>();
            pages.tables = tab.data<int32_t>();
            pages.block_size = kBlock;
            pages.max_keys = 1 + *std::max_element(positions.begin(), positions.end());
            const int64_t slots = (blocks + 1) * kBlock;
            layer.forward(kCtx, on(d, q, {rows, n_heads * head_dim}),
                          on(d, k_pool, {slots, kv_dim}), on(d, v_pool, {slots, kv_dim}), out,
                          pages);
            return out.to_vector<float>();
          },
          [=] {
            Vec out;
            int64_t row = 0, table_at = 0;
            for (const AttentionSeq& s : seqs) {
              const int64_t n_pos = s.start_pos + s.n_tokens;
              Vec k(static_cast<size_t>(n_pos * kv_dim)), v(k.size());
              for (int64_t p = 0; p < n_pos; ++p) {
                const int64_t slot = tables[table_at + p / kBlock] * kBlock + p % kBlock;
                std::copy_n(k_pool.begin() + slot * kv_dim, kv_dim, k.begin() + p * kv_dim);
                std::copy_n(v_pool.begin() + slot * kv_dim, kv_dim, v.begin() + p * kv_dim);
              }
              const Vec qs(q.begin() + row * n_heads * head_dim,
                           q.begin() + (row + s.n_tokens) * n_heads * head_dim);
              const Vec o = reference::attention(qs, k, v, s.n_tokens, s.start_pos, n_heads,
                                                 n_kv_heads, head_dim);
              out.insert(out.end(), o.begin(), o.end());
              row += s.n_tokens;
              table_at += (n_pos + kBlock - 1) / kBlock;
            }
            return out;
          },
          1e-5f};
}

OpCase swiglu_case(int64_t n) {
  const Vec gate = random_normal(n, 10, 3.f), up = random_normal(n, 11);
  return {"swiglu_" + std::to_string(n),
          [=](DeviceType d) {
            op::SwiGLU layer(d);
            Tensor out = empty_on(d, {n});
            layer.forward(kCtx, on(d, gate, {n}), on(d, up, {n}), out);
            return out.to_vector<float>();
          },
          [=] { return reference::swiglu(gate, up); }, 1e-6f};
}

OpCase add_case(int64_t n) {
  const Vec a = random_normal(n, 12), b = random_normal(n, 13);
  return {"add_" + std::to_string(n),
          [=](DeviceType d) {
            op::Add layer(d);
            Tensor out = empty_on(d, {n});
            layer.forward(kCtx, on(d, a, {n}), on(d, b, {n}), out);
            return out.to_vector<float>();
          },
          [=] { return reference::add(a, b); }, 0.f};
}

OpCase bias_add_case(int64_t rows, int64_t cols) {
  const Vec x = random_normal(rows * cols, 19), b = random_normal(cols, 20);
  return {"bias_add_" + std::to_string(rows) + "x" + std::to_string(cols),
          [=](DeviceType d) {
            Tensor t = on(d, x, {rows, cols});
            Tensor bias = on(d, b, {cols});
            kernels::get_kernel<kernels::BiasAddOp>(d, DataType::kF32)(
                kCtx, t.data<float>(), bias.data<float>(), rows, cols);
            return t.to_vector<float>();
          },
          [=] {
            Vec out = x;
            for (int64_t i = 0; i < rows * cols; ++i) out[i] += b[i % cols];
            return out;
          },
          0.f};
}

OpCase softmax_case(int64_t rows, int64_t cols) {
  const Vec x = random_normal(rows * cols, 14, 10.f);
  return {"softmax_" + std::to_string(rows) + "x" + std::to_string(cols),
          [=](DeviceType d) {
            op::Softmax layer(d);
            Tensor t = on(d, x, {rows, cols});
            layer.forward(kCtx, t);
            return t.to_vector<float>();
          },
          [=] { return reference::softmax(x, rows, cols); }, 1e-6f};
}

// Rows of n logits: row r has its maximum twice (the lower index must win), and the row given
// by nan_row (if any) holds a NaN, for which the kernel says -1.
OpCase argmax_case(int64_t rows, int64_t n, int64_t nan_row = -1) {
  Vec x = random_normal(rows * n, 15);
  for (int64_t r = 0; r < rows; ++r) {
    x[r * n + (n / 3 + r * 7) % n] = 100.f;
    x[r * n + n - 1 - r % 3] = 100.f;
  }
  if (nan_row >= 0) x[nan_row * n + n / 2] = std::numeric_limits<float>::quiet_NaN();
  return {"argmax_" + std::to_string(rows) + "x" + std::to_string(n) +
              (nan_row >= 0 ? "_nan_in_" + std::to_string(nan_row) : ""),
          [=](DeviceType d) {
            op::Argmax layer(d);
            Tensor out = Tensor::zeros({rows}, DataType::kI32, d);
            layer.forward(kCtx, on(d, x, {rows, n}), out);
            Vec ids;
            for (int32_t id : out.to_vector<int32_t>()) ids.push_back(static_cast<float>(id));
            return ids;
          },
          [=] {
            Vec ids;
            for (int64_t r = 0; r < rows; ++r) {
              const Vec row(x.begin() + r * n, x.begin() + (r + 1) * n);
              ids.push_back(r == nan_row ? -1.f : static_cast<float>(reference::argmax(row)));
            }
            return ids;
          },
          0.f};
}

}  // namespace

const std::vector<OpCase>& all_op_cases() {
  static const std::vector<OpCase> cases = {
      matmul_case(1, 384, 128), matmul_case(1, 1000, 333), matmul_case(7, 96, 64),
      matmul_case(64, 256, 128), matmul_bias_case(1, 96, 64),
      matmul_stored_case(DataType::kF16, 1, 100, 64),
      matmul_stored_case(DataType::kF16, 20, 50, 96),
      matmul_stored_case(DataType::kBF16, 1, 100, 64),
      matmul_stored_case(DataType::kBF16, 20, 50, 96),
      matmul_stored_case(DataType::kI8, 1, 100, 64), matmul_stored_case(DataType::kI8, 20, 50, 96),
      embedding_stored_case(DataType::kF16, 64, 32, 9),
      embedding_stored_case(DataType::kBF16, 64, 32, 9),
      embedding_stored_case(DataType::kI8, 64, 32, 9),
      matmul_stored_case(DataType::kI8, 1, 100, 64, /*asymmetric=*/true),
      // Decode GEMV tails: rows not a multiple of 4, columns not a multiple of the SIMD width.
      matmul_case(1, 37, 40), matmul_stored_case(DataType::kF16, 1, 37, 40),
      matmul_stored_case(DataType::kBF16, 1, 37, 40),
      matmul_stored_case(DataType::kI8, 20, 50, 96, /*asymmetric=*/true),
      // Prefill GEMM tails: rows of x not a multiple of 6, weight rows not a multiple of 4,
      // columns not a multiple of the SIMD width.
      matmul_case(7, 37, 40), matmul_stored_case(DataType::kBF16, 9, 37, 40),
      matmul_stored_case(DataType::kBF16, 13, 70, 1100),  // k: two ranges and a tail of 12
      matmul_case(13, 50, 1100),                          // k split into two ranges
      embedding_stored_case(DataType::kI8, 64, 32, 9, /*asymmetric=*/true),
      matmul_bias_case(9, 96, 64), matmul_group_case(DataType::kF32, 1),
      matmul_group_case(DataType::kF32, 5), matmul_group_case(DataType::kF16, 1),
      matmul_group_case(DataType::kBF16, 1), matmul_group_case(DataType::kI8, 1),
      matmul_group_case(DataType::kI8, 1, /*asymmetric=*/true),
      matmul_group_case(DataType::kF16, 1, /*asymmetric=*/false, /*mixed=*/true),
      rmsnorm_case(1, 128), rmsnorm_case(5, 1000), rmsnorm_add_case(1, 896),
      rmsnorm_add_case(7, 1000), embedding_case(2048, 128, 3), embedding_case(50, 16, 700),
      rope_kv_case(1, 8, 2, 16, 0), rope_kv_case(9, 4, 4, 64, 37), rope_kv_case(600, 2, 1, 8, 0),
      rope_kv_case(5, 14, 2, 64, 100, llama3_scaling()), attention_case({{1, 0}}, 8, 4, 16),
      attention_case({{1, 40}}, 8, 2, 64), attention_case({{6, 0}}, 4, 4, 32),
      attention_case({{5, 11}}, 8, 4, 16),
      attention_case({{3, 200}}, 4, 2, 24),  // several key tiles, a partial last one
      // a decode row, a prompt chunk and a continued prompt of three sequences in one batch
      attention_case({{1, 70}, {9, 0}, {4, 13}}, 8, 2, 16),
      // Long contexts, split over the keys on a GPU: rows whose splits differ in number, a
      // group of 7 query heads (Qwen2.5-0.5B), one of 16 (more than a warp keeps at once), and
      // head_dim 128 (Llama 3) and 256.
      attention_case({{1, 900}, {2, 300}, {1, 5}}, 14, 2, 64),
      attention_case({{1, 1030}}, 16, 1, 32), attention_case({{2, 600}}, 8, 2, 128),
      attention_case({{1, 333}}, 4, 2, 256), bias_add_case(7, 333), swiglu_case(1000),
      add_case(4097), softmax_case(3, 2048), softmax_case(1, 7), argmax_case(1, 2048),
      argmax_case(1, 5000), argmax_case(5, 151936, 3),  // Qwen2's vocabulary, one broken row
  };
  return cases;
}

double max_rel_diff(const Vec& a, const Vec& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double diff = std::abs(double(a[i]) - b[i]) / std::max(1.0, std::abs(double(b[i])));
    if (!(diff <= worst)) worst = diff;  // also catches NaN
  }
  return worst;
}

}  // namespace infer::test

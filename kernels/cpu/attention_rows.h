#pragma once
// Causal GQA attention over a paged KV pool with an online (streaming) softmax over tiles of
// keys: each (row, head) pair scores one tile of keys, rescales its running sum once per tile,
// and accumulates the tile's values, so no more than a tile of scores exists at a time and
// nothing is allocated per call (each thread keeps one grow-only head-sized accumulator). The
// keys of a row are visited in position order whatever blocks hold them, and every step depends
// only on the row's own length, so a row's result does not depend on the batch around it or on
// where its blocks sit in the pool.
//
// Written once in portable C++ for the compiler to vectorise, and compiled per instruction set
// (attention_cpu.cpp, attention_avx2.cpp, attention_avx512.cpp): the dot products and value sums
// run over head_dim in vector registers. Keys go four at a time, so that four independent sums
// hide the latency of each.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "infer/kernels/ops.h"

namespace infer::kernels::cpu {

constexpr int64_t kKeyTile = 64;

// static: each instruction set's file compiles its own copy, which must not be merged.
static inline void attention_rows(const float* q, const float* k_pool, const float* v_pool,
                                  float* out, int64_t n_tokens, const KvPages& pages,
                                  int64_t n_heads, int64_t n_kv_heads, int64_t head_dim) {
  const int64_t group = n_heads / n_kv_heads;
  const int64_t kv_stride = n_kv_heads * head_dim;
  const int64_t block_size = pages.block_size;
  const float scale = 1.f / std::sqrt(static_cast<float>(head_dim));
#pragma omp parallel
  {
    static thread_local std::vector<float> acc_buffer;
    if (static_cast<int64_t>(acc_buffer.size()) < head_dim) acc_buffer.resize(head_dim);
    float* acc = acc_buffer.data();
    float scores[kKeyTile];
    const float* rows[kKeyTile];  // the tile's keys in the pool (values at the same offsets)
#pragma omp for collapse(2) schedule(static)
    for (int64_t t = 0; t < n_tokens; ++t) {
      for (int64_t h = 0; h < n_heads; ++h) {
        const float* qh = q + (t * n_heads + h) * head_dim;
        const int32_t* table = pages.tables + pages.table_offsets[t];
        const int64_t kv_offset = (h / group) * head_dim;
        const int64_t n_keys = int64_t{pages.positions[t]} + 1;
        float running_max = -std::numeric_limits<float>::infinity();
        float norm = 0.f;
        std::fill(acc, acc + head_dim, 0.f);
        int64_t block = 0, in_block = 0;  // where the next key is: table[block], row in_block
        for (int64_t j0 = 0; j0 < n_keys; j0 += kKeyTile) {
          const int64_t tile = std::min(kKeyTile, n_keys - j0);
          for (int64_t j = 0; j < tile; ++j) {
            rows[j] =
                k_pool + (int64_t{table[block]} * block_size + in_block) * kv_stride + kv_offset;
            if (++in_block == block_size) {
              in_block = 0;
              ++block;
            }
          }
          int64_t j = 0;
          for (; j + 4 <= tile; j += 4) {
            const float *k0 = rows[j], *k1 = rows[j + 1], *k2 = rows[j + 2], *k3 = rows[j + 3];
            float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
            for (int64_t d = 0; d < head_dim; ++d) {
              s0 += qh[d] * k0[d];
              s1 += qh[d] * k1[d];
              s2 += qh[d] * k2[d];
              s3 += qh[d] * k3[d];
            }
            scores[j] = s0 * scale;
            scores[j + 1] = s1 * scale;
            scores[j + 2] = s2 * scale;
            scores[j + 3] = s3 * scale;
          }
          for (; j < tile; ++j) {
            const float* kj = rows[j];
            float s = 0.f;
#pragma omp simd reduction(+ : s)
            for (int64_t d = 0; d < head_dim; ++d) s += qh[d] * kj[d];
            scores[j] = s * scale;
          }
          float tile_max = running_max;
          for (j = 0; j < tile; ++j) tile_max = std::max(tile_max, scores[j]);
          const float correction = std::exp(running_max - tile_max);  // 0 on the first tile
          if (correction != 1.f) {
            norm *= correction;
#pragma omp simd
            for (int64_t d = 0; d < head_dim; ++d) acc[d] *= correction;
          }
          running_max = tile_max;
          for (j = 0; j < tile; ++j) {
            scores[j] = std::exp(scores[j] - running_max);
            norm += scores[j];
          }
          const auto value = [&](int64_t i) { return v_pool + (rows[i] - k_pool); };
          for (j = 0; j + 4 <= tile; j += 4) {
            const float *v0 = value(j), *v1 = value(j + 1), *v2 = value(j + 2), *v3 = value(j + 3);
            const float p0 = scores[j], p1 = scores[j + 1], p2 = scores[j + 2], p3 = scores[j + 3];
#pragma omp simd
            for (int64_t d = 0; d < head_dim; ++d)
              acc[d] += (p0 * v0[d] + p1 * v1[d]) + (p2 * v2[d] + p3 * v3[d]);
          }
          for (; j < tile; ++j) {
            const float* vj = value(j);
            const float p = scores[j];
#pragma omp simd
            for (int64_t d = 0; d < head_dim; ++d) acc[d] += p * vj[d];
          }
        }
        float* oh = out + (t * n_heads + h) * head_dim;
        for (int64_t d = 0; d < head_dim; ++d) oh[d] = acc[d] / norm;
      }
    }
  }
}

// attention_rows compiled for AVX2 + FMA and for AVX-512; base::cpu_isa() picks.
#define INFER_ATTENTION_ROWS_FOR_ISA(name)                                               \
  void name(const float* q, const float* k_pool, const float* v_pool, float* out,        \
            int64_t n_tokens, const KvPages& pages, int64_t n_heads, int64_t n_kv_heads, \
            int64_t head_dim)
INFER_ATTENTION_ROWS_FOR_ISA(attention_rows_avx2);
INFER_ATTENTION_ROWS_FOR_ISA(attention_rows_avx512);

}  // namespace infer::kernels::cpu

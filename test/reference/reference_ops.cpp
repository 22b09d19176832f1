#include "reference_ops.h"

#include <cmath>

#include "infer/op/rope.h"

namespace infer::test::reference {

Vec matmul(const Vec& x, const Vec& w, int64_t m, int64_t n, int64_t k) {
  Vec out(m * n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < k; ++p) acc += double(x[i * k + p]) * w[j * k + p];
      out[i * n + j] = float(acc);
    }
  return out;
}

Vec rmsnorm(const Vec& x, const Vec& w, int64_t rows, int64_t dim, float eps) {
  Vec out(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double ss = 0;
    for (int64_t i = 0; i < dim; ++i) ss += double(x[r * dim + i]) * x[r * dim + i];
    const double scale = 1.0 / std::sqrt(ss / dim + eps);
    for (int64_t i = 0; i < dim; ++i) out[r * dim + i] = float(x[r * dim + i] * scale * w[i]);
  }
  return out;
}

Vec embedding(const Vec& table, const std::vector<int32_t>& ids, int64_t dim) {
  Vec out;
  for (int32_t id : ids)
    out.insert(out.end(), table.begin() + id * dim, table.begin() + (id + 1) * dim);
  return out;
}

Vec rope(const Vec& x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, int64_t start_pos,
         double theta, const op::RopeScaling& scaling) {
  Vec out = x;
  const int64_t half = head_dim / 2;
  // Same inverse frequencies as HF (float32), so the test checks the kernel, not the rounding.
  const std::vector<float> inv_freq = op::Rope::inverse_frequencies(head_dim, theta, scaling);
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t h = 0; h < n_heads; ++h)
      for (int64_t i = 0; i < half; ++i) {
        const double angle = double(start_pos + t) * inv_freq[i];
        const int64_t base = (t * n_heads + h) * head_dim;
        const double x1 = x[base + i], x2 = x[base + i + half];
        out[base + i] = float(x1 * std::cos(angle) - x2 * std::sin(angle));
        out[base + i + half] = float(x2 * std::cos(angle) + x1 * std::sin(angle));
      }
  return out;
}

Vec attention(const Vec& q, const Vec& k_cache, const Vec& v_cache, int64_t n_tokens,
              int64_t start_pos, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim) {
  Vec out(q.size());
  const int64_t kv_stride = n_kv_heads * head_dim;
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t h = 0; h < n_heads; ++h) {
      const int64_t kvh = h / (n_heads / n_kv_heads);
      const int64_t n_keys = start_pos + t + 1;
      std::vector<double> scores(n_keys);
      double max = -1e300;
      for (int64_t j = 0; j < n_keys; ++j) {
        double s = 0;
        for (int64_t d = 0; d < head_dim; ++d)
          s += double(q[(t * n_heads + h) * head_dim + d]) *
               k_cache[j * kv_stride + kvh * head_dim + d];
        scores[j] = s / std::sqrt(double(head_dim));
        max = std::max(max, scores[j]);
      }
      double sum = 0;
      for (double& s : scores) sum += (s = std::exp(s - max));
      for (int64_t d = 0; d < head_dim; ++d) {
        double acc = 0;
        for (int64_t j = 0; j < n_keys; ++j)
          acc += scores[j] / sum * v_cache[j * kv_stride + kvh * head_dim + d];
        out[(t * n_heads + h) * head_dim + d] = float(acc);
      }
    }
  return out;
}

Vec swiglu(const Vec& gate, const Vec& up) {
  Vec out(gate.size());
  for (size_t i = 0; i < gate.size(); ++i)
    out[i] = float(gate[i] / (1.0 + std::exp(-double(gate[i]))) * up[i]);
  return out;
}

Vec add(const Vec& a, const Vec& b) {
  Vec out(a.size());
  for (size_t i = 0; i < a.size(); ++i) out[i] = a[i] + b[i];
  return out;
}

Vec softmax(const Vec& x, int64_t rows, int64_t cols) {
  Vec out(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double max = -1e300, sum = 0;
    for (int64_t i = 0; i < cols; ++i) max = std::max(max, double(x[r * cols + i]));
    for (int64_t i = 0; i < cols; ++i) sum += std::exp(x[r * cols + i] - max);
    for (int64_t i = 0; i < cols; ++i)
      out[r * cols + i] = float(std::exp(x[r * cols + i] - max) / sum);
  }
  return out;
}

int32_t argmax(const Vec& x) {
  int32_t best = 0;
  for (size_t i = 1; i < x.size(); ++i)
    if (x[i] > x[best]) best = int32_t(i);
  return best;
}

}  // namespace infer::test::reference

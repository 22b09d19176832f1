// GGUF block formats on CUDA: the matmul (decode GEMV up to 4 rows of x, dequantized chunks
// through cuBLAS beyond) against the dequantized weights times the f32 activations in double,
// and embedding rows equal, bit for bit, to the CPU's dequantized rows. Skipped, with the
// reason, where no CUDA GPU can be used.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "../reference/stored_weight.h"
#include "infer/base/device.h"
#include "infer/kernels/block_formats.h"
#include "infer/op/embedding.h"
#include "infer/op/matmul.h"

namespace infer::test {
namespace {

using base::DataType;
using base::DeviceType;
using tensor::Tensor;

constexpr DataType kFormats[] = {DataType::kQ8_0, DataType::kQ4_0, DataType::kQ4_1,
                                 DataType::kQ5_0, DataType::kQ5_1, DataType::kQ4_K,
                                 DataType::kQ5_K, DataType::kQ6_K};

std::vector<float> normal_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

TEST(BlockKernelsCuda, MatmulMatchesDequantizedWeights) {
  if (!base::cuda_available()) GTEST_SKIP() << "no usable CUDA GPU on this machine";
  const int64_t n = 37;
  for (DataType dtype : kFormats) {
    const int64_t block = base::dtype_info(dtype).block_elements;
    // Several blocks per lane of a warp, and a partial last round of them.
    const int64_t k = block == 32 ? 1120 : 1280;
    const auto stored = reference::random_blocks(dtype, n, k, 17);
    const op::Matmul layer(stored.weight.to(DeviceType::kCUDA));
    for (int64_t m : {1, 3, 4, 9}) {
      const std::vector<float> x = normal_values(static_cast<size_t>(m * k), 18);
      Tensor out = Tensor::zeros({m, n}, DataType::kF32, DeviceType::kCUDA);
      layer.forward({}, Tensor::from_vector(x, {m, k}).to(DeviceType::kCUDA), out);
      const std::vector<float> got = out.to_vector<float>();
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t r = 0; r < n; ++r) {
          double want = 0, magnitude = 0;
          for (int64_t c = 0; c < k; ++c) {
            const double term = double(stored.values[r * k + c]) * x[i * k + c];
            want += term;
            magnitude += std::fabs(term);
          }
          ASSERT_NEAR(got[i * n + r], want, 1e-5 * magnitude + 1e-6)
              << base::dtype_name(dtype) << " m=" << m << " row " << i << " out " << r;
        }
      }
    }
  }
}

TEST(BlockKernelsCuda, EmbeddingRowsEqualTheCpusDequantizedRows) {
  if (!base::cuda_available()) GTEST_SKIP() << "no usable CUDA GPU on this machine";
  const int64_t vocab = 40, dim = 512;
  const std::vector<int32_t> ids = {0, 39, 7, 7, 21};
  const int64_t n_tokens = static_cast<int64_t>(ids.size());
  for (DataType dtype : kFormats) {
    const auto stored = reference::random_blocks(dtype, vocab, dim, 19);
    const op::Embedding layer(stored.weight.to(DeviceType::kCUDA));
    Tensor out = Tensor::zeros({n_tokens, dim}, DataType::kF32, DeviceType::kCUDA);
    layer.forward({}, Tensor::from_vector(ids, {n_tokens}).to(DeviceType::kCUDA), out);
    const std::vector<float> got = out.to_vector<float>();
    for (int64_t t = 0; t < n_tokens; ++t) {
      ASSERT_EQ(std::memcmp(got.data() + t * dim, stored.values.data() + ids[t] * dim,
                            dim * sizeof(float)),
                0)
          << base::dtype_name(dtype) << " token " << t << " (row " << ids[t] << ")";
    }
  }
}

}  // namespace
}  // namespace infer::test

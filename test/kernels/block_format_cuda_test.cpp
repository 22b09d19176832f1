// GGUF block formats on CUDA: the matmul (decode GEMV up to 4 rows of x, dequantized chunks
// through cuBLAS beyond) against the dequantized weights times the f32 activations in double,
// and embedding rows equal, bit for bit, to the CPU's dequantized rows. Skipped, with the
// reason, where no CUDA GPU can be used.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "../reference/random_values.h"
#include "../reference/reference_ops.h"
#include "../reference/stored_weight.h"
#include "infer/base/device.h"
#include "infer/kernels/block_formats.h"
#include "infer/op/embedding.h"
#include "infer/op/matmul.h"
#include "infer/op/matmul_group.h"

namespace infer::test {
namespace {

using base::DataType;
using base::DeviceType;
using reference::kBlockFormats;
using reference::random_normal;
using tensor::Tensor;

TEST(BlockKernelsCuda, MatmulMatchesDequantizedWeights) {
  if (!base::cuda_available()) GTEST_SKIP() << "no usable CUDA GPU on this machine";
  const int64_t n = 37;
  for (DataType dtype : kBlockFormats) {
    const int64_t block = base::dtype_info(dtype).block_elements;
    // Several blocks per lane of a warp, and a partial last round of them.
    const int64_t k = block == 32 ? 1120 : 1280;
    const auto stored = reference::random_blocks(dtype, n, k, 17);
    const op::Matmul layer(stored.weight.to(DeviceType::kCUDA));
    for (int64_t m : {1, 3, 4, 9}) {
      const std::vector<float> x = random_normal(static_cast<size_t>(m * k), 18);
      Tensor out = Tensor::zeros({m, n}, DataType::kF32, DeviceType::kCUDA);
      layer.forward({}, Tensor::from_vector(x, {m, k}).to(DeviceType::kCUDA), out);
      const std::vector<float> got = out.to_vector<float>();
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t r = 0; r < n; ++r) {
          const auto want = reference::dot_in_double(&stored.values[r * k], &x[i * k], k);
          ASSERT_NEAR(got[i * n + r], want.value, 1e-5 * want.magnitude + 1e-6)
              << base::dtype_name(dtype) << " m=" << m << " row " << i << " out " << r;
        }
      }
    }
  }
}

// q/k/v-like weights of one format in one launch at batch 1: each output equals, bit for bit,
// that weight's own GEMV (the fused kernel runs the same warp code per row).
TEST(BlockKernelsCuda, MatmulGroupEqualsEachMatmulAlone) {
  if (!base::cuda_available()) GTEST_SKIP() << "no usable CUDA GPU on this machine";
  const int64_t n[3] = {64, 16, 16};
  for (DataType dtype : kBlockFormats) {
    const int64_t k = base::dtype_info(dtype).block_elements == 32 ? 1120 : 1280;
    std::vector<op::Matmul> members;
    for (int i = 0; i < 3; ++i)
      members.emplace_back(
          reference::random_blocks(dtype, n[i], k, 30 + i).weight.to(DeviceType::kCUDA));
    const Tensor x = Tensor::from_vector(random_normal(k, 33), {1, k}).to(DeviceType::kCUDA);
    std::vector<Tensor> alone, fused;
    for (int i = 0; i < 3; ++i) {
      alone.push_back(Tensor::zeros({1, n[i]}, DataType::kF32, DeviceType::kCUDA));
      fused.push_back(Tensor::zeros({1, n[i]}, DataType::kF32, DeviceType::kCUDA));
      members[i].forward({}, x, alone[i]);
    }
    const op::MatmulGroup group(members);
    group.forward({}, x, {&fused[0], &fused[1], &fused[2]});
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(fused[i].to_vector<float>(), alone[i].to_vector<float>())
          << base::dtype_name(dtype) << " member " << i;
    }
  }
}

TEST(BlockKernelsCuda, EmbeddingRowsEqualTheCpusDequantizedRows) {
  if (!base::cuda_available()) GTEST_SKIP() << "no usable CUDA GPU on this machine";
  const int64_t vocab = 40, dim = 512;
  const std::vector<int32_t> ids = {0, 39, 7, 7, 21};
  const int64_t n_tokens = static_cast<int64_t>(ids.size());
  for (DataType dtype : kBlockFormats) {
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

// Batch invariance of the matmul kernels: every row of a many-row product (prefill, batched
// decode) must be bit for bit the row the single-row GEMV gives, for every weight dtype and every
// instruction set this CPU runs, so that a request's tokens never depend on its batch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../reference/quantize.h"
#include "../reference/random_values.h"
#include "../reference/stored_weight.h"
#include "infer/base/cpu_isa.h"
#include "infer/op/matmul.h"
#include "infer/op/matmul_group.h"

namespace infer::test {
namespace {

using base::DataType;
using base::DeviceType;
using reference::random_normal;
using tensor::Tensor;

struct WeightKind {
  DataType dtype;
  bool asymmetric = false;
  int64_t group = reference::kStoredGroup;
  std::string name() const {
    std::string s = base::dtype_name(dtype);
    if (dtype == DataType::kI8) s += (asymmetric ? "_asym_g" : "_g") + std::to_string(group);
    return s;
  }
};

// Rows of x through a matmul, all at once and one at a time: equal to the last bit.
void expect_batch_invariant(const op::Matmul& layer, int64_t m, int64_t k, const std::string& what,
                            const kernels::KernelContext& ctx = {}) {
  const int64_t n = layer.out_features();
  const std::vector<float> x = random_normal(static_cast<size_t>(m * k), 5);
  Tensor all = Tensor::zeros({m, n}, DataType::kF32, DeviceType::kCPU);
  layer.forward(ctx, Tensor::from_vector(x, {m, k}), all);
  const std::vector<float> together = all.to_vector<float>();
  for (int64_t i = 0; i < m; ++i) {
    const std::vector<float> row(x.begin() + i * k, x.begin() + (i + 1) * k);
    Tensor one = Tensor::zeros({1, n}, DataType::kF32, DeviceType::kCPU);
    layer.forward(ctx, Tensor::from_vector(row, {1, k}), one);
    const std::vector<float> alone = one.to_vector<float>();
    ASSERT_EQ(std::memcmp(alone.data(), together.data() + i * n, n * sizeof(float)), 0)
        << what << ": row " << i << " of " << m << " differs from the same row alone";
  }
}

TEST(BatchInvarianceTest, EveryRowEqualsItsGemv) {
  const base::CpuIsa chosen = base::cpu_isa();
  const std::vector<WeightKind> kinds =
      {
          {DataType::kF32},          {DataType::kF16},      {DataType::kBF16},
          {DataType::kI8},           {DataType::kI8, true}, {DataType::kI8, true, 64},
          {DataType::kI8, false, 8},  // a group narrower than an AVX-512 vector
      };
  // k with a full-step part, single vectors and a scalar tail; n not a multiple of any block;
  // m across the register blocks and past one panel of rows.
  const int64_t n = 71;
  for (base::CpuIsa isa : base::kAllIsas) {
    if (!base::isa_supported(isa)) continue;
    base::set_cpu_isa(isa);
    for (const WeightKind& kind : kinds) {
      for (int64_t k : {64, 200, 1100}) {
        if (kind.dtype == DataType::kI8 && k % kind.group != 0) continue;
        const auto w = random_normal(static_cast<size_t>(n * k), 9);
        op::Matmul layer(
            reference::store(w, n, k, kind.dtype, DeviceType::kCPU, kind.asymmetric, kind.group)
                .weight);
        for (int64_t m : {2, 5, 33}) {
          expect_batch_invariant(layer, m, k,
                                 kind.name() + " k=" + std::to_string(k) +
                                     " m=" + std::to_string(m) + " on " + base::isa_name(isa));
        }
      }
    }
  }
  base::set_cpu_isa(chosen);
}

// The fused q/k/v GEMV of decode against the same weights run as separate many-row products.
TEST(BatchInvarianceTest, FusedGroupEqualsBatchedRows) {
  const base::CpuIsa chosen = base::cpu_isa();
  constexpr int64_t k = 96, m = 7;
  const int64_t n[3] = {40, 17, 23};
  for (base::CpuIsa isa : base::kAllIsas) {
    if (!base::isa_supported(isa)) continue;
    base::set_cpu_isa(isa);
    for (DataType dtype : {DataType::kF32, DataType::kF16, DataType::kBF16, DataType::kI8}) {
      std::vector<op::Matmul> members;
      for (int i = 0; i < 3; ++i) {
        members.emplace_back(reference::store(random_normal(n[i] * k, 40 + i), n[i], k, dtype,
                                              DeviceType::kCPU, /*asymmetric=*/true)
                                 .weight);
      }
      const op::MatmulGroup group(members);
      const std::vector<float> x = random_normal(m * k, 50);
      std::vector<Tensor> batched;
      for (int i = 0; i < 3; ++i) {
        batched.push_back(Tensor::zeros({m, n[i]}, DataType::kF32, DeviceType::kCPU));
        members[i].forward({}, Tensor::from_vector(x, {m, k}), batched[i]);
      }
      for (int64_t r = 0; r < m; ++r) {
        const std::vector<float> row(x.begin() + r * k, x.begin() + (r + 1) * k);
        Tensor o[3];
        for (int i = 0; i < 3; ++i)
          o[i] = Tensor::zeros({1, n[i]}, DataType::kF32, DeviceType::kCPU);
        group.forward({}, Tensor::from_vector(row, {1, k}), {&o[0], &o[1], &o[2]});
        for (int i = 0; i < 3; ++i) {
          const std::vector<float> fused = o[i].to_vector<float>();
          const std::vector<float> all = batched[i].to_vector<float>();
          ASSERT_EQ(std::memcmp(fused.data(), all.data() + r * n[i], n[i] * sizeof(float)), 0)
              << base::dtype_name(dtype) << " member " << i << " row " << r << " on "
              << base::isa_name(isa);
        }
      }
    }
  }
  base::set_cpu_isa(chosen);
}

// LoadOptions::bf16_activations: bf16 weights times activations rounded to bf16, by AVX512_BF16
// dot products. Every row equals its single-row product, and equals the exact sum of the rounded
// operands up to f32 accumulation error.
TEST(BatchInvarianceTest, Bf16ActivationsAreBatchInvariantAndRoundOnlyTheActivations) {
  if (!base::isa_supported(base::CpuIsa::kAvx512Bf16))
    GTEST_SKIP() << "this CPU has no AVX512_BF16; bf16 activations are refused on it";
  const base::CpuIsa chosen = base::cpu_isa();
  base::set_cpu_isa(base::CpuIsa::kAvx512Bf16);
  kernels::KernelContext ctx;
  ctx.bf16_activations = true;
  const int64_t n = 71;
  for (int64_t k : {64, 200, 1100, 4864}) {
    const auto stored = reference::store(random_normal(static_cast<size_t>(n * k), 9), n, k,
                                         DataType::kBF16, DeviceType::kCPU);
    op::Matmul layer(stored.weight);
    for (int64_t m : {2, 5, 33})
      expect_batch_invariant(
          layer, m, k, "bf16 activations k=" + std::to_string(k) + " m=" + std::to_string(m), ctx);

    // The fused decode product of several weights (q/k/v) gives the rows of each alone.
    const op::MatmulGroup group({layer, layer});
    const std::vector<float> one = random_normal(static_cast<size_t>(k), 6);
    Tensor fused[2] = {Tensor::zeros({1, n}, DataType::kF32, DeviceType::kCPU),
                       Tensor::zeros({1, n}, DataType::kF32, DeviceType::kCPU)};
    group.forward(ctx, Tensor::from_vector(one, {1, k}), {&fused[0], &fused[1]});
    Tensor alone = Tensor::zeros({1, n}, DataType::kF32, DeviceType::kCPU);
    layer.forward(ctx, Tensor::from_vector(one, {1, k}), alone);
    for (const Tensor& f : fused) {
      ASSERT_EQ(std::memcmp(f.to_vector<float>().data(), alone.to_vector<float>().data(),
                            n * sizeof(float)),
                0)
          << "fused bf16-activation GEMV, k=" << k;
    }

    const int64_t m = 3;
    const std::vector<float> x = random_normal(static_cast<size_t>(m * k), 5);
    const std::vector<float> rounded = reference::from_bf16(reference::to_bf16(x));
    Tensor out = Tensor::zeros({m, n}, DataType::kF32, DeviceType::kCPU);
    layer.forward(ctx, Tensor::from_vector(x, {m, k}), out);
    const std::vector<float> ours = out.to_vector<float>();
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double exact = 0, magnitude = 0;
        for (int64_t c = 0; c < k; ++c) {
          const double p = double{rounded[i * k + c]} * stored.values[j * k + c];
          exact += p;
          magnitude += std::abs(p);
        }
        // f32 sums of k products: a few units of 2^-24 per addition, relative to the magnitude.
        ASSERT_NEAR(ours[i * n + j], exact, 1e-6 * magnitude + 1e-6)
            << "k=" << k << " row " << i << " column " << j;
      }
    }
  }
  base::set_cpu_isa(chosen);
}

}  // namespace
}  // namespace infer::test

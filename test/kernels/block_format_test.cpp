// GGUF block formats (q8_0 ... q6_k): dequantization bit for bit equal to the gguf package's
// (committed goldens, hf_infer/make_quant_goldens.py), and the int8-activation matmul kernels of
// every instruction set this CPU runs against a plain reference: the dequantized weights times
// the activations quantized as the kernels specify (per 32 values, dx = max|x| / 127, codes
// q = round(x * (1 / dx)) and residual codes round((x * (1 / dx) - q) * 128)), so that only float
// rounding separates them. Every row of a batched
// product equals the row alone, bit for bit.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "../reference/random_values.h"
#include "../reference/reference_ops.h"
#include "../reference/stored_weight.h"
#include "infer/base/buffer.h"
#include "infer/base/cpu_isa.h"
#include "infer/kernels/block_formats.h"
#include "infer/op/embedding.h"
#include "infer/op/matmul.h"
#include "infer/op/matmul_group.h"
#include "test_data.h"

namespace infer::test {
namespace {

using base::DataType;
using base::DeviceType;
using reference::kBlockFormats;
using reference::random_normal;
using tensor::Tensor;

// x as the kernels see it: each run of 32 values quantized to int8 codes and int8 residual codes
// in 128ths of the first, and scaled back.
std::vector<double> quantized_activations(const std::vector<float>& x) {
  std::vector<double> out(x.size());
  for (size_t c0 = 0; c0 < x.size(); c0 += 32) {
    float amax = 0;
    for (size_t c = c0; c < c0 + 32; ++c) amax = std::max(amax, std::fabs(x[c]));
    const float d = amax / 127.0f;
    const float inv = d > 0 ? 1.0f / d : 0.0f;
    for (size_t c = c0; c < c0 + 32; ++c) {
      const float scaled = x[c] * inv;
      const float q = std::min(127.0f, std::max(-127.0f, std::nearbyint(scaled)));
      const float q2 = std::min(64.0f, std::max(-64.0f, std::nearbyint((scaled - q) * 128.0f)));
      out[c] = (double(q) + double(q2) / 128.0) * d;
    }
  }
  return out;
}

template <class Body>
void for_each_isa(Body body) {
  const base::CpuIsa chosen = base::cpu_isa();
  for (base::CpuIsa isa : base::kAllIsas) {
    if (!base::isa_supported(isa)) continue;
    base::set_cpu_isa(isa);
    body(isa);
  }
  base::set_cpu_isa(chosen);
}

TEST(BlockFormatGolden, DequantizedBlocksEqualGgufBitForBit) {
  const std::string dir = golden_dir() + "/quant_goldens";
  const nlohmann::json index = nlohmann::json::parse(read_file(dir + "/index.json"));
  const int64_t rows = index["rows"], cols = index["cols"];
  ASSERT_EQ(index["formats"].size(), std::size(kBlockFormats));
  for (const std::string name : index["formats"]) {
    const DataType dtype = base::parse_dtype(name);
    const std::string blocks = read_file(dir + "/" + name + ".blocks");
    const std::string expected = read_file(dir + "/" + name + ".f32");
    ASSERT_EQ(blocks.size(), base::dtype_bytes(dtype, rows * cols)) << name;
    ASSERT_EQ(expected.size(), rows * cols * sizeof(float)) << name;
    std::vector<float> ours(static_cast<size_t>(rows * cols));
    kernels::dequantize_blocks(dtype, blocks.data(), rows * cols, ours.data());
    for (int64_t i = 0; i < rows * cols; ++i) {
      float want;
      std::memcpy(&want, expected.data() + i * sizeof(float), sizeof(float));
      ASSERT_EQ(std::memcmp(&ours[i], &want, sizeof(float)), 0)
          << name << " value " << i << " (row " << i / cols << "): libinfer " << ours[i]
          << ", gguf " << want;
    }
  }
}

TEST(BlockFormatGolden, NonFiniteScalesAreFound) {
  for (DataType dtype : kBlockFormats) {
    auto stored = reference::random_blocks(dtype, 2, 512, 3);
    Tensor& t = stored.weight.data;
    const int64_t blocks = t.numel() / base::dtype_info(dtype).block_elements;
    EXPECT_EQ(kernels::first_nonfinite_block(dtype, t.raw_data(), blocks), -1);
    // The last block's d (q6_k keeps it at the end of the block) becomes NaN, then inf.
    const int64_t bytes = base::dtype_info(dtype).block_bytes;
    const int64_t d_at = dtype == DataType::kQ6_K ? 208 : 0;
    auto* last = static_cast<uint8_t*>(t.raw_data()) + (blocks - 1) * bytes + d_at;
    for (uint16_t bad : {uint16_t{0x7E00}, uint16_t{0xFC00}}) {
      std::memcpy(last, &bad, 2);
      EXPECT_EQ(kernels::first_nonfinite_block(dtype, t.raw_data(), blocks), blocks - 1)
          << base::dtype_name(dtype);
    }
  }
}

// y = x · wᵀ through the op layer against the dequantized weights times the quantized
// activations, in double: only the kernels' float rounding may differ.
TEST(BlockKernels, MatchDequantizedWeightsTimesQuantizedActivations) {
  const int64_t n = 13;
  for_each_isa([&](base::CpuIsa isa) {
    for (DataType dtype : kBlockFormats) {
      const int64_t block = base::dtype_info(dtype).block_elements;
      for (int64_t k : {block, 3 * block, int64_t{1536}}) {
        const auto stored = reference::random_blocks(dtype, n, k, 11);
        const op::Matmul layer(stored.weight);
        for (int64_t m : {1, 3, 6}) {
          const std::vector<float> x = random_normal(static_cast<size_t>(m * k), 21, 2.0f);
          Tensor out = Tensor::zeros({m, n}, DataType::kF32, DeviceType::kCPU);
          layer.forward({}, Tensor::from_vector(x, {m, k}), out);
          const std::vector<float> y = out.to_vector<float>();
          const std::vector<double> xq = quantized_activations(x);
          for (int64_t i = 0; i < m; ++i) {
            for (int64_t r = 0; r < n; ++r) {
              const auto want = reference::dot_in_double(&stored.values[r * k], &xq[i * k], k);
              ASSERT_NEAR(y[i * n + r], want.value, 2e-6 * want.magnitude + 1e-6)
                  << base::dtype_name(dtype) << " k=" << k << " m=" << m << " row " << i << " out "
                  << r << " on " << base::isa_name(isa);
            }
          }
        }
      }
    }
  });
}

TEST(BlockKernels, EveryRowOfABatchEqualsTheRowAlone) {
  const int64_t n = 37;  // not a multiple of any tile
  for_each_isa([&](base::CpuIsa isa) {
    for (DataType dtype : kBlockFormats) {
      // Two blocks: one group, partial for the 32-value formats; 1120 / 1280 values: whole
      // groups then a partial one, or five K blocks.
      const int64_t block = base::dtype_info(dtype).block_elements;
      for (int64_t k : {2 * block, block == 32 ? int64_t{1120} : int64_t{1280}}) {
        const op::Matmul layer(reference::random_blocks(dtype, n, k, 5).weight);
        for (int64_t m : {2, 5, 9}) {
          const std::vector<float> x = random_normal(static_cast<size_t>(m * k), 6);
          Tensor all = Tensor::zeros({m, n}, DataType::kF32, DeviceType::kCPU);
          layer.forward({}, Tensor::from_vector(x, {m, k}), all);
          const std::vector<float> together = all.to_vector<float>();
          for (int64_t i = 0; i < m; ++i) {
            const std::vector<float> row(x.begin() + i * k, x.begin() + (i + 1) * k);
            Tensor one = Tensor::zeros({1, n}, DataType::kF32, DeviceType::kCPU);
            layer.forward({}, Tensor::from_vector(row, {1, k}), one);
            const std::vector<float> alone = one.to_vector<float>();
            ASSERT_EQ(std::memcmp(alone.data(), together.data() + i * n, n * sizeof(float)), 0)
                << base::dtype_name(dtype) << " k=" << k << " m=" << m << " row " << i << " on "
                << base::isa_name(isa);
          }
        }
      }
    }
  });
}

// The fused decode step of q/k/v-like weights (activations quantized once for all three) equals
// each weight's own product.
TEST(BlockKernels, FusedGroupEqualsSeparateProducts) {
  const int64_t n[3] = {40, 17, 23};
  for_each_isa([&](base::CpuIsa isa) {
    for (DataType dtype : kBlockFormats) {
      const int64_t k = base::dtype_info(dtype).block_elements * 2;
      std::vector<op::Matmul> members;
      for (int i = 0; i < 3; ++i)
        members.emplace_back(reference::random_blocks(dtype, n[i], k, 30 + i).weight);
      const op::MatmulGroup group(members);
      const std::vector<float> x = random_normal(static_cast<size_t>(k), 8);
      Tensor fused[3], alone[3];
      for (int i = 0; i < 3; ++i) {
        fused[i] = Tensor::zeros({1, n[i]}, DataType::kF32, DeviceType::kCPU);
        alone[i] = Tensor::zeros({1, n[i]}, DataType::kF32, DeviceType::kCPU);
        members[i].forward({}, Tensor::from_vector(x, {1, k}), alone[i]);
      }
      group.forward({}, Tensor::from_vector(x, {1, k}), {&fused[0], &fused[1], &fused[2]});
      for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(fused[i].to_vector<float>(), alone[i].to_vector<float>())
            << base::dtype_name(dtype) << " member " << i << " on " << base::isa_name(isa);
      }
    }
  });
}

// A weight whose last byte ends a page followed by an inaccessible one: no kernel may read past
// the matrix, whatever the row length (here 1 or 3 blocks: the partial last group of a row is
// read whole only where later rows hold it) and the number of rows of x.
TEST(BlockKernels, NothingIsReadPastTheLastRow) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  for_each_isa([&](base::CpuIsa isa) {
    for (DataType dtype : {DataType::kQ4_0, DataType::kQ8_0, DataType::kQ5_1}) {
      for (int64_t k : {32, 96}) {
        const int64_t n = 13;  // 8 rows packed for many rows of x, 5 in tiles
        const auto stored = reference::random_blocks(dtype, n, k, 4);
        const size_t bytes = stored.weight.data.bytes();
        const size_t mapped = (bytes + page - 1) / page * page + page;
        void* region =
            mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ASSERT_NE(region, MAP_FAILED);
        uint8_t* guard = static_cast<uint8_t*>(region) + mapped - page;
        ASSERT_EQ(mprotect(guard, page, PROT_NONE), 0);
        std::memcpy(guard - bytes, stored.weight.data.raw_data(), bytes);
        {
          const Tensor at_the_edge =
              Tensor::view(base::Buffer::view(guard - bytes, bytes, DeviceType::kCPU, nullptr), 0,
                           {n, k}, dtype);
          const op::Matmul layer(op::Weight{at_the_edge});
          for (int64_t m : {1, 3, 8}) {
            const std::vector<float> x = random_normal(static_cast<size_t>(m * k), 9);
            Tensor out = Tensor::zeros({m, n}, DataType::kF32, DeviceType::kCPU);
            layer.forward({}, Tensor::from_vector(x, {m, k}), out);
            Tensor want = Tensor::zeros({m, n}, DataType::kF32, DeviceType::kCPU);
            op::Matmul(stored.weight).forward({}, Tensor::from_vector(x, {m, k}), want);
            EXPECT_EQ(out.to_vector<float>(), want.to_vector<float>())
                << base::dtype_name(dtype) << " k=" << k << " m=" << m << " on "
                << base::isa_name(isa);
          }
        }
        munmap(region, mapped);
      }
    }
  });
}

// The kernels of every ISA but the portable one compute on prepared copies (prepared.h), which
// the tests above therefore cover: 4- and 5-bit codes everywhere, q8_0's where byte products of
// 255 do not saturate (VPDPBUSD).
TEST(BlockKernels, IsasWithPackedKernelsPrepareTheWeights) {
  for_each_isa([&](base::CpuIsa isa) {
    const op::Matmul layer(reference::random_blocks(DataType::kQ4_0, 16, 64, 1).weight);
    EXPECT_EQ(!layer.weight().prepared.empty(), isa != base::CpuIsa::kGeneric)
        << base::isa_name(isa);
    EXPECT_FALSE(kernels::uses_prepared_layout(DataType::kQ6_K)) << base::isa_name(isa);
  });
}

// A table tied to the output head looks its rows up in the head's prepared copy: every row, in
// the whole blocks of 8 and past them, equals the stored row dequantized, bit for bit.
TEST(BlockKernels, EmbeddingRowsFromThePreparedCopyEqualTheStoredRows) {
  const int64_t rows = 21;
  for (DataType dtype : kBlockFormats) {
    if (!kernels::uses_prepared_layout(dtype)) continue;
    const int64_t k = 2 * base::dtype_info(dtype).block_elements;
    const auto stored = reference::random_blocks(dtype, rows, k, 17);
    const op::Matmul head(stored.weight);
    op::Weight table = stored.weight;
    table.prepared = head.weight().prepared;
    ASSERT_FALSE(table.prepared.empty()) << base::dtype_name(dtype);
    std::vector<int32_t> ids(rows);
    for (int32_t r = 0; r < rows; ++r) ids[r] = rows - 1 - r;
    Tensor out = Tensor::zeros({rows, k}, DataType::kF32, DeviceType::kCPU);
    op::Embedding(table).forward({}, Tensor::from_vector(ids, {rows}), out);
    const std::vector<float> got = out.to_vector<float>();
    std::vector<float> want(static_cast<size_t>(rows * k));
    kernels::dequantize_blocks(dtype, stored.weight.data.raw_data(), rows * k, want.data());
    for (int64_t t = 0; t < rows; ++t) {
      ASSERT_EQ(std::memcmp(&got[t * k], &want[ids[t] * k], k * sizeof(float)), 0)
          << base::dtype_name(dtype) << " row " << ids[t];
    }
  }
}

// A NaN or infinite activation makes its outputs NaN, as the float kernels' would be, instead of
// a finite number that hides it.
TEST(BlockKernels, NonFiniteActivationsGiveNaN) {
  for_each_isa([&](base::CpuIsa isa) {
    for (DataType dtype : kBlockFormats) {
      const int64_t k = base::dtype_info(dtype).block_elements;
      const op::Matmul layer(reference::random_blocks(dtype, 4, k, 2).weight);
      for (float bad : {NAN, INFINITY}) {
        std::vector<float> x = random_normal(static_cast<size_t>(k), 3);
        x[5] = bad;
        Tensor out = Tensor::zeros({1, 4}, DataType::kF32, DeviceType::kCPU);
        layer.forward({}, Tensor::from_vector(x, {1, k}), out);
        for (float y : out.to_vector<float>())
          EXPECT_TRUE(std::isnan(y))
              << base::dtype_name(dtype) << " x[5]=" << bad << " on " << base::isa_name(isa);
      }
    }
  });
}

}  // namespace
}  // namespace infer::test

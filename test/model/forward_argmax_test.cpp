// Model::forward_argmax against forward(): for a batch of three sequences (two prompts and a
// decode row, logits asked for on some rows only), each id is the arg-max of the same row of
// forward()'s logits, lowest id on ties, on the CPU and (with a GPU) on CUDA, where only the
// ids cross to the host.
#include <gtest/gtest.h>

#include <algorithm>

#include "infer/base/device.h"
#include "infer/model/kv_cache.h"
#include "infer/model/model.h"
#include "test_data.h"

namespace infer {
namespace {

using model::Batch;
using model::KvCache;

class ForwardArgmaxTest : public ::testing::TestWithParam<std::string> {
 protected:
  void check(base::DeviceType device) {
    const std::string path = test::exported_model_dir() + "/" + GetParam() + ".bin";
    INFER_SKIP_UNLESS_FILE(path);
    model::LoadOptions options;
    options.device = device;
    const auto model = model::Model::load(path, options);
    const int64_t vocab = model->config().vocab_size;
    KvCache with_logits(*model, 16, 16), with_ids(*model, 16, 16);
    // Both caches number their sequences alike.
    std::vector<int32_t> a;
    for (KvCache* cache : {&with_logits, &with_ids})
      a = {cache->add_sequence(), cache->add_sequence()};
    // Step 1: prompts of 5 and 9 tokens, logits on the last row of each and on one middle row.
    // Step 2: one decode row for each sequence.
    std::vector<Batch> steps(2);
    for (int32_t i = 0; i < 5; ++i) steps[0].add((i * 37 + 3) % vocab, a[0], i, i == 4 || i == 2);
    for (int32_t i = 0; i < 9; ++i) steps[0].add((i * 11 + 1) % vocab, a[1], i, i == 8);
    steps[1].add(7 % vocab, a[0], 5, true);
    steps[1].add(9 % vocab, a[1], 9, true);
    for (const Batch& batch : steps) {
      const std::vector<float> logits = model->forward(batch, with_logits);
      const std::vector<int32_t> ids = model->forward_argmax(batch, with_ids);
      const int64_t wanted = std::count(batch.want_logits.begin(), batch.want_logits.end(), 1);
      ASSERT_EQ(static_cast<int64_t>(ids.size()), wanted);
      ASSERT_EQ(static_cast<int64_t>(logits.size()), wanted * vocab);
      for (int64_t r = 0; r < wanted; ++r) {
        const auto row = logits.begin() + r * vocab;
        EXPECT_EQ(ids[r], std::max_element(row, row + vocab) - row) << "logits row " << r;
      }
    }
  }
};

TEST_P(ForwardArgmaxTest, CpuIdsAreTheLogitsArgmax) { check(base::DeviceType::kCPU); }

TEST_P(ForwardArgmaxTest, CudaIdsAreTheLogitsArgmax) {
  if (!base::cuda_available()) GTEST_SKIP() << "no usable CUDA GPU on this machine";
  check(base::DeviceType::kCUDA);
}

INSTANTIATE_TEST_SUITE_P(Models, ForwardArgmaxTest,
                         ::testing::Values("story", "tiny-llama3", "tiny-qwen2-q4_1"),
                         test::ParamName());

}  // namespace
}  // namespace infer

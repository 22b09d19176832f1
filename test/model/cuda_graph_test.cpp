// CUDA graphs (LoadOptions::cuda_graphs) against launching every kernel: three sequences
// prefilled, then decode steps of three and then two rows, replayed from graphs recorded per
// batch size (and again after the workspace grows: blocks of 4 positions make the block tables,
// and so the metadata buffer, outgrow it), give the same logits within the attention's
// summation-order tolerance and the same arg-max, and the graphs are really replayed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "infer/base/device.h"
#include "infer/model/kv_cache.h"
#include "infer/model/model.h"
#include "test_data.h"

namespace infer {
namespace {

using model::Batch;
using model::KvCache;

class CudaGraphTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaGraphTest, ReplayedStepsEqualLaunchedOnes) {
  if (!base::cuda_available()) GTEST_SKIP() << "no usable CUDA GPU on this machine";
  const std::string path = test::exported_model_dir() + "/" + GetParam() + ".bin";
  INFER_SKIP_UNLESS_FILE(path);
  model::LoadOptions options;
  options.device = base::DeviceType::kCUDA;
  const auto with_graphs = model::Model::load(path, options);
  options.cuda_graphs = false;
  const auto launched = model::Model::load(path, options);
  const int64_t vocab = with_graphs->config().vocab_size;
  // The same steps through three caches: logits replayed, arg-max ids replayed, all launched.
  KvCache logits_cache(*with_graphs, 64, 4), ids_cache(*with_graphs, 64, 4),
      plain_cache(*launched, 64, 4);
  std::vector<int32_t> seqs;
  for (KvCache* cache : {&logits_cache, &ids_cache, &plain_cache}) {
    seqs.clear();
    for (int i = 0; i < 3; ++i) seqs.push_back(cache->add_sequence());
  }
  Batch prompt;
  int32_t position[3] = {3, 9, 6};
  for (int s = 0; s < 3; ++s) {
    for (int32_t p = 0; p < position[s]; ++p)
      prompt.add((p * 13 + s * 7 + 1) % vocab, seqs[s], p, p == position[s] - 1);
  }
  with_graphs->forward(prompt, logits_cache);
  with_graphs->forward(prompt, ids_cache);
  std::vector<float> logits = launched->forward(prompt, plain_cache);
  for (int step = 0; step < 24; ++step) {
    const int rows = step < 12 ? 3 : 2;
    Batch batch;
    for (int s = 0; s < rows; ++s) {
      const auto row = logits.begin() + s * vocab;
      batch.add(static_cast<int32_t>(std::max_element(row, row + vocab) - row), seqs[s],
                position[s]++, true);
    }
    const std::vector<float> replayed = with_graphs->forward(batch, logits_cache);
    const std::vector<int32_t> ids = with_graphs->forward_argmax(batch, ids_cache);
    logits = launched->forward(batch, plain_cache);
    ASSERT_EQ(replayed.size(), logits.size());
    double worst = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
      worst = std::max(worst, std::abs(double(replayed[i]) - logits[i]) /
                                  std::max(1.0, std::abs(double(logits[i]))));
    }
    EXPECT_LE(worst, 1e-5) << "step " << step;
    ASSERT_EQ(static_cast<int>(ids.size()), rows);
    for (int s = 0; s < rows; ++s) {
      const auto row = replayed.begin() + s * vocab;
      EXPECT_EQ(ids[s], std::max_element(row, row + vocab) - row) << "step " << step;
    }
  }
  for (const KvCache* cache : {&logits_cache, &ids_cache}) {
    // Every decode step from a graph: recorded for 3 rows, again as the tables outgrew the
    // metadata buffer, and for 2 rows.
    EXPECT_EQ(cache->stats().graph_replays, 24);
    EXPECT_GE(cache->stats().graphs_recorded, 2);
    EXPECT_EQ(cache->stats().graph_failures, 0);
  }
  EXPECT_EQ(plain_cache.stats().graph_replays, 0);
}

INSTANTIATE_TEST_SUITE_P(Models, CudaGraphTest,
                         ::testing::Values("tiny-llama3", "tiny-qwen2-q4_1", "tiny-llama3-bf16"),
                         test::ParamName());

}  // namespace
}  // namespace infer

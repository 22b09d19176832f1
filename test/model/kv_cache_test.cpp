// The paged KV cache on its own: block sharing and copy-on-write, prefix hits, the order in
// which cached blocks are evicted, rollback returning blocks, and the refusals.
#include <gtest/gtest.h>

#include <numeric>

#include "infer/base/error.h"
#include "infer/model/kv_cache.h"
#include "infer/model/model.h"
#include "test_data.h"

namespace infer {
namespace {

using model::Batch;
using model::KvCache;

class KvCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string path = test::exported_model_dir() + "/tiny-llama3.bin";
    if (test::file_exists(path)) model_ = model::Model::load(path).release();
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  void SetUp() override {
    if (!model_) GTEST_SKIP() << "tiny-llama3.bin not exported (run through ctest)";
  }

  // Runs `tokens` after what `seq` holds.
  static void run(KvCache& cache, int32_t seq, const std::vector<int32_t>& tokens) {
    Batch batch;
    const int64_t start = cache.length(seq);
    for (size_t i = 0; i < tokens.size(); ++i)
      batch.add(tokens[i], seq, static_cast<int32_t>(start + i), i + 1 == tokens.size());
    model_->forward(batch, cache);
  }
  static std::vector<int32_t> counting(int32_t from, int32_t n) {
    std::vector<int32_t> v(static_cast<size_t>(n));
    std::iota(v.begin(), v.end(), from);
    return v;
  }

  static model::Model* model_;
};
model::Model* KvCacheTest::model_ = nullptr;

TEST_F(KvCacheTest, ForkSharesBlocksAndCopiesOnWrite) {
  KvCache cache(*model_, /*n_blocks=*/8, /*block_size=*/4, /*prefix_caching=*/false);
  const int32_t a = cache.add_sequence();
  run(cache, a, counting(1, 6));  // one full block and half of another
  const int32_t b = cache.fork_sequence(a);
  EXPECT_EQ(cache.block_table(a), cache.block_table(b));
  EXPECT_EQ(cache.stats().blocks_in_use, 2);
  const std::vector<float> before = cache.read(a);
  run(cache, b, {40});  // writes into the shared half block: b gets its own copy
  EXPECT_EQ(cache.block_table(a)[0], cache.block_table(b)[0]);
  EXPECT_NE(cache.block_table(a)[1], cache.block_table(b)[1]);
  EXPECT_EQ(cache.stats().blocks_in_use, 3);
  EXPECT_EQ(cache.read(a), before) << "writing b changed a";
  // The copy holds a's positions: b's first six positions equal a's.
  const std::vector<float> kv_b = cache.read(b);
  const int64_t row = model_->config().n_kv_heads * model_->config().head_dim;
  EXPECT_TRUE(std::equal(before.begin(), before.begin() + 6 * row, kv_b.begin()));
  cache.remove_sequence(b);
  cache.remove_sequence(a);
  EXPECT_EQ(cache.stats().blocks_in_use, 0);
}

TEST_F(KvCacheTest, TruncateReturnsBlocks) {
  KvCache cache(*model_, 8, 4, false);
  const int32_t a = cache.add_sequence();
  run(cache, a, counting(1, 13));
  EXPECT_EQ(cache.stats().blocks_in_use, 4);
  cache.truncate(a, 5);
  EXPECT_EQ(cache.length(a), 5);
  EXPECT_EQ(cache.stats().blocks_in_use, 2);
  EXPECT_EQ(cache.available_blocks(), 6);
  EXPECT_THROW(cache.truncate(a, 6), base::InvalidArgument);
}

TEST_F(KvCacheTest, PrefixHitGivesTheSameLogitsAsAMiss) {
  KvCache cache(*model_, 16, 4, true);
  const std::vector<int32_t> prompt = counting(3, 11);
  const int32_t a = cache.add_sequence();
  Batch batch;
  for (size_t i = 0; i < prompt.size(); ++i)
    batch.add(prompt[i], a, static_cast<int32_t>(i), i + 1 == prompt.size());
  const std::vector<float> miss = model_->forward(batch, cache);
  const int32_t b = cache.add_sequence();
  // Two whole blocks (8 tokens) are cached; the last token is always left to run.
  EXPECT_EQ(cache.attach_cached_prefix(b, prompt), 8);
  EXPECT_EQ(cache.block_table(b)[0], cache.block_table(a)[0]);
  EXPECT_EQ(cache.stats().prefix_hits, 8);
  run(cache, b, {prompt.begin() + 8, prompt.end()});
  Batch again;
  EXPECT_EQ(cache.length(b), 11);
  // b's KV equals a's, position for position.
  EXPECT_EQ(cache.read(a), cache.read(b));
  (void)miss;
}

TEST_F(KvCacheTest, RewrittenTailIsCachedUnderItsNewTokens) {
  KvCache cache(*model_, 16, 4, true);
  const int32_t a = cache.add_sequence();
  run(cache, a, counting(1, 12));  // three full blocks, all cached
  cache.truncate(a, 6);            // back into the second block, then other tokens
  std::vector<int32_t> rewritten = counting(1, 6);
  for (int32_t t : counting(60, 6)) rewritten.push_back(t);
  run(cache, a, {rewritten.begin() + 6, rewritten.end()});
  EXPECT_EQ(cache.tokens(a), rewritten);
  // A new sequence with the rewritten prompt (plus one token to run) finds all three blocks.
  const int32_t b = cache.add_sequence();
  std::vector<int32_t> prompt = rewritten;
  prompt.push_back(7);
  EXPECT_EQ(cache.attach_cached_prefix(b, prompt), 12);
  EXPECT_EQ(cache.block_table(b), cache.block_table(a));
  // The original second and third blocks are still cached under the original tokens.
  const int32_t c = cache.add_sequence();
  prompt = counting(1, 13);
  EXPECT_EQ(cache.attach_cached_prefix(c, prompt), 12);
  EXPECT_NE(cache.block_table(c)[1], cache.block_table(a)[1]);
}

TEST_F(KvCacheTest, EvictsLeastRecentlyUsedCachedBlocks) {
  KvCache cache(*model_, 4, 4, true);
  // Two sequences of two full blocks each (the pool is full), then both end: 4 cached blocks.
  const int32_t a = cache.add_sequence(), b = cache.add_sequence();
  const std::vector<int32_t> pa = counting(1, 8), pb = counting(20, 8);
  run(cache, a, pa);
  run(cache, b, pb);
  const std::vector<int32_t> blocks_a = cache.block_table(a), blocks_b = cache.block_table(b);
  cache.remove_sequence(a);  // a's blocks are released first: the least recently used
  cache.remove_sequence(b);
  EXPECT_EQ(cache.stats().blocks_cached, 4);
  EXPECT_EQ(cache.available_blocks(), 4);
  // A new sequence needing two blocks takes a's, so b's prefix still hits.
  const int32_t c = cache.add_sequence();
  run(cache, c, counting(50, 8));
  EXPECT_EQ(cache.block_table(c), blocks_a);
  EXPECT_EQ(cache.stats().evictions, 2);
  const int32_t d = cache.add_sequence();
  std::vector<int32_t> longer = pb;
  longer.push_back(99);
  EXPECT_EQ(cache.attach_cached_prefix(d, longer), 8);
  EXPECT_EQ(cache.block_table(d), blocks_b);
  const int32_t e = cache.add_sequence();
  longer = pa;
  longer.push_back(99);
  EXPECT_EQ(cache.attach_cached_prefix(e, longer), 0) << "a's blocks were evicted";
}

TEST_F(KvCacheTest, RefusesWhatDoesNotFit) {
  EXPECT_THROW(KvCache(*model_, 0), base::InvalidArgument);
  EXPECT_THROW(KvCache::blocks_for_mib(model_->config(), 0), base::InvalidArgument);
  KvCache cache(*model_, 2, 4, false);
  const int32_t a = cache.add_sequence();
  Batch batch;
  for (int i = 0; i < 9; ++i) batch.add(1, a, i, i == 8);
  try {
    model_->forward(batch, cache);
    ADD_FAILURE() << "nine positions fitted in eight slots";
  } catch (const base::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("KV cache is full"), std::string::npos) << e.what();
  }
  EXPECT_EQ(cache.length(a), 0);
  EXPECT_EQ(cache.available_blocks(), 2) << "a refused batch kept blocks";
  Batch gap;
  gap.add(1, a, 1, true);  // position 1 before 0
  EXPECT_THROW(model_->forward(gap, cache), base::InvalidArgument);
  Batch unknown;
  unknown.add(1, 77, 0, true);
  EXPECT_THROW(model_->forward(unknown, cache), base::InvalidArgument);
}

}  // namespace
}  // namespace infer

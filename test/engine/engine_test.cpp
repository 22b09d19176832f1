// The Engine as a user drives it: many requests at once give, token for token, what each gives
// alone through generate() (batch invariance, for every weight dtype, with chunked prompts,
// staggered arrivals and prefix-cache hits); 64 requests from 8 threads; cancellation; a pool
// too small for everyone; shared system prompts stored once; and refusals of bad requests that
// leave the engine serving.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "infer/base/cpu_isa.h"
#include "infer/base/error.h"
#include "infer/engine/engine.h"
#include "infer/generate/generate.h"
#include "test_data.h"

namespace infer {
namespace {

using engine::Engine;
using engine::EngineOptions;
using engine::Outcome;
using engine::Request;

// "NAME", or "NAME+bf16_activations" for LoadOptions::bf16_activations.
std::unique_ptr<model::Model> load(const std::string& spec) {
  const size_t plus = spec.find('+');
  const std::string path = test::exported_model_dir() + "/" + spec.substr(0, plus) + ".bin";
  if (!test::file_exists(path)) return nullptr;
  model::LoadOptions options;
  options.bf16_activations = plus != std::string::npos;
  return model::Model::load(path, options);
}

// Prompts of 1 to 70 random tokens; every third one starts with the same 37 tokens, so that
// later ones can hit the prefix cache.
std::vector<std::vector<int32_t>> make_prompts(int n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(vocab - 1));
  std::uniform_int_distribution<int> length(1, 70);
  std::vector<int32_t> shared(37);
  for (int32_t& t : shared) t = token(rng);
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < n; ++i) {
    std::vector<int32_t> p = i % 3 == 0 ? shared : std::vector<int32_t>{};
    for (int j = length(rng); j > 0; --j) p.push_back(token(rng));
    prompts.push_back(std::move(p));
  }
  return prompts;
}

Request greedy_request(const std::vector<int32_t>& prompt, int64_t max_new_tokens) {
  Request r;
  r.prompt = prompt;
  r.options.max_new_tokens = max_new_tokens;
  r.options.eos_token_ids = {-1};  // random weights: run to the budget
  return r;
}

// What the single-sequence path (generate()) makes of the request.
std::vector<int32_t> solo(const model::Model& model, const Request& r) {
  sampler::Sampler sampler(r.sampling);
  return generate::generate(model, r.prompt, r.options, sampler).tokens;
}

// Submits every request at once (or in waves) and waits for all.
std::vector<Outcome> run_all(Engine& engine, const std::vector<Request>& requests, int waves = 1) {
  std::vector<std::promise<Outcome>> done(requests.size());
  std::vector<std::future<Outcome>> outcomes;
  for (auto& d : done) outcomes.push_back(d.get_future());
  for (size_t i = 0; i < requests.size(); ++i) {
    if (waves > 1 && i > 0 && i % (requests.size() / waves) == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
    engine.submit(requests[i], nullptr, [&done, i](const Outcome& o) { done[i].set_value(o); });
  }
  std::vector<Outcome> out;
  for (auto& f : outcomes) out.push_back(f.get());
  return out;
}

class EngineInvarianceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EngineInvarianceTest, ManyAtOnceEqualEachAlone) {
  if (GetParam().find("+bf16_activations") != std::string::npos &&
      base::cpu_isa() != base::CpuIsa::kAvx512Bf16)
    GTEST_SKIP() << "bf16 activations need AVX512_BF16; this run uses "
                 << base::isa_name(base::cpu_isa());
  const auto model = load(GetParam());
  if (!model) GTEST_SKIP() << GetParam() << ".bin not exported (run through ctest)";
  const auto prompts = make_prompts(24, model->config().vocab_size, 7);
  std::vector<Request> requests;
  std::vector<std::vector<int32_t>> expected;
  for (size_t i = 0; i < prompts.size(); ++i) {
    requests.push_back(greedy_request(prompts[i], 6 + static_cast<int64_t>(i % 5) * 3));
    expected.push_back(solo(*model, requests.back()));
  }
  EngineOptions options;
  options.step_tokens = 48;  // prompts go in chunks, mixed with other requests' decode tokens
  Engine engine(*model, nullptr, options);
  // All at once; then again in staggered waves, now with prefix-cache hits for the prompts seen.
  engine::EngineStats at_once;
  for (int waves : {1, 3}) {
    const std::vector<Outcome> outcomes = run_all(engine, requests, waves);
    if (waves == 1) at_once = engine.stats();
    for (size_t i = 0; i < requests.size(); ++i) {
      ASSERT_TRUE(outcomes[i].error.empty()) << outcomes[i].error;
      EXPECT_EQ(outcomes[i].result.tokens, expected[i])
          << GetParam() << ": request " << i << " (prompt of " << prompts[i].size()
          << " tokens) in waves of " << waves;
      EXPECT_EQ(outcomes[i].result.stop_reason, generate::StopReason::kLength);
    }
  }
  // Submitted together, the requests share forward passes (alone they would take one pass per
  // token); judged on that round only, since how waves overlap depends on the machine's load.
  EXPECT_LT(at_once.steps, at_once.generated_tokens / 2) << "requests did not share forward passes";
  const engine::EngineStats stats = engine.stats();
  EXPECT_GT(stats.reused_tokens, 0) << "the second round should hit the prefix cache";
  EXPECT_EQ(stats.cache.blocks_in_use, 0);
  EXPECT_EQ(stats.finished, 48);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, EngineInvarianceTest,
                         ::testing::Values("tiny-llama3", "tiny-llama3-fp16", "tiny-llama3-bf16",
                                           "tiny-llama3-int8", "tiny-qwen2", "tiny-qwen2-int8sym",
                                           "tiny-qwen2-bf16+bf16_activations"),
                         test::ParamName());

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = load("tiny-llama3").release(); }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  void SetUp() override {
    if (!model_) GTEST_SKIP() << "tiny-llama3.bin not exported (run through ctest)";
  }
  static model::Model* model_;
};
model::Model* EngineTest::model_ = nullptr;

TEST_F(EngineTest, SixtyFourRequestsFromEightThreads) {
  const auto prompts = make_prompts(64, model_->config().vocab_size, 11);
  Engine engine(*model_, nullptr);
  std::vector<std::vector<int32_t>> got(prompts.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < prompts.size(); i += 8) {
        Request r = greedy_request(prompts[i], 8);
        std::vector<int32_t> streamed;
        const Outcome o =
            engine.run(r, [&](const generate::StreamPiece& p) { streamed.push_back(p.token); });
        EXPECT_EQ(streamed, o.result.tokens) << "the stream and the result differ";
        got[i] = o.result.tokens;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < prompts.size(); ++i)
    EXPECT_EQ(got[i], solo(*model_, greedy_request(prompts[i], 8))) << "request " << i;
}

TEST_F(EngineTest, CancelEndsTheRequestAndFreesItsBlocks) {
  Engine engine(*model_, nullptr);
  std::promise<Outcome> done;
  std::atomic<int> pieces{0};
  uint64_t id = 0;
  std::promise<uint64_t> id_known;
  std::shared_future<uint64_t> id_future = id_known.get_future().share();
  Request r = greedy_request(make_prompts(1, model_->config().vocab_size, 3)[0], 900);
  id = engine.submit(
      r,
      [&](const generate::StreamPiece&) {
        if (++pieces == 3) engine.cancel(id_future.get());  // from the callback itself
      },
      [&](const Outcome& o) {
        // Its blocks are back in the pool by the time it is reported done.
        EXPECT_EQ(engine.stats().cache.blocks_in_use, 0);
        done.set_value(o);
      });
  id_known.set_value(id);
  const Outcome o = done.get_future().get();
  EXPECT_EQ(o.result.stop_reason, generate::StopReason::kCancelled);
  EXPECT_LE(o.result.tokens.size(), 4u) << "cancelled within one step";
  EXPECT_GE(o.result.tokens.size(), 3u);
  engine.cancel(id);  // finished: ignored
  engine.cancel(12345);
  // The engine still serves.
  EXPECT_EQ(engine.run(greedy_request({1, 2, 3}, 2)).result.tokens.size(), 2u);
}

TEST_F(EngineTest, AFullPoolMakesRequestsWaitNotFail) {
  // 24 blocks of 16 positions: room for two of these requests (8 blocks each at their end),
  // and eight arrive at once.
  EngineOptions options;
  options.kv_cache_blocks = 24;
  Engine engine(*model_, nullptr, options);
  const auto prompts = make_prompts(8, model_->config().vocab_size, 5);
  std::vector<Request> requests;
  for (const auto& p : prompts) {
    std::vector<int32_t> prompt = p;
    prompt.resize(90, 7);
    requests.push_back(greedy_request(prompt, 30));
  }
  const std::vector<Outcome> outcomes = run_all(engine, requests);
  for (size_t i = 0; i < requests.size(); ++i) {
    ASSERT_TRUE(outcomes[i].error.empty()) << outcomes[i].error;
    EXPECT_EQ(outcomes[i].result.tokens, solo(*model_, requests[i])) << "request " << i;
  }
  // A request filling the whole pool alone still runs.
  std::vector<int32_t> long_prompt(24 * 16 - 5, 9);
  const Outcome o = engine.run(greedy_request(long_prompt, 20));
  EXPECT_EQ(o.result.stop_reason, generate::StopReason::kContext);
  EXPECT_EQ(o.result.tokens.size(), 6u);
}

TEST_F(EngineTest, SharedSystemPromptIsStoredOnce) {
  Engine engine(*model_, nullptr);
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> token(
      0, static_cast<int32_t>(model_->config().vocab_size - 1));
  std::vector<int32_t> system(500);
  for (int32_t& t : system) t = token(rng);
  std::vector<Request> requests;
  for (int i = 0; i < 32; ++i) {
    std::vector<int32_t> prompt = system;
    for (int j = 0; j < 12; ++j) prompt.push_back(token(rng));
    requests.push_back(greedy_request(prompt, 8));
  }
  std::atomic<int64_t> peak{0};
  std::vector<std::promise<Outcome>> done(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    engine.submit(
        requests[i],
        [&](const generate::StreamPiece&) {
          const int64_t used = engine.stats().cache.blocks_in_use;
          if (used > peak) peak = used;
        },
        [&done, i](const Outcome& o) { done[i].set_value(o); });
  }
  int64_t reused = 0;
  for (auto& d : done) reused += d.get_future().get().result.stats.reused_tokens;
  // One sequence: 31 blocks of the system prompt alone (block 32 mixes in its own tokens); each
  // sequence's own 20 tokens from position 496 on take 2 blocks.
  const int64_t bound = (31 + 32 * 2) * 12 / 10;
  EXPECT_LE(peak.load(), bound) << "32 copies of the system prompt would take 32 x 33 blocks";
  EXPECT_EQ(reused, 31 * 496) << "every request but the first takes the prompt from the cache";
}

TEST_F(EngineTest, RefusesBadRequestsAndKeepsServing) {
  EngineOptions small;
  small.kv_cache_blocks = 4;  // 64 positions, less than the model's context
  Engine engine(*model_, nullptr, small);
  auto expect_refused = [&](Request r, const std::string& words) {
    try {
      engine.submit(r, nullptr, nullptr);
      ADD_FAILURE() << "accepted; expected an error with '" << words << "'";
    } catch (const base::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expect_refused(greedy_request({}, 4), "prompt is empty");
  expect_refused(greedy_request({1, 2}, 0), "max_new_tokens must be >= 1, got 0");
  expect_refused(greedy_request({1, 2}, -3), "got -3");
  expect_refused(greedy_request({1, 99999}, 4), "token id 99999");
  expect_refused(greedy_request(std::vector<int32_t>(65, 1), 4), "more than the whole KV cache");
  Request hot = greedy_request({1, 2}, 4);
  hot.sampling.temperature = -1;
  expect_refused(hot, "temperature");
  Request stops = greedy_request({1, 2}, 4);
  stops.options.stop_strings = {"x"};
  expect_refused(stops, "tokenizer");
  Request many_logprobs = greedy_request({1, 2}, 4);
  many_logprobs.options.top_logprobs = 21;
  expect_refused(many_logprobs, "top_logprobs must be in [0, 20]");
  EngineOptions no_memory;
  no_memory.kv_cache_mib = 0;
  EXPECT_THROW(Engine(*model_, nullptr, no_memory), base::InvalidArgument);

  Engine big(*model_, nullptr);
  try {
    big.submit(greedy_request(std::vector<int32_t>(1025, 1), 4), nullptr, nullptr);
    ADD_FAILURE() << "a prompt longer than the context was accepted";
  } catch (const base::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("max_seq_len 1024"), std::string::npos) << e.what();
  }
  const Outcome ok = engine.run(greedy_request({1, 2, 3}, 4));
  EXPECT_TRUE(ok.error.empty());
  EXPECT_EQ(ok.result.tokens, solo(*model_, greedy_request({1, 2, 3}, 4)));
}

TEST_F(EngineTest, LogprobsComeWithEveryTokenAndEqualTheSoloRun) {
  Engine engine(*model_, nullptr);
  Request r = greedy_request({5, 6, 7, 8}, 6);
  r.options.top_logprobs = 3;
  std::vector<generate::PieceLogprobs> streamed;
  const Outcome o = engine.run(r, [&](const generate::StreamPiece& p) {
    ASSERT_TRUE(p.logprobs.has_value());
    streamed.push_back(*p.logprobs);
  });
  ASSERT_EQ(o.result.logprobs.size(), o.result.tokens.size());
  ASSERT_EQ(streamed.size(), o.result.tokens.size());
  sampler::Sampler greedy(r.sampling);
  const auto alone = generate::generate(*model_, r.prompt, r.options, greedy).logprobs;
  ASSERT_EQ(alone.size(), o.result.logprobs.size());
  for (size_t i = 0; i < o.result.tokens.size(); ++i) {
    const generate::PieceLogprobs& lp = o.result.logprobs[i];
    EXPECT_EQ(lp.chosen.token, o.result.tokens[i]);
    ASSERT_EQ(lp.top.size(), 3u);
    // Greedy picks the most likely token.
    EXPECT_EQ(lp.top[0].token, lp.chosen.token);
    EXPECT_EQ(lp.top[0].logprob, lp.chosen.logprob);
    EXPECT_GE(lp.top[0].logprob, lp.top[1].logprob);
    EXPECT_GE(lp.top[1].logprob, lp.top[2].logprob);
    EXPECT_LE(lp.chosen.logprob, 0.0f);
    EXPECT_EQ(streamed[i].chosen.logprob, lp.chosen.logprob);
    EXPECT_EQ(alone[i].chosen.logprob, lp.chosen.logprob) << "token " << i;
  }
}

}  // namespace
}  // namespace infer

#pragma once
// The Engine serves many generations at once over one loaded model: a thread-safe front
// (submit, cancel, stats) and one scheduler thread that runs continuous batching. Each step is
// one forward pass over the decode tokens of every running request plus chunks of waiting
// prompts under a token budget, so a long prompt never stalls the other streams; requests join
// at the next step and leave (freeing their KV blocks) as soon as they finish or are cancelled.
// Keys and values live in one paged pool (model::KvCache) with prefix caching, so requests that
// share a prompt prefix (a system prompt) compute and store it once. First come, first served:
// when the pool runs short, the newest running request is preempted and recomputed later; a
// request that fits the pool on its own never fails for lack of room.
//
// Results are batch-invariant on the CPU: a request's greedy tokens are the same whether it
// runs alone or beside others, whenever it arrives, with or without prefix-cache hits.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "infer/generate/generate.h"
#include "infer/model/kv_cache.h"
#include "infer/model/model.h"
#include "infer/sampler/sampler.h"
#include "infer/tokenizer/tokenizer.h"

namespace infer::engine {

struct EngineOptions {
  // Memory of the KV cache pool; it bounds how many tokens all running requests hold together.
  int64_t kv_cache_mib = 1024;
  int64_t kv_cache_blocks = 0;  // the pool's size in blocks of 16 positions, if > 0 (not MiB)
  int64_t max_running = 32;     // requests decoding at once; the rest wait in order
  // Tokens one forward pass takes (decode rows + prompt chunks): small keeps streams steady
  // while long prompts arrive (bench/RESULTS.md: 64 held p99 inter-token latency within 3x the
  // median where 512 let it reach 29x); large gives batch jobs more throughput.
  int64_t step_tokens = 64;
  bool prefix_caching = true;  // reuse cached KV blocks of earlier prompts' prefixes
};

struct Request {
  std::vector<int32_t> prompt;  // token ids, not empty
  // max_new_tokens >= 1, stop strings (need the engine's tokenizer), text_continues_prompt;
  // empty eos_token_ids mean the model's and the tokenizer's. options.tokenizer is ignored: the
  // engine's tokenizer decodes.
  generate::GenerateOptions options;
  sampler::SamplingParams sampling;
};

// What a request ended with. `error` is empty unless the engine failed it (its result then
// holds what was generated before).
struct Outcome {
  uint64_t id = 0;
  generate::GenerateResult result;
  std::string error;
};

// Called on the scheduler thread, in order, for each token of the request (piece.text may be
// empty while text is held back). Keep it short: the whole batch waits for it.
using PieceCallback = std::function<void(const generate::StreamPiece& piece)>;
// Called once on the scheduler thread when the request ends for any reason.
using DoneCallback = std::function<void(const Outcome& outcome)>;

struct EngineStats {
  int64_t running = 0;
  int64_t waiting = 0;
  int64_t finished = 0;       // requests ended, cancelled ones included
  int64_t prompt_tokens = 0;  // prompt tokens of finished requests
  int64_t reused_tokens = 0;  // of those, taken from the prefix cache
  int64_t generated_tokens = 0;
  int64_t steps = 0;        // forward passes
  int64_t preemptions = 0;  // running requests sent back to wait for room
  model::KvCacheStats cache;
};

class Engine {
 public:
  // `model` (and `tokenizer`, if given) must outlive the engine. Throws InvalidArgument for
  // options out of range (naming the option) or a tokenizer that does not fit the model.
  Engine(const model::Model& model, const tokenizer::Tokenizer* tokenizer,
         EngineOptions options = {});
  // Ends every request still running or waiting as cancelled (their on_done runs then, so what
  // the callbacks touch must outlive the engine), then stops the scheduler.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request and returns its id. Throws InvalidArgument, naming the value, for an empty
  // prompt, a token outside the vocabulary, max_new_tokens < 1, a prompt longer than the context
  // or than the whole KV pool, sampling values out of range, or stop strings without a tokenizer;
  // the engine keeps serving the others.
  uint64_t submit(Request request, PieceCallback on_piece, DoneCallback on_done);
  // Ends the request at the next step (StopReason::kCancelled) and frees its blocks; unknown or
  // finished ids are ignored. Safe from any thread, callbacks included.
  void cancel(uint64_t id);
  // Submits and waits for the end; pieces stream through on_piece meanwhile.
  Outcome run(Request request, const PieceCallback& on_piece = nullptr);

  EngineStats stats() const;
  // The context one request can reach: the model's max_seq_len, or the pool if smaller.
  int64_t context_limit() const { return context_limit_; }
  const model::Model& model() const { return model_; }

 private:
  struct Active;

  void loop();
  // One scheduler step; false when there was nothing to do.
  bool step();
  void take_submissions();
  void admit();
  void finish(std::unique_ptr<Active> active, std::string error = "");
  void preempt_newest();
  // Copies the scheduler's counts into stats_ for stats().
  void publish_stats();

  const model::Model& model_;
  const tokenizer::Tokenizer* tokenizer_;
  EngineOptions options_;
  int threads_;
  model::KvCache cache_;
  int64_t context_limit_;

  // Shared with submitting threads, under mutex_.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::unique_ptr<Active>> incoming_;
  std::vector<uint64_t> cancelled_;
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  EngineStats stats_;

  // The scheduler thread's own.
  std::deque<std::unique_ptr<Active>> waiting_;
  std::vector<std::unique_ptr<Active>> running_;  // in admission order
  model::Batch batch_;

  std::thread thread_;
};

}  // namespace infer::engine

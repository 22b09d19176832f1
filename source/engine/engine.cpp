#include "infer/engine/engine.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <utility>

#include "infer/base/error.h"
#include "infer/base/threads.h"
#include "infer/generate/generation.h"

namespace infer::engine {

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

const EngineOptions& checked(const EngineOptions& o) {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw base::InvalidArgument(what);
  };
  require(o.kv_cache_mib >= 1, "kv_cache_mib must be >= 1, got " + std::to_string(o.kv_cache_mib));
  require(o.kv_cache_blocks >= 0,
          "kv_cache_blocks must be >= 0, got " + std::to_string(o.kv_cache_blocks));
  require(o.max_running >= 1 && o.max_running <= 4096,
          "max_running must be in [1, 4096], got " + std::to_string(o.max_running));
  require(o.step_tokens >= 1, "step_tokens must be >= 1, got " + std::to_string(o.step_tokens));
  return o;
}

}  // namespace

// One request from submission to its end. Only the scheduler thread touches it once queued.
struct Engine::Active {
  uint64_t id = 0;
  Request request;
  PieceCallback on_piece;
  DoneCallback on_done;
  std::unique_ptr<sampler::Sampler> sampler;
  std::unique_ptr<generate::Generation> generation;
  std::vector<int32_t> tokens;  // the prompt, then every generated token
  int32_t seq = -1;             // its KV cache sequence while admitted
  bool fresh = true;            // admitted, nothing run yet: may take more cached blocks
  int64_t reused = 0;           // prompt tokens taken from the prefix cache
  Clock::time_point submitted, first_run, first_token;
  bool ran = false;
  std::vector<float> logits;  // its row of the step's logits, for the sampler
};

Engine::Engine(const model::Model& model, const tokenizer::Tokenizer* tokenizer,
               EngineOptions options)
    : model_(model),
      tokenizer_(tokenizer),
      options_(checked(options)),
      threads_(base::num_threads()),
      cache_(model,
             options.kv_cache_blocks > 0
                 ? options.kv_cache_blocks
                 : model::KvCache::blocks_for_mib(model.config(), options.kv_cache_mib),
             model::KvCache::kDefaultBlockSize, options.prefix_caching),
      context_limit_(std::min(model.max_seq_len(), cache_.capacity_tokens())) {
  if (tokenizer_ != nullptr) generate::check_tokenizer_fits(model.config(), *tokenizer_);
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

uint64_t Engine::submit(Request request, PieceCallback on_piece, DoneCallback on_done) {
  const int64_t n = static_cast<int64_t>(request.prompt.size());
  if (n == 0) throw base::InvalidArgument("the prompt is empty");
  for (int32_t id : request.prompt) {
    if (id < 0 || id >= model_.config().vocab_size) {
      throw base::InvalidArgument("prompt token id " + std::to_string(id) +
                                  " is outside the vocabulary [0, " +
                                  std::to_string(model_.config().vocab_size) + ")");
    }
  }
  if (request.options.max_new_tokens < 1) {
    throw base::InvalidArgument("max_new_tokens must be >= 1, got " +
                                std::to_string(request.options.max_new_tokens));
  }
  if (n > cache_.capacity_tokens()) {
    throw base::InvalidArgument(
        "the prompt has " + std::to_string(n) + " tokens, more than the whole KV cache holds (" +
        std::to_string(cache_.capacity_tokens()) + " tokens): raise kv_cache_mib");
  }
  generate::check_prompt_fits(n, 0, model_.max_seq_len());
  request.options.tokenizer = tokenizer_;
  if (request.options.eos_token_ids.empty())
    request.options.eos_token_ids = generate::default_eos_ids(model_.config(), tokenizer_);

  auto active = std::make_unique<Active>();
  active->sampler = std::make_unique<sampler::Sampler>(request.sampling);  // validates
  active->generation =
      std::make_unique<generate::Generation>(request.options, *active->sampler, request.prompt);
  active->tokens = request.prompt;
  active->request = std::move(request);
  active->on_piece = std::move(on_piece);
  active->on_done = std::move(on_done);
  active->submitted = Clock::now();
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) throw base::InvalidArgument("the engine is shutting down");
    id = active->id = next_id_++;
    incoming_.push_back(std::move(active));
    ++stats_.waiting;  // until the scheduler publishes its own counts
  }
  wake_.notify_one();
  return id;
}

void Engine::cancel(uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_.push_back(id);
  }
  wake_.notify_one();
}

Outcome Engine::run(Request request, const PieceCallback& on_piece) {
  std::promise<Outcome> done;
  std::future<Outcome> outcome = done.get_future();
  submit(std::move(request), on_piece, [&done](const Outcome& o) { done.set_value(o); });
  return outcome.get();
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void Engine::loop() {
  base::set_num_threads(threads_);  // OpenMP's thread count is per calling thread
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] {
        return stopping_ || !incoming_.empty() || !cancelled_.empty() || !running_.empty() ||
               !waiting_.empty();
      });
      if (stopping_) break;
    }
    step();
  }
  take_submissions();
  while (!running_.empty()) {
    std::unique_ptr<Active> a = std::move(running_.back());
    running_.pop_back();
    a->generation->cancel();
    finish(std::move(a));
  }
  while (!waiting_.empty()) {
    std::unique_ptr<Active> a = std::move(waiting_.front());
    waiting_.pop_front();
    a->generation->cancel();
    finish(std::move(a));
  }
}

void Engine::take_submissions() {
  std::vector<std::unique_ptr<Active>> incoming;
  std::vector<uint64_t> cancelled;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    incoming.swap(incoming_);
    cancelled.swap(cancelled_);
  }
  for (auto& a : incoming) waiting_.push_back(std::move(a));
  if (cancelled.empty()) return;
  auto is_cancelled = [&](const std::unique_ptr<Active>& a) {
    return std::find(cancelled.begin(), cancelled.end(), a->id) != cancelled.end();
  };
  // Cancelled requests end now, which returns their blocks to the pool before this step.
  auto end_cancelled = [&](auto& queue) {
    for (size_t i = 0; i < queue.size();) {
      if (!is_cancelled(queue[i])) {
        ++i;
        continue;
      }
      std::unique_ptr<Active> a = std::move(queue[i]);
      queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(i));
      a->generation->cancel();
      finish(std::move(a));
    }
  };
  end_cancelled(running_);
  end_cancelled(waiting_);
}

void Engine::admit() {
  // In order: a request that does not fit now waits, and so does everyone behind it.
  while (!waiting_.empty() && static_cast<int64_t>(running_.size()) < options_.max_running) {
    Active& a = *waiting_.front();
    const int32_t seq = cache_.add_sequence();
    const int64_t held = cache_.attach_cached_prefix(seq, a.tokens);
    const int64_t need = cache_.blocks_needed(seq, static_cast<int64_t>(a.tokens.size()) - held);
    if (need > cache_.available_blocks() && !running_.empty()) {
      cache_.remove_sequence(seq);
      break;
    }
    a.seq = seq;
    a.fresh = true;
    if (!a.ran) a.reused = held;
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
}

void Engine::preempt_newest() {
  std::unique_ptr<Active> a = std::move(running_.back());
  running_.pop_back();
  // Its full blocks stay in the prefix cache, so the recomputation may find them again.
  cache_.remove_sequence(a->seq);
  a->seq = -1;
  waiting_.push_front(std::move(a));
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.preemptions;
}

bool Engine::step() {
  take_submissions();
  admit();
  if (running_.empty()) return false;

  // Which rows of which request this step runs: every decode token first, then prompt chunks
  // (in admission order) while the token budget and the pool last.
  struct Part {
    Active* active;
    bool logits;  // its last row asks for logits
  };
  std::vector<Part> parts;
  batch_.clear();
  int64_t claimed = 0;  // blocks the rows added so far will take
  auto available = [&] { return cache_.available_blocks() - claimed; };
  int64_t budget = options_.step_tokens;
  auto add_rows = [&](Active& a, int64_t n) {
    const int64_t start = cache_.length(a.seq);
    const bool logits = start + n == static_cast<int64_t>(a.tokens.size());
    for (int64_t i = 0; i < n; ++i) {
      batch_.add(a.tokens[start + i], a.seq, static_cast<int32_t>(start + i), logits && i == n - 1);
    }
    parts.push_back({&a, logits});
    if (!a.ran) {
      a.ran = true;
      a.first_run = Clock::now();
    }
    a.fresh = false;
    budget -= n;
  };
  for (size_t i = 0; i < running_.size(); ++i) {
    Active& a = *running_[i];
    if (static_cast<int64_t>(a.tokens.size()) - cache_.length(a.seq) != 1) continue;
    const int64_t need = cache_.blocks_needed(a.seq, 1);
    // Short of room: the newest requests go back to wait (never one already in this batch).
    while (need > available() && running_.size() > i + 1) preempt_newest();
    if (need > available()) break;
    add_rows(a, 1);
    claimed += need;
  }
  for (size_t i = 0; i < running_.size() && budget > 0; ++i) {
    Active& a = *running_[i];
    if (a.fresh) {
      // Blocks other requests finished computing since admission (a shared system prompt).
      const int64_t held = cache_.attach_cached_prefix(a.seq, a.tokens);
      if (!a.ran) a.reused = held;
    }
    const int64_t remaining = static_cast<int64_t>(a.tokens.size()) - cache_.length(a.seq);
    if (remaining <= 1) continue;  // decode rows were placed above
    int64_t n = std::min(remaining, budget);
    // Cut at block boundaries until the pool can hold it.
    while (n > 0 && cache_.blocks_needed(a.seq, n) > available()) {
      const int64_t length = cache_.length(a.seq);
      n = (length + n - 1) / cache_.block_size() * cache_.block_size() - length;
    }
    if (n <= 0) continue;
    claimed += cache_.blocks_needed(a.seq, n);
    add_rows(a, n);
  }
  if (batch_.empty()) {
    // Nothing fits beside the oldest requests' needs: make room (a request alone always fits).
    if (running_.size() > 1) preempt_newest();
    return true;
  }

  std::string error;
  // A step in which every request needs only the arg-max (Generation::argmax_only) has the model
  // find it where the logits are.
  const bool argmax_step = std::all_of(parts.begin(), parts.end(), [](const Part& p) {
    return !p.logits || p.active->generation->argmax_only();
  });
  const std::vector<float>* logits = nullptr;
  const std::vector<int32_t>* argmax = nullptr;
  try {
    if (argmax_step) {
      argmax = &model_.forward_argmax(batch_, cache_);
    } else {
      logits = &model_.forward(batch_, cache_);
    }
  } catch (const std::exception& e) {
    error = std::string("forward pass failed: ") + e.what();
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.steps;
  }

  const int64_t vocab = model_.config().vocab_size;
  int64_t row = 0;
  std::vector<std::pair<Active*, std::string>> ended;  // with the error that ended it, if any
  for (const Part& p : parts) {
    Active& a = *p.active;
    if (!error.empty()) {
      ended.emplace_back(&a, error);
      continue;
    }
    if (!p.logits) continue;
    const bool context_full = cache_.length(a.seq) >= context_limit_;
    try {
      // One request's broken logits (NaN) end that request, not the others in the batch.
      generate::Generation::Step s;
      if (argmax_step) {
        s = a.generation->next_argmax((*argmax)[row++], context_full);
      } else {
        a.logits.assign(logits->begin() + row * vocab, logits->begin() + (row + 1) * vocab);
        ++row;
        s = a.generation->next(a.logits, context_full);
      }
      a.tokens.push_back(s.piece.token);
      if (a.generation->generated() == 1) a.first_token = Clock::now();
      if (a.on_piece) a.on_piece(s.piece);
      if (a.generation->finished()) ended.emplace_back(&a, std::string());
    } catch (const std::exception& e) {
      ended.emplace_back(&a, e.what());
    }
  }
  for (auto& [done, why] : ended) {
    Active* const target = done;  // C++17 lambdas cannot capture a structured binding
    auto it =
        std::find_if(running_.begin(), running_.end(),
                     [target](const std::unique_ptr<Active>& a) { return a.get() == target; });
    std::unique_ptr<Active> a = std::move(*it);
    running_.erase(it);
    finish(std::move(a), std::move(why));
  }
  publish_stats();
  return true;
}

void Engine::publish_stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.running = static_cast<int64_t>(running_.size());
  stats_.waiting = static_cast<int64_t>(waiting_.size() + incoming_.size());
  stats_.cache = cache_.stats();
}

void Engine::finish(std::unique_ptr<Active> a, std::string error) {
  if (a->seq >= 0) cache_.remove_sequence(a->seq);
  Outcome outcome;
  outcome.id = a->id;
  const int64_t generated = a->generation->generated();
  outcome.result = std::move(a->generation->result());
  outcome.error = std::move(error);
  generate::GenerateStats& s = outcome.result.stats;
  const Clock::time_point now = Clock::now();
  s.prompt_tokens = static_cast<int64_t>(a->request.prompt.size());
  s.generated_tokens = generated;
  s.reused_tokens = a->reused;
  if (s.generated_tokens > 0) {
    s.time_to_first_token_s = seconds(a->submitted, a->first_token);
    s.prefill_s = seconds(a->first_run, a->first_token);
    s.decode_s = seconds(a->first_token, now);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.finished;
    stats_.prompt_tokens += s.prompt_tokens;
    stats_.reused_tokens += s.reused_tokens;
    stats_.generated_tokens += s.generated_tokens;
  }
  publish_stats();
  if (a->on_done) a->on_done(outcome);
}

}  // namespace infer::engine

#include "infer/model/kv_cache.h"

#include <glog/logging.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "infer/base/allocator.h"
#include "infer/base/error.h"
#include "infer/model/model.h"
#include "kv_cache_impl.h"

namespace infer::model {

using base::DataType;
using tensor::Tensor;

namespace {

int64_t kv_dim(const ModelConfig& c) { return c.n_kv_heads * c.head_dim; }

uint64_t mix(uint64_t h, uint64_t v) {  // splitmix64 over the running hash
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  return h;
}

}  // namespace

void Workspace::reserve_rows(const ModelConfig& c, base::DeviceType device, int64_t n) {
  if (n <= rows) return;
  const int64_t q_dim = c.n_heads * c.head_dim;
  auto make = [&](int64_t cols) { return Tensor::empty({n, cols}, DataType::kF32, device); };
  x = make(c.dim);
  xn = make(c.dim);
  q = make(q_dim);
  k = make(kv_dim(c));
  v = make(kv_dim(c));
  attn = make(q_dim);
  proj = make(c.dim);
  gate = make(c.hidden_dim);
  up = make(c.hidden_dim);
  rows = n;
  ++generation;
}

void Workspace::reserve_logit_rows(const ModelConfig& c, base::DeviceType device, int64_t n) {
  if (n <= logit_rows) return;
  last = Tensor::empty({n, c.dim}, DataType::kF32, device);
  last_norm = Tensor::empty({n, c.dim}, DataType::kF32, device);
  logits = Tensor::empty({n, c.vocab_size}, DataType::kF32, device);
  ids = Tensor::empty({n}, DataType::kI32, device);
  ++generation;
  logit_rows = n;
}

const Tensor& Workspace::upload_meta(const base::Stream& stream) {
  const int64_t n = static_cast<int64_t>(meta_host.size());
  if (meta.empty() || meta.numel() < n) {
    meta = Tensor::empty({n * 2}, DataType::kI32, stream.device());
    ++generation;
  }
  base::copy_bytes_async(meta.raw_data(), stream.device(), meta_host.data(), base::DeviceType::kCPU,
                         meta_host.size() * sizeof(int32_t), stream);
  return meta;
}

int64_t KvCache::bytes_per_block(const ModelConfig& config, int64_t block_size) {
  return 2 * config.n_layers * block_size * kv_dim(config) * int64_t{sizeof(float)};
}

int64_t KvCache::blocks_for_mib(const ModelConfig& config, int64_t mib, int64_t block_size) {
  const int64_t per_block = bytes_per_block(config, block_size);
  const int64_t blocks = mib > 0 ? (mib << 20) / per_block : 0;
  if (blocks < 1) {
    throw base::InvalidArgument("a KV cache of " + std::to_string(mib) +
                                " MiB holds no block: one block of " + std::to_string(block_size) +
                                " positions takes " + std::to_string(per_block) + " bytes");
  }
  return blocks;
}

KvCache::Impl::Impl(const ModelConfig& config, base::DeviceType device, int64_t n_blocks,
                    int64_t block_size, bool prefix_caching)
    : config(&config),
      device(device),
      block_size(block_size),
      prefix_caching(prefix_caching),
      stream(device) {
  ctx.cuda_stream = stream.handle();
  if (n_blocks < 1 || block_size < 1 || n_blocks * block_size > INT32_MAX) {
    throw base::InvalidArgument(
        "a KV cache needs at least one block and fewer than 2^31 slots; "
        "got " +
        std::to_string(n_blocks) + " blocks of " + std::to_string(block_size));
  }
  // Left uninitialised: attention reads only positions already written. On the CPU a large
  // pool comes from mmap, so its pages are committed only as blocks are first used, and blocks
  // are handed out lowest first.
  try {
    for (int64_t l = 0; l < config.n_layers; ++l) {
      k.push_back(Tensor::empty({n_blocks * block_size, kv_dim(config)}, DataType::kF32, device));
      v.push_back(Tensor::empty({n_blocks * block_size, kv_dim(config)}, DataType::kF32, device));
    }
  } catch (const base::Error& e) {
    const double gib = 2.0 * static_cast<double>(config.n_layers) *
                       static_cast<double>(n_blocks * block_size) *
                       static_cast<double>(kv_dim(config)) * sizeof(float) / (1 << 30);
    char size[32];
    std::snprintf(size, sizeof(size), "%.1f GiB", gib);
    throw base::InvalidArgument("a KV cache of " + std::to_string(n_blocks * block_size) +
                                " positions needs " + size + ", which cannot be allocated (" +
                                e.what() + "); ask for a shorter context (max_seq_len)");
  }
  blocks.resize(static_cast<size_t>(n_blocks));
  for (int64_t b = n_blocks - 1; b >= 0; --b) free_blocks.push_back(static_cast<int32_t>(b));
}

KvCache::KvCache(const Model& model, int64_t n_blocks, int64_t block_size, bool prefix_caching)
    : impl_(std::make_unique<Impl>(model.config(), model.device(), n_blocks, block_size,
                                   prefix_caching)) {}

KvCache::~KvCache() = default;

KvCacheStats KvCache::Impl::stats() const {
  KvCacheStats s;
  s.blocks = n_blocks();
  s.blocks_cached = static_cast<int64_t>(lru.size());
  s.blocks_in_use = s.blocks - s.blocks_cached - static_cast<int64_t>(free_blocks.size());
  s.prefix_hits = prefix_hits;
  s.evictions = evictions;
  s.graph_replays = graph_replays;
  s.graphs_recorded = graphs_recorded;
  s.graph_failures = graph_failures;
  return s;
}

KvCache::Impl::Sequence& KvCache::Impl::sequence(int32_t seq) {
  auto it = sequences.find(seq);
  if (it == sequences.end())
    throw base::InvalidArgument("KV cache: no sequence " + std::to_string(seq));
  return it->second;
}

const KvCache::Impl::Sequence& KvCache::Impl::sequence(int32_t seq) const {
  return const_cast<Impl*>(this)->sequence(seq);
}

int32_t KvCache::Impl::add_sequence() {
  const int32_t id = next_sequence++;
  sequences.emplace(id, Sequence{});
  return id;
}

int32_t KvCache::Impl::fork_sequence(int32_t seq) {
  Sequence copy = sequence(seq);
  for (int32_t b : copy.table) ++blocks[b].refs;
  const int32_t id = next_sequence++;
  sequences.emplace(id, std::move(copy));
  return id;
}

void KvCache::Impl::remove_sequence(int32_t seq) {
  Sequence& s = sequence(seq);
  for (int32_t b : s.table) release_block(b);
  sequences.erase(seq);
}

void KvCache::Impl::truncate(int32_t seq, int64_t n) {
  Sequence& s = sequence(seq);
  if (n < 0 || n > static_cast<int64_t>(s.tokens.size())) {
    throw base::InvalidArgument("cannot truncate a context of " + std::to_string(s.tokens.size()) +
                                " tokens to " + std::to_string(n));
  }
  s.tokens.resize(static_cast<size_t>(n));
  s.hashes.resize(std::min(s.hashes.size(), static_cast<size_t>(n / block_size)));
  const size_t keep = static_cast<size_t>((n + block_size - 1) / block_size);
  for (size_t i = keep; i < s.table.size(); ++i) release_block(s.table[i]);
  s.table.resize(std::min(keep, s.table.size()));
}

int32_t KvCache::Impl::allocate_block() {
  int32_t b;
  if (!free_blocks.empty()) {
    b = free_blocks.back();
    free_blocks.pop_back();
  } else {
    CHECK(!lru.empty()) << "allocate_block without room: callers check available_blocks()";
    b = lru.front();  // the least recently used cached block gets new contents
    lru.pop_front();
    Block& old = blocks[b];
    by_hash.erase(old.hash);
    old.hashed = false;
    old.tokens.clear();
    ++evictions;
  }
  blocks[b].refs = 1;
  return b;
}

void KvCache::Impl::release_block(int32_t block) {
  Block& b = blocks[block];
  CHECK_GT(b.refs, 0);
  if (--b.refs > 0) return;
  if (b.hashed) {
    b.lru_position = lru.insert(lru.end(), block);  // most recently used last
  } else {
    free_blocks.push_back(block);
  }
}

void KvCache::Impl::copy_block(int32_t from, int32_t to, int64_t positions) {
  const size_t row_bytes = static_cast<size_t>(kv_dim(*config)) * sizeof(float);
  for (size_t l = 0; l < k.size(); ++l) {
    for (Tensor* pool : {&k[l], &v[l]}) {
      char* base = static_cast<char*>(pool->raw_data());
      base::copy_bytes_async(base + to * block_size * row_bytes, device,
                             base + from * block_size * row_bytes, device,
                             static_cast<size_t>(positions) * row_bytes, stream);
    }
  }
}

uint64_t KvCache::Impl::block_hash(uint64_t parent, const int32_t* tokens) const {
  uint64_t h = mix(0x6c696e66657221ull, parent);
  for (int64_t i = 0; i < block_size; ++i) h = mix(h, static_cast<uint32_t>(tokens[i]));
  return h;
}

int64_t KvCache::Impl::attach_cached_prefix(int32_t seq, const std::vector<int32_t>& prompt) {
  Sequence& s = sequence(seq);
  const int64_t held = static_cast<int64_t>(s.tokens.size());
  if (held % block_size != 0 || held > static_cast<int64_t>(prompt.size()) ||
      !std::equal(s.tokens.begin(), s.tokens.end(), prompt.begin())) {
    throw base::InvalidArgument(
        "attach_cached_prefix: the sequence does not hold whole blocks of "
        "a prefix of the prompt");
  }
  if (!prefix_caching || prompt.empty()) return held;
  uint64_t parent = s.hashes.empty() ? 0 : s.hashes.back();
  // Only whole blocks before the last token: that one is always run.
  const int64_t usable = (static_cast<int64_t>(prompt.size()) - 1) / block_size;
  for (int64_t i = held / block_size; i < usable; ++i) {
    const int32_t* chunk = prompt.data() + i * block_size;
    const uint64_t h = block_hash(parent, chunk);
    auto it = by_hash.find(h);
    if (it == by_hash.end()) break;
    Block& b = blocks[it->second];
    if (b.parent_hash != parent || !std::equal(b.tokens.begin(), b.tokens.end(), chunk)) break;
    if (b.refs++ == 0) lru.erase(b.lru_position);
    s.table.push_back(it->second);
    s.tokens.insert(s.tokens.end(), chunk, chunk + block_size);
    s.hashes.push_back(h);
    parent = h;
  }
  prefix_hits += static_cast<int64_t>(s.tokens.size()) - held;
  return static_cast<int64_t>(s.tokens.size());
}

int64_t KvCache::Impl::blocks_needed(int32_t seq, int64_t n) const {
  const Sequence& s = sequence(seq);
  const int64_t length = static_cast<int64_t>(s.tokens.size());
  const int64_t have = static_cast<int64_t>(s.table.size());
  int64_t need = std::max<int64_t>(0, (length + n + block_size - 1) / block_size - have);
  if (n > 0 && length % block_size != 0) {  // writing into the last block
    const Block& last = blocks[s.table[length / block_size]];
    if (last.refs > 1 || last.hashed) ++need;
  }
  return need;
}

void KvCache::Impl::prepare_append(int32_t seq, int64_t n) {
  const int64_t need = blocks_needed(seq, n);
  if (need > available_blocks()) {
    throw base::InvalidArgument("the KV cache is full: " + std::to_string(n) +
                                " more positions need " + std::to_string(need) + " blocks, " +
                                std::to_string(available_blocks()) + " of " +
                                std::to_string(n_blocks()) + " are free");
  }
  Sequence& s = sequence(seq);
  const int64_t length = static_cast<int64_t>(s.tokens.size());
  if (n > 0 && length % block_size != 0) {
    int32_t& last = s.table[length / block_size];
    if (blocks[last].refs > 1 || blocks[last].hashed) {  // copy on write
      const int32_t copy = allocate_block();
      copy_block(last, copy, length % block_size);
      release_block(last);
      last = copy;
    }
  }
  while (static_cast<int64_t>(s.table.size()) * block_size < length + n)
    s.table.push_back(allocate_block());
}

void KvCache::Impl::commit(int32_t seq, const int32_t* tokens, int64_t n) {
  Sequence& s = sequence(seq);
  s.tokens.insert(s.tokens.end(), tokens, tokens + n);
  if (!prefix_caching) return;
  // Only the blocks this commit filled are hashed; a block another sequence already registered
  // under the same hash stays private.
  const size_t full = s.tokens.size() / static_cast<size_t>(block_size);
  while (s.hashes.size() < full) {
    const size_t i = s.hashes.size();
    const uint64_t parent = i == 0 ? 0 : s.hashes.back();
    const int32_t* chunk = s.tokens.data() + i * block_size;
    const uint64_t h = block_hash(parent, chunk);
    s.hashes.push_back(h);
    Block& b = blocks[s.table[i]];
    if (!b.hashed && by_hash.count(h) == 0) {
      b.hashed = true;
      b.hash = h;
      b.parent_hash = parent;
      b.tokens.assign(chunk, chunk + block_size);
      by_hash[h] = s.table[i];
    }
  }
}

std::vector<float> KvCache::Impl::read(int32_t seq) const {
  const Sequence& s = sequence(seq);
  const int64_t n = static_cast<int64_t>(s.tokens.size()), dim = kv_dim(*config);
  std::vector<float> out(static_cast<size_t>(n * dim) * 2 * k.size());
  float* dst = out.data();
  for (size_t l = 0; l < k.size(); ++l) {
    for (const Tensor* pool : {&k[l], &v[l]}) {
      const float* base = static_cast<const float*>(pool->raw_data());
      for (int64_t p = 0; p < n; p += block_size) {  // one copy per block
        const int64_t rows = std::min(block_size, n - p);
        base::copy_bytes_async(dst, base::DeviceType::kCPU, base + slot(s, p) * dim, device,
                               static_cast<size_t>(rows * dim) * sizeof(float), stream);
        dst += rows * dim;
      }
    }
  }
  stream.synchronize();
  return out;
}

void KvCache::Impl::write(int32_t seq, const std::vector<int32_t>& tokens,
                          const std::vector<float>& kv) {
  const int64_t n = static_cast<int64_t>(tokens.size()), dim = kv_dim(*config);
  const size_t expected = static_cast<size_t>(n * dim) * 2 * k.size();
  if (kv.size() != expected) {
    throw base::InvalidArgument("cached keys and values for " + std::to_string(n) +
                                " positions need " + std::to_string(expected) + " floats, got " +
                                std::to_string(kv.size()));
  }
  truncate(seq, 0);
  prepare_append(seq, n);
  const Sequence& s = sequence(seq);
  const float* src = kv.data();
  for (size_t l = 0; l < k.size(); ++l) {
    for (Tensor* pool : {&k[l], &v[l]}) {
      float* base = static_cast<float*>(pool->raw_data());
      for (int64_t p = 0; p < n; p += block_size) {
        const int64_t rows = std::min(block_size, n - p);
        base::copy_bytes_async(base + slot(s, p) * dim, device, src, base::DeviceType::kCPU,
                               static_cast<size_t>(rows * dim) * sizeof(float), stream);
        src += rows * dim;
      }
    }
  }
  commit(seq, tokens.data(), n);
}

int64_t KvCache::block_size() const { return impl_->block_size; }
int64_t KvCache::n_blocks() const { return impl_->n_blocks(); }
KvCacheStats KvCache::stats() const { return impl_->stats(); }
int32_t KvCache::add_sequence() { return impl_->add_sequence(); }
int32_t KvCache::fork_sequence(int32_t seq) { return impl_->fork_sequence(seq); }
void KvCache::remove_sequence(int32_t seq) { impl_->remove_sequence(seq); }
bool KvCache::has_sequence(int32_t seq) const { return impl_->sequences.count(seq) != 0; }
int64_t KvCache::length(int32_t seq) const {
  return static_cast<int64_t>(impl_->sequence(seq).tokens.size());
}
const std::vector<int32_t>& KvCache::tokens(int32_t seq) const {
  return impl_->sequence(seq).tokens;
}
const std::vector<int32_t>& KvCache::block_table(int32_t seq) const {
  return impl_->sequence(seq).table;
}
void KvCache::truncate(int32_t seq, int64_t n) { impl_->truncate(seq, n); }
int64_t KvCache::attach_cached_prefix(int32_t seq, const std::vector<int32_t>& prompt) {
  return impl_->attach_cached_prefix(seq, prompt);
}
int64_t KvCache::blocks_needed(int32_t seq, int64_t n) const {
  return impl_->blocks_needed(seq, n);
}
int64_t KvCache::available_blocks() const { return impl_->available_blocks(); }
std::vector<float> KvCache::read(int32_t seq) const { return impl_->read(seq); }
void KvCache::write(int32_t seq, const std::vector<int32_t>& tokens, const std::vector<float>& kv) {
  impl_->write(seq, tokens, kv);
}

}  // namespace infer::model

#pragma once
// The paged KV cache: keys and values of many sequences in fixed-size blocks of one pool, sized
// once by a memory budget. Each sequence has a block table; blocks are reference-counted, so
// sequences that share a prefix share its blocks, and a shared block is copied before it is
// written (copy-on-write). With prefix caching, every full block is known by a hash of its
// parent's hash and its tokens: a new sequence reuses the cached blocks of its prompt's prefix,
// and blocks no sequence holds stay cached until the pool needs them (least recently used
// first). A KvCache is used by one thread at a time; it also holds the activation buffers of
// the forward passes that run on it.
#include <cstdint>
#include <memory>
#include <vector>

#include "infer/model/config.h"

namespace infer::model {

class Model;

struct KvCacheStats {
  int64_t blocks = 0;         // in the pool
  int64_t blocks_in_use = 0;  // held by at least one sequence
  int64_t blocks_cached = 0;  // held by none, kept for prefix hits (evictable)
  int64_t prefix_hits = 0;    // tokens that sequences took from the prefix cache, in all
  int64_t evictions = 0;      // cached blocks given to new contents
  // On CUDA: passes replayed from a recorded graph, graphs recorded, and recordings that failed
  // (the pass then ran launched; LoadOptions::cuda_graphs).
  int64_t graph_replays = 0;
  int64_t graphs_recorded = 0;
  int64_t graph_failures = 0;
};

class KvCache {
 public:
  static constexpr int64_t kDefaultBlockSize = 16;

  // A pool of `n_blocks` blocks of `block_size` positions for `model`'s layers, on its device.
  KvCache(const Model& model, int64_t n_blocks, int64_t block_size = kDefaultBlockSize,
          bool prefix_caching = true);
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;
  ~KvCache();

  // Bytes of keys and values one block holds for `config`.
  static int64_t bytes_per_block(const ModelConfig& config, int64_t block_size);
  // The number of blocks `mib` MiB hold; throws InvalidArgument when not even one fits.
  static int64_t blocks_for_mib(const ModelConfig& config, int64_t mib,
                                int64_t block_size = kDefaultBlockSize);

  int64_t block_size() const;
  int64_t n_blocks() const;
  // The most positions one sequence can hold: the whole pool.
  int64_t capacity_tokens() const { return n_blocks() * block_size(); }
  KvCacheStats stats() const;

  // A new, empty sequence; its id is valid until remove_sequence().
  int32_t add_sequence();
  // A new sequence holding the same positions as `seq`, sharing its blocks.
  int32_t fork_sequence(int32_t seq);
  // Releases the sequence's blocks (full ones stay cached for prefix hits).
  void remove_sequence(int32_t seq);
  bool has_sequence(int32_t seq) const;
  int64_t length(int32_t seq) const;
  // The tokens whose keys and values the sequence holds, in order.
  const std::vector<int32_t>& tokens(int32_t seq) const;
  // The pool blocks the sequence's positions live in, in order.
  const std::vector<int32_t>& block_table(int32_t seq) const;
  // Keeps the first n positions (n <= length) and releases the blocks past them.
  void truncate(int32_t seq, int64_t n);

  // For a sequence holding whole blocks of a prefix of `prompt` (an empty one, typically): takes
  // every further cached full block of the prompt, leaving at least its last token to be run
  // (it gives the logits of the first new token). Returns the number of positions now held.
  // Without prefix caching nothing is taken.
  int64_t attach_cached_prefix(int32_t seq, const std::vector<int32_t>& prompt);

  // Blocks that appending n positions to `seq` takes from the pool (new blocks, plus a copy of a
  // shared last block), and blocks the pool can give now (free or evictable).
  int64_t blocks_needed(int32_t seq, int64_t n) const;
  int64_t available_blocks() const;

  // The keys and values of positions [0, length) of `seq` copied to the host: for each layer,
  // its keys then its values, each [length, n_kv_heads * head_dim] row-major.
  std::vector<float> read(int32_t seq) const;
  // Replaces the contents of `seq` with `tokens` and their keys and values laid out as read()
  // gives them. Throws InvalidArgument when `kv` has another size or the pool lacks room; the
  // sequence is empty then.
  void write(int32_t seq, const std::vector<int32_t>& tokens, const std::vector<float>& kv);

 private:
  friend class Model;  // runs forward passes on the pool
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace infer::model

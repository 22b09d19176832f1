#pragma once
// The inside of a KvCache, shared by kv_cache.cpp and the forward pass in model.cpp: the pool
// tensors, block bookkeeping, and the buffers of the passes that run on the cache.
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "infer/base/device.h"
#include "infer/base/stream.h"
#include "infer/kernels/kernel_context.h"
#include "infer/model/config.h"
#include "infer/model/kv_cache.h"
#include "infer/tensor/tensor.h"

namespace infer::model {

// The buffers of Model::forward: activations for a chunk of rows, and the batch's metadata (ids,
// positions, pool slots, block tables) on the device. Every buffer only grows, so after the
// first steps of a given size nothing is allocated.
struct Workspace {
  uint64_t generation = 0;  // counts reallocations: what was recorded with the old buffers is stale
  int64_t rows = 0;         // the activation buffers hold this many rows
  int64_t logit_rows = 0;   // the logits buffers hold this many rows
  tensor::Tensor x;         // [rows, dim] residual stream
  tensor::Tensor xn;        // [rows, dim] normalised input of a sub-block
  tensor::Tensor q;         // [rows, n_heads * head_dim]
  tensor::Tensor k;         // [rows, n_kv_heads * head_dim] new keys, before they go to the pool
  tensor::Tensor v;         // [rows, n_kv_heads * head_dim]
  tensor::Tensor attn;      // [rows, n_heads * head_dim] attention output
  tensor::Tensor proj;      // [rows, dim] output of o / down projections
  tensor::Tensor gate;      // [rows, hidden_dim]
  tensor::Tensor up;        // [rows, hidden_dim]
  tensor::Tensor last;      // [logit_rows, dim] the rows whose logits are wanted
  tensor::Tensor last_norm;  // [logit_rows, dim]
  tensor::Tensor logits;     // [logit_rows, vocab] on the device
  std::vector<float> logits_host;
  tensor::Tensor ids;  // [logit_rows] i32: the arg-max of each logits row (forward_argmax)
  std::vector<int32_t> ids_host;
  // ids, positions, slots, table offsets of every row, then the block tables; host and device.
  std::vector<int32_t> meta_host;
  tensor::Tensor meta;
  // prepare_batch's scratch: (sequence, next position) and (sequence, offset of its table), in
  // first-seen order.
  std::vector<std::pair<int32_t, int64_t>> next_position;
  std::vector<std::pair<int32_t, int32_t>> table_offset;

  void reserve_rows(const ModelConfig& c, base::DeviceType device, int64_t n);
  void reserve_logit_rows(const ModelConfig& c, base::DeviceType device, int64_t n);
  // Copies meta_host to the device; returns it there.
  const tensor::Tensor& upload_meta(const base::Stream& stream);
};

struct KvCache::Impl {
  struct Block {
    int32_t refs = 0;
    bool hashed = false;  // registered in by_hash (then immutable)
    uint64_t hash = 0;
    uint64_t parent_hash = 0;
    std::vector<int32_t> tokens;  // of a hashed block, to tell a hash collision from a hit
    std::list<int32_t>::iterator lru_position;
  };
  struct Sequence {
    std::vector<int32_t> table;
    std::vector<int32_t> tokens;
    // With prefix caching: the chain hash of each full block so far, so that a step hashes only
    // the blocks it fills.
    std::vector<uint64_t> hashes;
  };

  Impl(const ModelConfig& config, base::DeviceType device, int64_t n_blocks, int64_t block_size,
       bool prefix_caching);

  int64_t n_blocks() const { return static_cast<int64_t>(blocks.size()); }
  KvCacheStats stats() const;
  int32_t add_sequence();
  int32_t fork_sequence(int32_t seq);
  void remove_sequence(int32_t seq);
  int64_t attach_cached_prefix(int32_t seq, const std::vector<int32_t>& prompt);
  std::vector<float> read(int32_t seq) const;
  void write(int32_t seq, const std::vector<int32_t>& tokens, const std::vector<float>& kv);
  int64_t available_blocks() const { return static_cast<int64_t>(free_blocks.size() + lru.size()); }
  Sequence& sequence(int32_t seq);
  const Sequence& sequence(int32_t seq) const;
  int64_t length(int32_t seq) const { return static_cast<int64_t>(sequence(seq).tokens.size()); }
  int32_t allocate_block();
  void release_block(int32_t block);
  void copy_block(int32_t from, int32_t to, int64_t positions);
  int64_t blocks_needed(int32_t seq, int64_t n) const;
  // Makes room for positions [length, length + n) of `seq`: new blocks, and a private copy of a
  // last block that is shared or cached. Throws InvalidArgument when the pool is short.
  void prepare_append(int32_t seq, int64_t n);
  // Records that positions [length, length + n) now hold `tokens`, and registers the blocks this
  // filled for prefix hits.
  void commit(int32_t seq, const int32_t* tokens, int64_t n);
  void truncate(int32_t seq, int64_t n);
  // The pool row of position `pos` of `seq` (its block must exist).
  int64_t slot(const Sequence& s, int64_t pos) const {
    return int64_t{s.table[pos / block_size]} * block_size + pos % block_size;
  }
  uint64_t block_hash(uint64_t parent, const int32_t* tokens) const;

  const ModelConfig* config;
  base::DeviceType device;
  int64_t block_size;
  bool prefix_caching;
  std::vector<tensor::Tensor> k;  // per layer: [n_blocks * block_size, n_kv_heads * head_dim]
  std::vector<tensor::Tensor> v;
  std::vector<Block> blocks;
  std::vector<int32_t> free_blocks;  // never-cached free blocks, lowest on top
  std::list<int32_t> lru;            // cached blocks no sequence holds, least recently used first
  std::unordered_map<uint64_t, int32_t> by_hash;
  std::unordered_map<int32_t, Sequence> sequences;
  int32_t next_sequence = 0;
  int64_t prefix_hits = 0;
  int64_t evictions = 0;
  Workspace workspace;
  kernels::KernelContext ctx;  // ctx.cuda_stream is stream's
  // Decode steps recorded as CUDA graphs (Model::Impl::decode_graph), by batch size, whether
  // they end in the arg-max, and the RoPE table they read; all recorded with the workspace's
  // buffers of graphs_generation. After a pass could not be recorded, the next
  // graphs_paused passes run launched before another recording is tried.
  struct GraphKey {
    int64_t rows;
    bool argmax;
    const void* rope_table;
    bool operator<(const GraphKey& o) const {
      return std::tie(rows, argmax, rope_table) < std::tie(o.rows, o.argmax, o.rope_table);
    }
  };
  std::map<GraphKey, std::unique_ptr<base::Graph>> graphs;
  uint64_t graphs_generation = 0;
  int64_t graphs_paused = 0;
  int64_t graph_failures = 0;
  int64_t graph_replays = 0;
  int64_t graphs_recorded = 0;
  // The passes on this cache queue their kernels and copies here, and wait for them once, when
  // the logits reach the host. Last, so that it is destroyed first: its destructor waits for
  // queued work before the buffers above are released.
  base::Stream stream;
};

}  // namespace infer::model

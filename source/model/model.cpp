#include "infer/model/model.h"

#include <glog/logging.h>

#include <algorithm>
#include <set>

#include "infer/base/allocator.h"
#include "infer/base/cpu_isa.h"
#include "infer/base/error.h"
#include "infer/base/stream.h"
#include "infer/kernels/registry.h"
#include "infer/model/weights_file.h"
#include "infer/op/attention.h"
#include "infer/op/elementwise.h"
#include "infer/op/embedding.h"
#include "infer/op/matmul.h"
#include "infer/op/matmul_group.h"
#include "infer/op/rmsnorm.h"
#include "infer/op/rope.h"
#include "kv_cache_impl.h"

namespace infer::model {

using base::DataType;
using tensor::Shape;
using tensor::Tensor;

namespace {

// Long prompts run in chunks of this many tokens, bounding activation memory while keeping the
// matrix shapes large enough for GEMM to run at full speed.
constexpr int64_t kPrefillChunk = 512;

// Fetches weights by name and shape, moves them to the model's device, and remembers which
// tensors were used so that leftovers (a file from another exporter) can be reported.
class WeightLoader {
 public:
  WeightLoader(const WeightsFile& file, base::DeviceType device) : file_(file), device(device) {}

  // Vectors (norms, biases) are kept in f32 by the exporter whatever the model's precision.
  Tensor get(const std::string& name, const Shape& shape) {
    used_.insert(name);
    Tensor t = file_.get(name, shape);
    if (t.dtype() != DataType::kF32) {
      throw base::FormatError(file_.path() + ": tensor " + name + " is " +
                              base::dtype_name(t.dtype()) +
                              "; norm weights and biases must be f32");
    }
    return device == base::DeviceType::kCPU ? t : t.to(device);
  }

  op::Weight get_weight(const std::string& name, const Shape& shape) {
    used_.insert(name);
    op::Weight w = file_.get_weight(name, shape);
    if (!w.scales.empty()) used_.insert(name + ".scales");
    if (!w.offsets.empty()) used_.insert(name + ".offsets");
    return device == base::DeviceType::kCPU ? w : w.to(device);
  }

  void check_all_used() const {
    for (const auto& [name, info] : file_.tensors()) {
      if (!used_.count(name)) {
        throw base::FormatError(file_.path() + ": unexpected tensor " + name +
                                " (written by a different exporter version?)");
      }
    }
  }

 private:
  const WeightsFile& file_;
  base::DeviceType device;
  std::set<std::string> used_;
};

int64_t resolve_max_seq_len(const ModelConfig& config, const LoadOptions& options) {
  if (options.max_seq_len < 0) {
    throw base::InvalidArgument("max_seq_len must be positive, got " +
                                std::to_string(options.max_seq_len));
  }
  if (options.max_seq_len > config.max_position_embeddings) {
    throw base::InvalidArgument("max_seq_len " + std::to_string(options.max_seq_len) +
                                " exceeds the model's max_position_embeddings " +
                                std::to_string(config.max_position_embeddings));
  }
  return options.max_seq_len == 0 ? config.max_position_embeddings : options.max_seq_len;
}

// LoadOptions::bf16_activations only means something for bf16 matrices on a CPU that has the
// dot-product instructions; anything else is refused rather than silently ignored.
void check_bf16_activations(const WeightsFile& file, const LoadOptions& options) {
  if (!options.bf16_activations) return;
  if (options.device != base::DeviceType::kCPU) {
    throw base::Unsupported("bf16 activations are a CPU option; the model is loaded on " +
                            std::string(base::device_name(options.device)));
  }
  if (base::cpu_isa() != base::CpuIsa::kAvx512Bf16) {
    throw base::Unsupported(std::string("bf16 activations need a CPU with AVX512_BF16; this one "
                                        "runs the ") +
                            base::isa_name(base::cpu_isa()) + " kernels");
  }
  for (const auto& [name, info] : file.tensors())
    if (info.dtype == base::DataType::kBF16) return;
  throw base::InvalidArgument(file.path() +
                              ": bf16 activations apply to bf16 weights, and this file has none "
                              "(export it with --dtype bf16)");
}

}  // namespace

struct Model::Impl {
  struct Block {
    op::RmsNorm attn_norm;
    op::MatmulGroup qkv;  // q, k, v
    op::Matmul o;
    op::RmsNorm ffn_norm;
    op::MatmulGroup gate_up;  // gate, up
    op::Matmul down;
  };

  Impl(WeightsFile weights, const LoadOptions& options);
  // Checks the batch against the cache and makes room for it; fills the workspace's metadata.
  void prepare_batch(const Batch& batch, KvCache::Impl& cache) const;
  // Runs the whole pass on the cache's stream, leaving the logits of the rows that asked in the
  // workspace (and with `argmax`, their arg-max ids); returns how many rows asked. Queued, or,
  // for a decode step on CUDA, replayed from the cache's graph for the batch size.
  int64_t run(const Batch& batch, KvCache::Impl& cache, bool argmax) const;
  // The device work of a prepared pass, queued on (or recorded from) the cache's stream.
  void queue_pass(const Batch& batch, KvCache::Impl& cache, const op::Rope::Tables& rope_tables,
                  int64_t wanted, bool argmax) const;
  // The graph that replays queue_pass for this decode step (recorded on first use), or null
  // when the pass cannot be recorded.
  const base::Graph* decode_graph(const Batch& batch, KvCache::Impl& cache,
                                  const op::Rope::Tables& rope_tables, bool argmax) const;
  const std::vector<float>& forward(const Batch& batch, KvCache::Impl& cache) const;
  const std::vector<int32_t>& forward_argmax(const Batch& batch, KvCache::Impl& cache) const;
  // Rows [begin, begin + n) of the prepared batch; their logits rows go to `logit_row`.. .
  void forward_rows(const Batch& batch, KvCache::Impl& cache, const op::Rope::Tables& rope_tables,
                    int64_t begin, int64_t n, int64_t& logit_row) const;

  WeightsFile weights;
  ModelConfig config;
  base::DeviceType device;
  int64_t max_seq_len;
  bool bf16_activations;
  bool cuda_graphs;
  std::unique_ptr<op::Embedding> embedding;
  std::vector<Block> blocks;
  std::unique_ptr<op::RmsNorm> final_norm;
  std::unique_ptr<op::Matmul> head;
  op::Rope rope;
  op::Attention attention;
  op::SwiGLU swiglu;
  op::Add add;
  op::Argmax argmax;
};

std::unique_ptr<Model> Model::load(const std::string& path, const LoadOptions& options) {
  try {
    WeightsFile weights = WeightsFile::open(path);
    if (options.device == base::DeviceType::kCPU) base::cpu_isa();  // a bad INFER_ISA fails here
    check_bf16_activations(weights, options);
    base::require_device(options.device);
    return std::unique_ptr<Model>(new Model(std::make_unique<Impl>(std::move(weights), options)));
  } catch (const std::bad_alloc&) {
    throw base::FileError(path + ": out of memory loading the model");
  }
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

const ModelConfig& Model::config() const { return impl_->config; }
base::DeviceType Model::device() const { return impl_->device; }
uint64_t Model::fingerprint() const { return impl_->weights.fingerprint(); }
int64_t Model::max_seq_len() const { return impl_->max_seq_len; }

namespace {

// Runs one pass; if it fails half way, waits for the kernels it may have left queued on buffers
// that the next pass could reallocate (their own failure, if any, is already being reported).
template <class Pass>
auto run_pass(const base::Stream& stream, Pass pass) -> decltype(pass()) {
  try {
    return pass();
  } catch (...) {
    try {
      stream.synchronize();
    } catch (const base::Error&) {
    }
    throw;
  }
}

}  // namespace

const std::vector<float>& Model::forward(const Batch& batch, KvCache& cache) const {
  return run_pass(cache.impl_->stream, [&]() -> const std::vector<float>& {
    return impl_->forward(batch, *cache.impl_);
  });
}

const std::vector<int32_t>& Model::forward_argmax(const Batch& batch, KvCache& cache) const {
  return run_pass(cache.impl_->stream, [&]() -> const std::vector<int32_t>& {
    return impl_->forward_argmax(batch, *cache.impl_);
  });
}

Model::Impl::Impl(WeightsFile weights_file, const LoadOptions& options)
    : weights(std::move(weights_file)),
      config(weights.config()),
      device(options.device),
      max_seq_len(resolve_max_seq_len(config, options)),
      bf16_activations(options.bf16_activations),
      cuda_graphs(options.cuda_graphs && options.device == base::DeviceType::kCUDA),
      rope(config.head_dim, config.rope_theta, config.rope_scaling, max_seq_len, device),
      attention(device, config.n_heads, config.n_kv_heads, config.head_dim),
      swiglu(device),
      add(device),
      argmax(device) {
  const ModelConfig& c = config;
  const int64_t q_dim = c.n_heads * c.head_dim;
  const int64_t kv_dim = c.n_kv_heads * c.head_dim;
  WeightLoader w(weights, device);
  // Qwen2-style q/k/v biases are the only optional weights; the config says whether they exist.
  auto bias = [&](const std::string& name, int64_t size) -> std::optional<Tensor> {
    if (!c.attention_bias) return std::nullopt;
    return w.get(name, {size});
  };

  op::Weight embed = w.get_weight("embed.weight", {c.vocab_size, c.dim});
  // The head first: preparing it reads the largest matrix of the file, and with nothing else
  // resident yet the peak memory of loading stays at about the file's size. A tied table looks
  // its rows up in the head's prepared copy.
  head = std::make_unique<op::Matmul>(
      c.tied_embeddings ? embed : w.get_weight("head.weight", {c.vocab_size, c.dim}));
  if (c.tied_embeddings) embed.prepared = head->weight().prepared;
  embedding = std::make_unique<op::Embedding>(embed);
  weights.release_pages();
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    blocks.push_back(Block{
        op::RmsNorm(w.get(p + "attn_norm.weight", {c.dim}), c.norm_eps),
        op::MatmulGroup({op::Matmul(w.get_weight(p + "attn.q.weight", {q_dim, c.dim}),
                                    bias(p + "attn.q.bias", q_dim)),
                         op::Matmul(w.get_weight(p + "attn.k.weight", {kv_dim, c.dim}),
                                    bias(p + "attn.k.bias", kv_dim)),
                         op::Matmul(w.get_weight(p + "attn.v.weight", {kv_dim, c.dim}),
                                    bias(p + "attn.v.bias", kv_dim))}),
        op::Matmul(w.get_weight(p + "attn.o.weight", {c.dim, q_dim})),
        op::RmsNorm(w.get(p + "ffn_norm.weight", {c.dim}), c.norm_eps),
        op::MatmulGroup({op::Matmul(w.get_weight(p + "mlp.gate.weight", {c.hidden_dim, c.dim})),
                         op::Matmul(w.get_weight(p + "mlp.up.weight", {c.hidden_dim, c.dim}))}),
        op::Matmul(w.get_weight(p + "mlp.down.weight", {c.dim, c.hidden_dim})),
    });
    // Loading has read this layer's blocks (their checks, the prepared copies, a copy to the
    // GPU): their pages are dropped, so that they never stay resident beside the copies; what
    // the layers still read in place (weights as stored, norms, embedding rows) comes back on
    // demand.
    weights.release_pages();
  }
  final_norm = std::make_unique<op::RmsNorm>(w.get("norm.weight", {c.dim}), c.norm_eps);
  w.check_all_used();
}

void Model::Impl::prepare_batch(const Batch& batch, KvCache::Impl& cache) const {
  const int64_t n = batch.size();
  if (n == 0) throw base::InvalidArgument("forward: the batch is empty");
  if (static_cast<int64_t>(batch.sequences.size()) != n ||
      static_cast<int64_t>(batch.positions.size()) != n ||
      static_cast<int64_t>(batch.want_logits.size()) != n) {
    throw base::InvalidArgument(
        "forward: the batch's tokens, sequences, positions and logit "
        "flags differ in length");
  }
  if (cache.config != &config) throw base::InvalidArgument("the KV cache belongs to another model");
  Workspace& ws = cache.workspace;
  // Each sequence's rows must continue it one position at a time.
  auto& next = ws.next_position;
  next.clear();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t id = batch.tokens[i];
    if (id < 0 || id >= config.vocab_size) {
      throw base::InvalidArgument("token id " + std::to_string(id) +
                                  " is outside the vocabulary [0, " +
                                  std::to_string(config.vocab_size) + ")");
    }
    const int32_t seq = batch.sequences[i];
    auto it = std::find_if(next.begin(), next.end(), [&](const auto& e) { return e.first == seq; });
    if (it == next.end()) {
      if (cache.sequences.count(seq) == 0)
        throw base::InvalidArgument("forward: the KV cache has no sequence " + std::to_string(seq));
      it = next.insert(next.end(), {seq, cache.length(seq)});
    }
    if (batch.positions[i] != it->second) {
      throw base::InvalidArgument("forward: row " + std::to_string(i) + " of sequence " +
                                  std::to_string(seq) + " is at position " +
                                  std::to_string(batch.positions[i]) + ", expected " +
                                  std::to_string(it->second));
    }
    if (it->second >= max_seq_len) {
      throw base::InvalidArgument("context overflow: sequence " + std::to_string(seq) +
                                  " would reach position " + std::to_string(it->second) +
                                  ", max_seq_len is " + std::to_string(max_seq_len));
    }
    ++it->second;
  }
  int64_t need = 0;
  for (const auto& [seq, end] : next) need += cache.blocks_needed(seq, end - cache.length(seq));
  if (need > cache.available_blocks()) {
    throw base::InvalidArgument("the KV cache is full: the batch needs " + std::to_string(need) +
                                " more blocks, " + std::to_string(cache.available_blocks()) +
                                " of " + std::to_string(cache.n_blocks()) + " are free");
  }
  for (const auto& [seq, end] : next) cache.prepare_append(seq, end - cache.length(seq));

  // Metadata: ids, positions, pool slots and table offsets of every row, then the tables.
  std::vector<int32_t>& meta = ws.meta_host;
  meta.resize(static_cast<size_t>(4 * n));
  std::copy(batch.tokens.begin(), batch.tokens.end(), meta.begin());
  std::copy(batch.positions.begin(), batch.positions.end(), meta.begin() + n);
  auto& table_at = ws.table_offset;
  table_at.clear();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t seq = batch.sequences[i];
    const KvCache::Impl::Sequence& s = cache.sequence(seq);
    auto it = std::find_if(table_at.begin(), table_at.end(),
                           [&](const auto& e) { return e.first == seq; });
    if (it == table_at.end()) {
      it = table_at.insert(table_at.end(),
                           {seq, static_cast<int32_t>(meta.size() - static_cast<size_t>(4 * n))});
      meta.insert(meta.end(), s.table.begin(), s.table.end());
    }
    meta[2 * n + i] = static_cast<int32_t>(cache.slot(s, batch.positions[i]));
    meta[3 * n + i] = it->second;
  }
}

int64_t Model::Impl::run(const Batch& batch, KvCache::Impl& cache, bool argmax) const {
  prepare_batch(batch, cache);
  cache.ctx.bf16_activations = bf16_activations;
  Workspace& ws = cache.workspace;
  const int64_t n = batch.size();
  int64_t wanted = 0;
  for (uint8_t w : batch.want_logits) wanted += w;
  ws.reserve_rows(config, device, std::min(n, kPrefillChunk));
  ws.reserve_logit_rows(config, device, std::max<int64_t>(wanted, 1));
  ws.upload_meta(cache.stream);

  const int64_t positions_end =
      int64_t{*std::max_element(batch.positions.begin(), batch.positions.end())} + 1;
  const op::Rope::Tables& rope_tables = rope.tables_for(positions_end);
  if (const base::Graph* graph = decode_graph(batch, cache, rope_tables, argmax)) {
    graph->launch(cache.stream);
    ++cache.graph_replays;
  } else {
    queue_pass(batch, cache, rope_tables, wanted, argmax);
  }

  // The committed positions are the only change a failed pass could have left half done.
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    while (j < n && batch.sequences[j] == batch.sequences[i]) ++j;
    cache.commit(batch.sequences[i], batch.tokens.data() + i, j - i);
    i = j;
  }
  return wanted;
}

void Model::Impl::queue_pass(const Batch& batch, KvCache::Impl& cache,
                             const op::Rope::Tables& rope_tables, int64_t wanted,
                             bool argmax_ids) const {
  Workspace& ws = cache.workspace;
  const int64_t n = batch.size();
  int64_t logit_row = 0;
  for (int64_t begin = 0; begin < n; begin += kPrefillChunk)
    forward_rows(batch, cache, rope_tables, begin, std::min(kPrefillChunk, n - begin), logit_row);
  if (wanted == 0) return;
  // Logits only for the rows that asked: the head is the largest matrix of small models.
  Tensor last = ws.last.rows(0, wanted), normed = ws.last_norm.rows(0, wanted);
  Tensor logits = ws.logits.rows(0, wanted);
  final_norm->forward(cache.ctx, last, normed);
  head->forward(cache.ctx, normed, logits);
  if (argmax_ids) {
    Tensor ids = ws.ids.rows(0, wanted);
    argmax.forward(cache.ctx, logits, ids);
  }
}

const base::Graph* Model::Impl::decode_graph(const Batch& batch, KvCache::Impl& cache,
                                             const op::Rope::Tables& rope_tables,
                                             bool argmax) const {
  if (!cuda_graphs) return nullptr;
  if (cache.graphs_paused > 0) {
    --cache.graphs_paused;
    return nullptr;
  }
  // Only a pass whose kernels' shapes and pointers depend on the number of rows alone replays
  // for later steps: every row asks for logits (one copy of all rows to the head), at most one
  // prefill chunk. The buffers and the RoPE table it was recorded with must still be the ones
  // in use: the graphs are dropped when the workspace is reallocated.
  const int64_t n = batch.size();
  if (n > kPrefillChunk ||
      std::find(batch.want_logits.begin(), batch.want_logits.end(), 0) != batch.want_logits.end())
    return nullptr;
  if (cache.graphs_generation != cache.workspace.generation) {
    cache.graphs.clear();
    cache.graphs_generation = cache.workspace.generation;
  }
  const KvCache::Impl::GraphKey key{n, argmax, rope_tables.cos.raw_data()};
  auto it = cache.graphs.find(key);
  if (it != cache.graphs.end()) return it->second.get();
  cache.ctx.fixed_launch_shapes = true;
  try {
    auto graph =
        base::record_graph(cache.stream, [&] { queue_pass(batch, cache, rope_tables, n, argmax); });
    cache.ctx.fixed_launch_shapes = false;
    ++cache.graphs_recorded;
    return cache.graphs.emplace(key, std::move(graph)).first->second.get();
  } catch (const base::Error& e) {
    cache.ctx.fixed_launch_shapes = false;
    // The kernels still run, one launch each: slower, never wrong. A first use inside the
    // recording (a library creating its handle) can make it fail once; a cause that stays costs
    // one failed recording per kPausedPasses passes.
    constexpr int64_t kPausedPasses = 64;
    if (cache.graph_failures++ == 0)
      LOG(WARNING) << "a CUDA graph could not be recorded; passes run launched: " << e.what();
    cache.graphs_paused = kPausedPasses;
    return nullptr;
  }
}

const std::vector<float>& Model::Impl::forward(const Batch& batch, KvCache::Impl& cache) const {
  const int64_t wanted = run(batch, cache, /*argmax=*/false);
  Workspace& ws = cache.workspace;
  ws.logits_host.resize(static_cast<size_t>(wanted * config.vocab_size));
  base::copy_bytes_async(ws.logits_host.data(), base::DeviceType::kCPU, ws.logits.raw_data(),
                         device, ws.logits_host.size() * sizeof(float), cache.stream);
  // The step's one wait: the logits are read next, and the workspace may be reallocated by the
  // next pass only when no queued kernel uses it.
  cache.stream.synchronize();
  return ws.logits_host;
}

const std::vector<int32_t>& Model::Impl::forward_argmax(const Batch& batch,
                                                        KvCache::Impl& cache) const {
  const int64_t wanted = run(batch, cache, /*argmax=*/true);
  Workspace& ws = cache.workspace;
  ws.ids_host.resize(static_cast<size_t>(wanted));
  base::copy_bytes_async(ws.ids_host.data(), base::DeviceType::kCPU, ws.ids.raw_data(), device,
                         ws.ids_host.size() * sizeof(int32_t), cache.stream);
  cache.stream.synchronize();  // as in forward(): the one wait
  return ws.ids_host;
}

// Rows [begin, begin + n) of a prepared batch, shapes in comments (T = n).
void Model::Impl::forward_rows(const Batch& batch, KvCache::Impl& cache,
                               const op::Rope::Tables& rope_tables, int64_t begin, int64_t n,
                               int64_t& logit_row) const {
  const ModelConfig& c = config;
  const auto& ctx = cache.ctx;
  Workspace& ws = cache.workspace;
  const int64_t total = batch.size();
  const int32_t* meta = ws.meta.data<int32_t>();
  Tensor ids = ws.meta.rows(begin, begin + n);                            // [T]
  Tensor positions = ws.meta.rows(total + begin, total + begin + n);      // [T]
  Tensor slots = ws.meta.rows(2 * total + begin, 2 * total + begin + n);  // [T]
  kernels::KvPages pages;
  pages.positions = meta + total + begin;
  pages.table_offsets = meta + 3 * total + begin;
  pages.tables = meta + 4 * total;
  pages.block_size = cache.block_size;
  pages.max_keys =
      1 + *std::max_element(batch.positions.begin() + begin, batch.positions.begin() + begin + n);

  Tensor x = ws.x.rows(0, n);        // [T, dim]
  Tensor xn = ws.xn.rows(0, n);      // [T, dim]
  Tensor q = ws.q.rows(0, n);        // [T, n_heads * head_dim]
  Tensor k = ws.k.rows(0, n);        // [T, n_kv_heads * head_dim]
  Tensor v = ws.v.rows(0, n);        // [T, n_kv_heads * head_dim]
  Tensor attn = ws.attn.rows(0, n);  // [T, n_heads * head_dim]
  Tensor proj = ws.proj.rows(0, n);  // [T, dim]
  Tensor gate = ws.gate.rows(0, n);  // [T, hidden_dim]
  Tensor up = ws.up.rows(0, n);      // [T, hidden_dim]

  // Each residual add is made by the norm that follows it (RmsNorm::forward_add): one pass, and
  // one launch on a GPU, instead of two.
  embedding->forward(ctx, ids, x);
  blocks.front().attn_norm.forward(ctx, x, xn);
  for (size_t l = 0; l < blocks.size(); ++l) {
    const Block& b = blocks[l];
    b.qkv.forward(ctx, xn, {&q, &k, &v});
    rope.forward(ctx, q, k, v, c.n_heads, c.n_kv_heads, positions, rope_tables, slots, cache.k[l],
                 cache.v[l]);
    attention.forward(ctx, q, cache.k[l], cache.v[l], attn, pages);
    b.o.forward(ctx, attn, proj);
    b.ffn_norm.forward_add(ctx, x, proj, xn);  // x += proj
    b.gate_up.forward(ctx, xn, {&gate, &up});
    swiglu.forward(ctx, gate, up, gate);
    b.down.forward(ctx, gate, proj);
    if (l + 1 < blocks.size()) {
      blocks[l + 1].attn_norm.forward_add(ctx, x, proj, xn);  // x += proj
    } else {
      add.forward(ctx, x, proj, x);
    }
  }
  // The rows that want logits, a run of consecutive rows per copy (a decode step is one run).
  const size_t row_bytes = static_cast<size_t>(c.dim) * sizeof(float);
  for (int64_t i = 0; i < n;) {
    if (!batch.want_logits[begin + i]) {
      ++i;
      continue;
    }
    int64_t end = i + 1;
    while (end < n && batch.want_logits[begin + end]) ++end;
    base::copy_bytes_async(ws.last.rows(logit_row, logit_row + (end - i)).raw_data(), device,
                           x.rows(i, end).raw_data(), device, row_bytes * (end - i), cache.stream);
    logit_row += end - i;
    i = end;
  }
}

}  // namespace infer::model

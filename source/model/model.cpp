#include "infer/model/model.h"

#include <algorithm>
#include <set>

#include "infer/base/allocator.h"
#include "infer/base/cpu_isa.h"
#include "infer/base/error.h"
#include "infer/kernels/registry.h"

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
  WeightLoader(const WeightsFile& file, base::DeviceType device) : file_(file), device_(device) {}

  // Vectors (norms, biases) are kept in f32 by the exporter whatever the model's precision.
  Tensor get(const std::string& name, const Shape& shape) {
    used_.insert(name);
    Tensor t = file_.get(name, shape);
    if (t.dtype() != DataType::kF32) {
      throw base::FormatError(file_.path() + ": tensor " + name + " is " +
                              base::dtype_name(t.dtype()) +
                              "; norm weights and biases must be f32");
    }
    return device_ == base::DeviceType::kCPU ? t : t.to(device_);
  }

  op::Weight get_weight(const std::string& name, const Shape& shape) {
    used_.insert(name);
    op::Weight w = file_.get_weight(name, shape);
    if (!w.scales.empty()) used_.insert(name + ".scales");
    if (!w.offsets.empty()) used_.insert(name + ".offsets");
    return device_ == base::DeviceType::kCPU ? w : w.to(device_);
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
  base::DeviceType device_;
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

// A file whose weight matrices are stored in a dtype the device has no kernels for is refused
// by name before anything is copied. Only when the device's back end is present (it has the f32
// kernels): otherwise require_device explains what is missing.
void check_device_runs_dtypes(const WeightsFile& file, base::DeviceType device) {
  using kernels::OpKind;
  if (!kernels::find_kernel({OpKind::kMatmul, device, base::DataType::kF32})) return;
  for (const auto& [name, info] : file.tensors()) {
    if (info.shape.size() != 2 || name.size() < 7 || name.compare(name.size() - 7, 7, ".weight"))
      continue;
    const bool embedding = name == "embed.weight";
    if (kernels::find_kernel(
            {embedding ? OpKind::kEmbedding : OpKind::kMatmul, device, info.dtype}))
      continue;
    throw base::Unsupported(file.path() + ": tensor " + name + " is stored as " +
                            base::dtype_name(info.dtype) + ", which " + base::device_name(device) +
                            " has no kernels for; export the model with --dtype fp32 for this "
                            "device, or run it on cpu");
  }
}

}  // namespace

std::unique_ptr<Model> Model::load(const std::string& path, const LoadOptions& options) {
  WeightsFile weights = WeightsFile::open(path);
  if (options.device == base::DeviceType::kCPU) base::cpu_isa();  // a bad INFER_ISA fails here
  check_device_runs_dtypes(weights, options.device);
  base::require_device(options.device);
  return std::unique_ptr<Model>(new Model(std::move(weights), options));
}

Model::Model(WeightsFile weights, const LoadOptions& options)
    : weights_(std::move(weights)),
      config_(weights_.config()),
      device_(options.device),
      max_seq_len_(resolve_max_seq_len(config_, options)),
      rope_(config_.head_dim, config_.rope_theta, config_.rope_scaling, max_seq_len_, device_),
      attention_(device_, config_.n_heads, config_.n_kv_heads, config_.head_dim),
      swiglu_(device_),
      add_(device_) {
  const ModelConfig& c = config_;
  const int64_t q_dim = c.n_heads * c.head_dim;
  const int64_t kv_dim = c.n_kv_heads * c.head_dim;
  WeightLoader w(weights_, device_);
  // Qwen2-style q/k/v biases are the only optional weights; the config says whether they exist.
  auto bias = [&](const std::string& name, int64_t size) -> std::optional<Tensor> {
    if (!c.attention_bias) return std::nullopt;
    return w.get(name, {size});
  };

  op::Weight embed = w.get_weight("embed.weight", {c.vocab_size, c.dim});
  embedding_ = std::make_unique<op::Embedding>(embed);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    blocks_.push_back(Block{
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
  }
  final_norm_ = std::make_unique<op::RmsNorm>(w.get("norm.weight", {c.dim}), c.norm_eps);
  head_ = std::make_unique<op::Matmul>(
      c.tied_embeddings ? embed : w.get_weight("head.weight", {c.vocab_size, c.dim}));
  w.check_all_used();
}

std::unique_ptr<InferenceState> Model::new_state() const {
  return std::make_unique<InferenceState>(config_, max_seq_len_, device_);
}

void Model::check_input(const InferenceState& state, const std::vector<int32_t>& tokens) const {
  if (state.config_ != &config_) throw base::InvalidArgument("state belongs to another model");
  if (tokens.empty()) throw base::InvalidArgument("forward: no tokens to process");
  for (int32_t id : tokens) {
    if (id < 0 || id >= config_.vocab_size) {
      throw base::InvalidArgument("token id " + std::to_string(id) +
                                  " is outside the vocabulary [0, " +
                                  std::to_string(config_.vocab_size) + ")");
    }
  }
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (state.n_past() + n > max_seq_len_) {
    throw base::InvalidArgument("context overflow: " + std::to_string(state.n_past()) +
                                " tokens in context + " + std::to_string(n) +
                                " new > max_seq_len " + std::to_string(max_seq_len_));
  }
}

const std::vector<float>& Model::forward(InferenceState& state,
                                         const std::vector<int32_t>& tokens) const {
  check_input(state, tokens);
  const int64_t n = static_cast<int64_t>(tokens.size());
  for (int64_t begin = 0; begin < n; begin += kPrefillChunk) {
    const int64_t count = std::min(kPrefillChunk, n - begin);
    forward_chunk(state, tokens.data() + begin, count, /*want_logits=*/begin + count == n);
  }
  return state.logits_host_;
}

std::vector<float> Model::forward_all_logits(InferenceState& state,
                                             const std::vector<int32_t>& tokens) const {
  check_input(state, tokens);
  const int64_t n = static_cast<int64_t>(tokens.size());
  std::vector<float> logits(static_cast<size_t>(n * config_.vocab_size));
  for (int64_t begin = 0; begin < n; begin += kPrefillChunk) {
    const int64_t count = std::min(kPrefillChunk, n - begin);
    forward_chunk(state, tokens.data() + begin, count, /*want_logits=*/false);
    // Scoring is not on the generation path, so these buffers are made per call.
    Tensor normed = Tensor::empty({count, config_.dim}, DataType::kF32, device_);
    Tensor chunk_logits = Tensor::empty({count, config_.vocab_size}, DataType::kF32, device_);
    final_norm_->forward(state.ctx_, state.x_.rows(0, count), normed);
    head_->forward(state.ctx_, normed, chunk_logits);
    base::copy_bytes(logits.data() + begin * config_.vocab_size, base::DeviceType::kCPU,
                     chunk_logits.raw_data(), device_, chunk_logits.bytes());
  }
  return logits;
}

// One pass of `n_tokens` tokens at positions start..start+n_tokens, shapes in comments.
void Model::forward_chunk(InferenceState& s, const int32_t* tokens, int64_t n_tokens,
                          bool want_logits) const {
  const ModelConfig& c = config_;
  const auto& ctx = s.ctx_;
  const int64_t start = s.n_past_;
  s.reserve_rows(n_tokens);

  Tensor ids = s.ids_.rows(0, n_tokens);  // [T]
  base::copy_bytes(ids.raw_data(), device_, tokens, base::DeviceType::kCPU,
                   static_cast<size_t>(n_tokens) * sizeof(int32_t));
  Tensor x = s.x_.rows(0, n_tokens);        // [T, dim]
  Tensor xn = s.xn_.rows(0, n_tokens);      // [T, dim]
  Tensor q = s.q_.rows(0, n_tokens);        // [T, n_heads * head_dim]
  Tensor attn = s.attn_.rows(0, n_tokens);  // [T, n_heads * head_dim]
  Tensor proj = s.proj_.rows(0, n_tokens);  // [T, dim]
  Tensor gate = s.gate_.rows(0, n_tokens);  // [T, hidden_dim]
  Tensor up = s.up_.rows(0, n_tokens);      // [T, hidden_dim]

  embedding_->forward(ctx, ids, x);
  for (size_t l = 0; l < blocks_.size(); ++l) {
    const Block& b = blocks_[l];
    // K and V are written straight into this chunk's rows of the cache.
    Tensor k = s.k_cache_[l].rows(start, start + n_tokens);  // [T, n_kv_heads * head_dim]
    Tensor v = s.v_cache_[l].rows(start, start + n_tokens);

    b.attn_norm.forward(ctx, x, xn);
    b.qkv.forward(ctx, xn, {&q, &k, &v});
    rope_.forward(ctx, q, c.n_heads, start);
    rope_.forward(ctx, k, c.n_kv_heads, start);
    attention_.forward(ctx, q, s.k_cache_[l], s.v_cache_[l], attn, start);
    b.o.forward(ctx, attn, proj);
    add_.forward(ctx, x, proj, x);

    b.ffn_norm.forward(ctx, x, xn);
    b.gate_up.forward(ctx, xn, {&gate, &up});
    swiglu_.forward(ctx, gate, up, gate);
    b.down.forward(ctx, gate, proj);
    add_.forward(ctx, x, proj, x);
  }
  s.n_past_ = start + n_tokens;
  if (!want_logits) return;

  // Only the last position's logits are needed to pick the next token.
  Tensor last = x.rows(n_tokens - 1, n_tokens);  // [1, dim]
  final_norm_->forward(ctx, last, s.last_norm_);
  head_->forward(ctx, s.last_norm_, s.logits_);  // [1, vocab]
  base::copy_bytes(s.logits_host_.data(), base::DeviceType::kCPU, s.logits_.raw_data(), device_,
                   s.logits_.bytes());
}

}  // namespace infer::model

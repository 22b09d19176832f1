#pragma once
// A decoder-only transformer (Llama family) loaded from a libinfer weights file. The Model holds
// weights and layers and is immutable after load; each conversation runs on its own
// InferenceState (KV cache + activations), so many states can share one Model.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "infer/base/device.h"
#include "infer/model/batch.h"
#include "infer/model/config.h"
#include "infer/model/inference_state.h"
#include "infer/model/kv_cache.h"
#include "infer/model/weights_file.h"
#include "infer/op/attention.h"
#include "infer/op/elementwise.h"
#include "infer/op/embedding.h"
#include "infer/op/matmul.h"
#include "infer/op/matmul_group.h"
#include "infer/op/rmsnorm.h"
#include "infer/op/rope.h"

namespace infer::model {

struct LoadOptions {
  base::DeviceType device = base::DeviceType::kCPU;
  // Context length to size the KV cache and RoPE tables for; 0 = the model's
  // max_position_embeddings. Larger than that is an error.
  int64_t max_seq_len = 0;
};

class Model {
 public:
  // Throws FileError/FormatError (naming file and tensor), InvalidArgument or Unsupported.
  static std::unique_ptr<Model> load(const std::string& path, const LoadOptions& options = {});

  const ModelConfig& config() const { return config_; }
  base::DeviceType device() const { return device_; }
  // See WeightsFile::fingerprint.
  uint64_t fingerprint() const { return weights_.fingerprint(); }
  int64_t max_seq_len() const { return max_seq_len_; }

  std::unique_ptr<InferenceState> new_state() const;

  // Runs every row of `batch` through the model, writing their keys and values into `cache`,
  // and returns the logits of the rows that asked for them, [rows asking, vocab_size] row-major
  // in batch order, on the host (valid until the next forward on this cache). A row's results
  // do not depend on the other rows of the batch. Throws InvalidArgument, leaving the cache as
  // it was, for an empty or malformed batch (a token outside the vocabulary, an unknown
  // sequence, positions that do not continue the sequence, a position at or past max_seq_len())
  // or a pool without room for the new positions.
  const std::vector<float>& forward(const Batch& batch, KvCache& cache) const;

  // Appends `tokens` to the state's context (positions state.n_past()..), runs them through the
  // model as one matrix pass (in chunks for long prompts) and returns the logits of the last
  // token, on the host. Throws InvalidArgument for an empty input, a token id outside the
  // vocabulary, or a context that would exceed max_seq_len(); the state is unchanged then.
  const std::vector<float>& forward(InferenceState& state,
                                    const std::vector<int32_t>& tokens) const;

  // Like forward(), but returns the logits of every token, [tokens.size(), vocab_size]
  // row-major: for scoring a text (perplexity, teacher-forced comparisons).
  std::vector<float> forward_all_logits(InferenceState& state,
                                        const std::vector<int32_t>& tokens) const;

 private:
  struct Block {
    op::RmsNorm attn_norm;
    op::MatmulGroup qkv;  // q, k, v
    op::Matmul o;
    op::RmsNorm ffn_norm;
    op::MatmulGroup gate_up;  // gate, up
    op::Matmul down;
  };

  Model(WeightsFile weights, const LoadOptions& options);
  void check_input(const InferenceState& state, const std::vector<int32_t>& tokens) const;
  // Checks the batch against the cache and makes room for it; fills the workspace's metadata.
  void prepare_batch(const Batch& batch, KvCache& cache) const;
  // Rows [begin, begin + n) of the prepared batch; their logits rows go to `logit_row`.. .
  void forward_rows(const Batch& batch, KvCache& cache, int64_t begin, int64_t n,
                    int64_t& logit_row) const;

  WeightsFile weights_;
  ModelConfig config_;
  base::DeviceType device_;
  int64_t max_seq_len_;
  std::unique_ptr<op::Embedding> embedding_;
  std::vector<Block> blocks_;
  std::unique_ptr<op::RmsNorm> final_norm_;
  std::unique_ptr<op::Matmul> head_;
  op::Rope rope_;
  op::Attention attention_;
  op::CopyRows copy_rows_;
  op::SwiGLU swiglu_;
  op::Add add_;
};

}  // namespace infer::model

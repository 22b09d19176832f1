#pragma once
// A decoder-only transformer (Llama family) loaded from a libinfer weights file. The Model holds
// weights and layers and is immutable after load; sequences run on a KvCache, so many caches
// (and the many sequences of one cache) can share one Model. For text in, text out, use
// generate(), a Session or the Engine; forward() is the step they are built on.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "infer/base/device.h"
#include "infer/model/batch.h"
#include "infer/model/config.h"
#include "infer/model/kv_cache.h"

namespace infer::model {

struct LoadOptions {
  base::DeviceType device = base::DeviceType::kCPU;
  // Context length to size the KV cache and RoPE tables for; 0 = the model's
  // max_position_embeddings. Larger than that is an error.
  int64_t max_seq_len = 0;
  // bf16 weights on the CPU: round each activation to bf16 before it meets the weights, so that
  // AVX512_BF16 dot products do two multiply-adds where an f32 FMA does one (prefill about
  // twice as fast), at a small cost in accuracy (bench/RESULTS.md). Off by default; needs a
  // CPU with AVX512_BF16 and a file with bf16 weights. Results stay batch-invariant.
  bool bf16_activations = false;
  // On CUDA, a pass in which every row asks for logits (a decode step) is recorded once per
  // batch size as a CUDA graph and replayed after: one launch per step instead of one per
  // kernel. false launches every kernel every time (to compare, or to debug a kernel).
  bool cuda_graphs = true;
};

class Model {
 public:
  // Throws FileError/FormatError (naming file and tensor), InvalidArgument or Unsupported.
  static std::unique_ptr<Model> load(const std::string& path, const LoadOptions& options = {});

  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelConfig& config() const;
  base::DeviceType device() const;
  // A hash of the weights file's header (config, every tensor's name, dtype, shape and place):
  // a saved session is only restored into the model it was made with.
  uint64_t fingerprint() const;
  // The longest context a sequence may reach (LoadOptions::max_seq_len, or the model's own).
  int64_t max_seq_len() const;

  // Runs every row of `batch` through the model, writing their keys and values into `cache`,
  // and returns the logits of the rows that asked for them, [rows asking, vocab_size] row-major
  // in batch order, on the host (valid until the next forward on this cache). A row's results
  // do not depend on the other rows of the batch. Throws InvalidArgument, leaving the cache as
  // it was, for an empty or malformed batch (a token outside the vocabulary, an unknown
  // sequence, positions that do not continue the sequence, a position at or past max_seq_len())
  // or a pool without room for the new positions.
  const std::vector<float>& forward(const Batch& batch, KvCache& cache) const;
  // As forward(), but returns for each row that asked for logits only its arg-max token (the
  // lowest id on ties, as torch.argmax; -1 when its logits hold a NaN), found where the logits
  // are: on a GPU only these ids cross to the host. What greedy decoding without penalties
  // needs (valid until the next forward on this cache).
  const std::vector<int32_t>& forward_argmax(const Batch& batch, KvCache& cache) const;

 private:
  struct Impl;

  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace infer::model

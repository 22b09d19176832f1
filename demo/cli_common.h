#pragma once
// What llama_infer's one-shot and chat modes share: the model, sampling and stopping flags, and
// loading a model with its tokenizer.
#include <gflags/gflags.h>

#include <memory>
#include <string>
#include <vector>

#include "infer/generate/generate.h"
#include "infer/model/model.h"
#include "infer/sampler/sampler.h"
#include "infer/tokenizer/tokenizer.h"

DECLARE_int64(max_new_tokens);
DECLARE_string(chat_template);
DECLARE_string(system);

namespace infer::cli {

// Sampling settings from the flags; throws InvalidArgument naming a flag out of range.
sampler::SamplingParams sampling_params_from_flags();

struct Loaded {
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  std::unique_ptr<model::Model> model;
};
// Applies --threads, loads the tokenizer and the model (--device, --max_seq_len) and checks that
// the tokenizer fits the model's vocabulary.
Loaded load_model_and_tokenizer(const std::string& model_path, const std::string& tokenizer_path);

// --max_new_tokens, --stop and every end-of-sequence id the model and tokenizer name.
generate::GenerateOptions generate_options_from_flags(const model::Model& model,
                                                      const tokenizer::Tokenizer& tokenizer);

// The stats line(s) written to stderr after a reply.
void print_stats(const generate::GenerateResult& result);

}  // namespace infer::cli

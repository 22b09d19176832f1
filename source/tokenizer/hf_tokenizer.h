#pragma once
// HF tokenizer.json (internal): normaliser, added tokens, BPE model, post-processor specials and
// decoder, as far as the supported tokenizers use them. Anything else in the file is refused
// with a message naming the field, never silently ignored.
#include <memory>
#include <string>

#include "infer/tokenizer/tokenizer.h"

namespace infer::tokenizer {

struct SpecialTokenPolicy;

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path,
                                             const SpecialTokenPolicy& policy);

}  // namespace infer::tokenizer

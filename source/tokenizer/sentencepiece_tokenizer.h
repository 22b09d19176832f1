#pragma once
// A sentencepiece `tokenizer.model` through libsentencepiece (internal).
#include <memory>
#include <string>

#include "infer/tokenizer/tokenizer.h"
#include "special_token_policy.h"

namespace infer::tokenizer {

std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& path,
                                                        const SpecialTokenPolicy& policy);

}  // namespace infer::tokenizer

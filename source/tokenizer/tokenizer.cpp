#include "infer/tokenizer/tokenizer.h"

#include <new>

#include "hf_tokenizer.h"
#include "infer/base/error.h"
#include "sentencepiece_tokenizer.h"
#include "special_token_policy.h"

namespace infer::tokenizer {

std::unique_ptr<Tokenizer> Tokenizer::load(const std::string& path) {
  try {
    const SpecialTokenPolicy policy = SpecialTokenPolicy::read_beside(path);
    const bool is_sentencepiece =
        path.size() >= 6 && path.compare(path.size() - 6, 6, ".model") == 0;
    return is_sentencepiece ? load_sentencepiece_tokenizer(path, policy)
                            : load_hf_tokenizer(path, policy);
  } catch (const std::bad_alloc&) {
    throw base::FileError(path + ": out of memory loading the tokenizer");
  }
}

}  // namespace infer::tokenizer

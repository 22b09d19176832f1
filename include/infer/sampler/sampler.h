#pragma once
// Picks the next token from the logits of the last position.
#include <cstdint>
#include <vector>

namespace infer::sampler {

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual int32_t sample(const std::vector<float>& logits) = 0;
};

// Greedy decoding: the highest logit, the lowest id on ties (as torch.argmax).
class ArgmaxSampler final : public Sampler {
 public:
  int32_t sample(const std::vector<float>& logits) override;
};

}  // namespace infer::sampler

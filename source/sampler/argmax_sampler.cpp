#include <algorithm>

#include "infer/base/error.h"
#include "infer/sampler/sampler.h"

namespace infer::sampler {

int32_t ArgmaxSampler::sample(const std::vector<float>& logits) {
  if (logits.empty()) throw base::InvalidArgument("cannot sample from empty logits");
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

}  // namespace infer::sampler

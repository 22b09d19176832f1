#pragma once
// generate() on a context that may already hold tokens: Session's replies continue their
// conversation's cache this way.
#include <cstdint>
#include <vector>

#include "infer/generate/generate.h"
#include "infer/model/inference_state.h"

namespace infer::generate {

// Runs `prompt` (non-empty) from the state's current position and generates; the repetition
// penalty also sees what the state held before. Throws InvalidArgument when the prompt does not
// fit in the state's capacity or `options` fail validate().
GenerateResult generate(model::InferenceState& state, const std::vector<int32_t>& prompt,
                        const GenerateOptions& options, sampler::Sampler& sampler,
                        const StreamCallback& on_piece = nullptr);

}  // namespace infer::generate

#include "infer/generate/generation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "infer/base/error.h"

namespace infer::generate {

std::vector<int32_t> default_eos_ids(const model::ModelConfig& config,
                                     const tokenizer::Tokenizer* tokenizer) {
  std::vector<int32_t> ids = config.eos_token_ids;
  if (tokenizer != nullptr) {
    if (auto eos = tokenizer->eos_id(); eos && std::find(ids.begin(), ids.end(), *eos) == ids.end())
      ids.push_back(*eos);
  }
  return ids;
}

void check_tokenizer_fits(const model::ModelConfig& config, const tokenizer::Tokenizer& tokenizer,
                          const std::string& tokenizer_name, const std::string& model_name) {
  if (tokenizer.vocab_size() > config.vocab_size) {
    throw base::InvalidArgument(tokenizer_name + " has " + std::to_string(tokenizer.vocab_size()) +
                                " tokens but " + model_name + " has a vocabulary of " +
                                std::to_string(config.vocab_size) +
                                ": wrong tokenizer for this model?");
  }
}

void check_prompt_fits(int64_t prompt_tokens, int64_t n_past, int64_t capacity) {
  if (prompt_tokens <= 0) throw base::InvalidArgument("the prompt is empty");
  if (n_past + prompt_tokens > capacity) {
    throw base::InvalidArgument("the prompt has " + std::to_string(prompt_tokens) +
                                " tokens but only " + std::to_string(capacity - n_past) +
                                " fit in the context (max_seq_len " + std::to_string(capacity) +
                                ")");
  }
}

std::string Generation::StopStringFilter::push(const std::string& text, bool& stopped) {
  pending_ += text;
  size_t first = std::string::npos;
  for (const std::string& stop : stops_) first = std::min(first, pending_.find(stop));
  if (first != std::string::npos) {
    stopped = true;
    std::string out = pending_.substr(0, first);
    pending_.clear();
    return out;
  }
  const size_t hold = longest_stop_prefix_suffix();
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

size_t Generation::StopStringFilter::longest_stop_prefix_suffix() const {
  size_t best = 0;
  for (const std::string& stop : stops_) {
    for (size_t n = std::min(stop.size() - 1, pending_.size()); n > best; --n) {
      if (pending_.compare(pending_.size() - n, n, stop, 0, n) == 0) {
        best = n;
        break;
      }
    }
  }
  return best;
}

Generation::Generation(const GenerateOptions& options, sampler::Sampler& sampler,
                       const std::vector<int32_t>& prompt, const std::vector<int32_t>& context)
    : options_(options), sampler_(sampler), filter_(options.stop_strings) {
  validate(options_);
  std::vector<int32_t> seen = context;
  seen.insert(seen.end(), prompt.begin(), prompt.end());
  sampler_.begin(seen);
  if (options_.tokenizer) {
    decoder_.emplace(*options_.tokenizer);
    if (options_.text_continues_prompt) decoder_->set_context(prompt);
  }
  result_.stats.prompt_tokens = static_cast<int64_t>(prompt.size());
  finished_ = options_.max_new_tokens == 0;
}

PieceLogprobs position_logprobs(const std::vector<float>& logits, int32_t chosen, int top_n) {
  float max_logit = -std::numeric_limits<float>::infinity();
  for (float v : logits) max_logit = std::max(max_logit, v);
  double sum = 0;
  for (float v : logits) sum += std::exp(static_cast<double>(v) - max_logit);
  const double log_norm = max_logit + std::log(sum);
  auto logprob = [&](int32_t id) {
    return static_cast<float>(static_cast<double>(logits[static_cast<size_t>(id)]) - log_norm);
  };
  PieceLogprobs out;
  out.chosen = {chosen, logprob(chosen)};
  // The top_n highest logits by one pass with a small sorted buffer (top_n <= 20).
  auto higher = [&](int32_t a, int32_t b) {
    const float la = logits[static_cast<size_t>(a)], lb = logits[static_cast<size_t>(b)];
    return la > lb || (la == lb && a < b);
  };
  std::vector<int32_t> best;
  best.reserve(static_cast<size_t>(top_n) + 1);
  for (int32_t id = 0; top_n > 0 && id < static_cast<int32_t>(logits.size()); ++id) {
    if (static_cast<int>(best.size()) == top_n && !higher(id, best.back())) continue;
    best.insert(std::upper_bound(best.begin(), best.end(), id, higher), id);
    if (static_cast<int>(best.size()) > top_n) best.pop_back();
  }
  for (int32_t id : best) out.top.push_back({id, logprob(id)});
  return out;
}

Generation::Step Generation::next(const std::vector<float>& logits, bool context_full) {
  const int32_t token = sampler_.sample(logits);
  if (options_.top_logprobs < 0) return feed(token, context_full);
  PieceLogprobs logprobs = position_logprobs(logits, token, options_.top_logprobs);
  result_.logprobs.push_back(logprobs);
  Step step = feed(token, context_full);
  step.piece.logprobs = std::move(logprobs);
  return step;
}

Generation::Step Generation::next_argmax(int32_t argmax, bool context_full) {
  if (argmax < 0) throw base::InvalidArgument("cannot sample: the logits hold a NaN");
  return feed(argmax, context_full);
}

bool Generation::argmax_only() const {
  return sampler_.params().argmax_only() && options_.top_logprobs < 0;
}

Generation::Step Generation::feed(int32_t token, bool context_full) {
  Step step;
  step.piece.token = token;
  result_.tokens.push_back(token);
  // Why this token would be the last one, before its text is known.
  const auto& eos = options_.eos_token_ids;
  if (!options_.ignore_eos && std::find(eos.begin(), eos.end(), token) != eos.end()) {
    step.stop = StopReason::kEos;
  } else if (generated() == options_.max_new_tokens) {
    step.stop = StopReason::kLength;
  } else if (context_full) {
    step.stop = StopReason::kContext;  // no room left to run this token
  }
  if (decoder_) {
    bool stop_string = false;
    step.piece.text = filter_.push(decoder_->push(token), stop_string);
    if (stop_string) {
      step.stop = StopReason::kStopString;
    } else if (step.stop) {
      step.piece.text += filter_.push(decoder_->flush(), stop_string);
      if (stop_string)
        step.stop = StopReason::kStopString;
      else
        step.piece.text += filter_.flush();
    }
  }
  result_.text += step.piece.text;
  if (step.stop) {
    result_.stop_reason = *step.stop;
    finished_ = true;
  }
  return step;
}

void Generation::cancel() {
  if (finished_) return;
  result_.stop_reason = StopReason::kCancelled;
  finished_ = true;
}

}  // namespace infer::generate

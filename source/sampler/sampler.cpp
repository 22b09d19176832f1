#include "infer/sampler/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "infer/base/error.h"

namespace infer::sampler {

namespace {

void require(bool ok, const char* name, double value, const char* range) {
  if (ok) return;
  std::ostringstream message;
  message << name << " must be " << range << ", got " << value;
  throw base::InvalidArgument(message.str());
}

using Candidate = std::pair<float, int32_t>;  // (scaled logit, token id)

// Decreasing logit, then increasing id, so that equal logits keep a stable order.
bool higher(const Candidate& a, const Candidate& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}

float best_logit(const std::vector<Candidate>& c) {
  return std::max_element(c.begin(), c.end(),
                          [](const Candidate& a, const Candidate& b) { return a.first < b.first; })
      ->first;
}

// Sum of exp(logit - top): the softmax denominator relative to the best logit.
double relative_mass(std::vector<Candidate>::const_iterator begin,
                     std::vector<Candidate>::const_iterator end, float top) {
  double total = 0;
  for (auto it = begin; it != end; ++it) total += std::exp(static_cast<double>(it->first - top));
  return total;
}

// Candidates for `scores` at `temperature`, as HF's TemperatureLogitsWarper scales them. The
// softmax of logits with a +inf among them puts all the mass, evenly, on the +inf ones; of logits
// that are all -inf it is undefined. Both are settled here so that the warpers below only ever
// see a finite best logit.
void scale(const std::vector<float>& scores, float temperature, std::vector<Candidate>& c) {
  const float inf = std::numeric_limits<float>::infinity();
  const float best = *std::max_element(scores.begin(), scores.end());
  if (best == -inf) throw base::InvalidArgument("cannot sample: every logit is -inf");
  c.clear();
  if (best == inf) {
    for (size_t i = 0; i < scores.size(); ++i)
      if (scores[i] == inf) c.emplace_back(0.0f, static_cast<int32_t>(i));
    return;
  }
  // A tiny temperature can overflow best / temperature; the softmax does not change when every
  // logit is shifted by the best, and then the scaled values stay at or below 0.
  const float shift = std::isfinite(best / temperature) ? 0.0f : best;
  c.resize(scores.size());
  for (size_t i = 0; i < scores.size(); ++i)
    c[i] = {(scores[i] - shift) / temperature, static_cast<int32_t>(i)};
}

// HF's TopKLogitsWarper: every token scoring at least the k-th best stays (ties included).
// Selection, not a sort.
void keep_top_k(std::vector<Candidate>& c, int64_t k) {
  if (k <= 0 || k >= static_cast<int64_t>(c.size())) return;
  std::nth_element(c.begin(), c.begin() + (k - 1), c.end(), higher);
  const float kth = c[k - 1].first;
  c.erase(std::partition(c.begin(), c.end(), [&](const Candidate& e) { return e.first >= kth; }),
          c.end());
}

// HF's TopPLogitsWarper: a token stays while the probability ranked above it is below top_p.
// A token less likely than (1 - top_p) / (n - 1) can never be inside that nucleus, so only the
// few tokens above that cut-off are sorted.
void keep_top_p(std::vector<Candidate>& c, float top_p) {
  if (top_p >= 1.0f || c.size() <= 1) return;
  const float top = best_logit(c);
  const double total = relative_mass(c.begin(), c.end(), top);
  const double cutoff = (1.0 - top_p) / static_cast<double>(c.size() - 1) * total;
  auto likely_end = std::partition(c.begin(), c.end(), [&](const Candidate& e) {
    return std::exp(static_cast<double>(e.first - top)) >= cutoff;
  });
  std::sort(c.begin(), likely_end, higher);
  double above = 0;
  size_t keep = 0;
  const auto likely = static_cast<size_t>(likely_end - c.begin());
  while (keep < likely && above < top_p * total) {
    above += std::exp(static_cast<double>(c[keep].first - top));
    ++keep;
  }
  c.resize(std::max<size_t>(keep, 1));
}

// HF's MinPLogitsWarper: drop tokens less likely than min_p times the most likely one.
void keep_min_p(std::vector<Candidate>& c, float min_p) {
  if (min_p <= 0.0f) return;
  const float threshold = best_logit(c) + std::log(min_p);
  c.erase(
      std::partition(c.begin(), c.end(), [&](const Candidate& e) { return e.first >= threshold; }),
      c.end());
}

}  // namespace

void SamplingParams::validate() const {
  require(std::isfinite(temperature) && temperature >= 0, "temperature", temperature,
          ">= 0 (0 = greedy)");
  require(top_k >= 0, "top_k", static_cast<double>(top_k), ">= 0 (0 = off)");
  require(top_p > 0 && top_p <= 1, "top_p", top_p, "in (0, 1] (1 = off)");
  require(min_p >= 0 && min_p <= 1, "min_p", min_p, "in [0, 1] (0 = off)");
  require(std::isfinite(repetition_penalty) && repetition_penalty > 0, "repetition_penalty",
          repetition_penalty, "> 0 (1 = off)");
  require(frequency_penalty >= -2 && frequency_penalty <= 2, "frequency_penalty", frequency_penalty,
          "in [-2, 2] (0 = off)");
  require(presence_penalty >= -2 && presence_penalty <= 2, "presence_penalty", presence_penalty,
          "in [-2, 2] (0 = off)");
}

Sampler::Sampler(SamplingParams params) : params_(params) {
  params_.validate();
  rng_.seed(params_.seed ? *params_.seed : std::random_device{}());
}

void Sampler::begin(const std::vector<int32_t>& context) {
  in_context_.clear();
  generated_.clear();
  for (int32_t id : context) ++in_context_[id];
}

void Sampler::record(int32_t token) {
  ++in_context_[token];
  ++generated_[token];
}

void Sampler::apply_penalties(std::vector<float>& logits) const {
  const auto vocab = static_cast<int32_t>(logits.size());
  if (params_.repetition_penalty != 1.0f) {
    for (const auto& [id, count] : in_context_) {
      if (id < 0 || id >= vocab) continue;
      float& l = logits[id];
      l = l > 0 ? l / params_.repetition_penalty : l * params_.repetition_penalty;
    }
  }
  if (params_.frequency_penalty != 0.0f || params_.presence_penalty != 0.0f) {
    for (const auto& [id, count] : generated_) {
      if (id < 0 || id >= vocab) continue;
      logits[id] -=
          params_.frequency_penalty * static_cast<float>(count) + params_.presence_penalty;
    }
  }
}

const std::vector<std::pair<float, int32_t>>& Sampler::truncate(const std::vector<float>& logits) {
  if (logits.empty()) throw base::InvalidArgument("cannot sample from empty logits");
  // The logits are copied only when a penalty has to change them.
  const bool penalised = params_.penalised();
  if (penalised) {
    scratch_ = logits;
    apply_penalties(scratch_);
  }
  const std::vector<float>& scores = penalised ? scratch_ : logits;
  // A NaN logit means the model's numbers broke down; no choice made from them means anything.
  const auto nan =
      std::find_if(scores.begin(), scores.end(), [](float l) { return std::isnan(l); });
  if (nan != scores.end()) {
    throw base::InvalidArgument("cannot sample: the logit of token " +
                                std::to_string(nan - scores.begin()) + " is NaN");
  }
  auto& c = candidates_;
  if (params_.greedy()) {
    // torch.argmax: the first of equal maxima.
    const auto best = std::max_element(scores.begin(), scores.end()) - scores.begin();
    c.assign(1, {0.0f, static_cast<int32_t>(best)});
    return c;
  }
  scale(scores, params_.temperature, c);
  keep_top_k(c, params_.top_k);
  keep_top_p(c, params_.top_p);
  keep_min_p(c, params_.min_p);
  return c;
}

std::vector<std::pair<int32_t, float>> Sampler::distribution(const std::vector<float>& logits) {
  std::vector<Candidate> c = truncate(logits);
  std::sort(c.begin(), c.end(), higher);
  const float top = c.front().first;
  const double total = relative_mass(c.begin(), c.end(), top);
  std::vector<std::pair<int32_t, float>> out(c.size());
  for (size_t i = 0; i < c.size(); ++i) {
    out[i] = {c[i].second,
              static_cast<float>(std::exp(static_cast<double>(c[i].first - top)) / total)};
  }
  return out;
}

int32_t Sampler::sample(const std::vector<float>& logits) {
  // The candidates stay unsorted: one pass for the mass, one for the draw.
  const std::vector<Candidate>& c = truncate(logits);
  int32_t token = c.back().second;  // where rounding leaves u above the summed mass
  if (c.size() > 1) {
    const float top = best_logit(c);
    double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_) *
               relative_mass(c.begin(), c.end(), top);
    for (const Candidate& e : c) {
      u -= std::exp(static_cast<double>(e.first - top));
      if (u < 0) {
        token = e.second;
        break;
      }
    }
  }
  record(token);
  return token;
}

}  // namespace infer::sampler

#pragma once
// One forward pass's worth of work: rows of (token, sequence, position), any mix of prompt
// chunks and decode tokens of different sequences. The rows of a sequence are consecutive
// positions that continue what its KV cache holds, and a row may ask for its logits.
#include <cstdint>
#include <vector>

namespace infer::model {

struct Batch {
  std::vector<int32_t> tokens;
  std::vector<int32_t> sequences;  // KvCache sequence ids
  std::vector<int32_t> positions;
  std::vector<uint8_t> want_logits;

  void add(int32_t token, int32_t sequence, int32_t position, bool logits) {
    tokens.push_back(token);
    sequences.push_back(sequence);
    positions.push_back(position);
    want_logits.push_back(logits ? 1 : 0);
  }
  void clear() {
    tokens.clear();
    sequences.clear();
    positions.clear();
    want_logits.clear();
  }
  int64_t size() const { return static_cast<int64_t>(tokens.size()); }
  bool empty() const { return tokens.empty(); }
};

}  // namespace infer::model

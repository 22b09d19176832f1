#pragma once
// The BPE model of HF tokenizers (internal): a vocabulary, ranked merges over id pairs, optional
// byte fallback and unknown-token handling. Merging uses a priority queue over candidate pairs,
// so a word of n characters costs O(n log n), not O(n²).
#include <cstdint>
#include <deque>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace infer::tokenizer {

class BpeModel {
 public:
  struct Options {
    bool byte_fallback = false;
    bool ignore_merges = false;  // a word that is itself in the vocabulary is emitted whole
    bool fuse_unk = false;
    std::optional<int32_t> unk_id;
  };

  BpeModel(std::unordered_map<std::string, int32_t> vocab,
           const std::vector<std::pair<std::string, std::string>>& merges, Options options,
           const std::string& source);

  // Appends the ids of one pre-tokenized word to `out`. Thread-safe.
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

  std::optional<int32_t> id_of(std::string_view piece) const;
  // The id of byte-fallback token <0xHH>, if the vocabulary has it.
  std::optional<int32_t> byte_id(unsigned char byte) const { return byte_ids_[byte]; }

 private:
  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }

  // Keys view the strings in pieces_, so look-ups of substrings allocate nothing.
  std::vector<std::string> pieces_;
  std::unordered_map<std::string_view, int32_t> vocab_;
  std::unordered_map<uint64_t, Merge> merges_;
  std::optional<int32_t> byte_ids_[256];
  Options options_;

  void merge_word(std::string_view word, std::vector<int32_t>& out) const;

  // Words repeat a lot in real text; short ones are remembered across calls (HF keeps a similar
  // cache). Keys view strings in cache_keys_, a deque so they never move; the whole cache is
  // dropped when it reaches kCacheCapacity words.
  static constexpr size_t kCacheCapacity = 1 << 16;
  static constexpr size_t kMaxCachedWordBytes = 64;
  mutable std::shared_mutex cache_mutex_;
  mutable std::deque<std::string> cache_keys_;
  mutable std::unordered_map<std::string_view, std::vector<int32_t>> cache_;
};

}  // namespace infer::tokenizer

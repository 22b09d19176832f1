#include "bpe_model.h"

#include <cstdio>
#include <mutex>
#include <queue>

#include "infer/base/error.h"
#include "utf8.h"

namespace infer::tokenizer {

BpeModel::BpeModel(std::unordered_map<std::string, int32_t> vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges, Options options,
                   const std::string& source)
    : options_(options) {
  pieces_.reserve(vocab.size());
  vocab_.reserve(vocab.size());
  for (auto& [piece, id] : vocab) {
    pieces_.push_back(piece);
    vocab_.emplace(pieces_.back(), id);  // reserve() above keeps the strings in place
  }
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    auto a = id_of(left);
    auto b = id_of(right);
    auto merged = id_of(left + right);
    if (!a || !b || !merged) {
      throw base::FormatError(source + ": model.merges[" + std::to_string(rank) + "] '" + left +
                              " " + right + "' uses a token that is not in model.vocab");
    }
    // The first (lowest-rank) occurrence of a pair wins, as in HF tokenizers.
    merges_.emplace(pair_key(*a, *b), Merge{static_cast<int32_t>(rank), *merged});
  }
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", byte);
    byte_ids_[byte] = id_of(name);
  }
}

std::optional<int32_t> BpeModel::id_of(std::string_view piece) const {
  auto it = vocab_.find(piece);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (word.size() > kMaxCachedWordBytes) {
    merge_word(word, out);
    return;
  }
  {
    std::shared_lock<std::shared_mutex> lock(cache_mutex_);
    auto it = cache_.find(word);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  merge_word(word, ids);
  out.insert(out.end(), ids.begin(), ids.end());
  std::unique_lock<std::shared_mutex> lock(cache_mutex_);
  if (cache_.size() >= kCacheCapacity) {
    cache_.clear();
    cache_keys_.clear();
  }
  if (cache_.count(word)) return;  // another thread got there first
  cache_keys_.emplace_back(word);
  cache_.emplace(cache_keys_.back(), std::move(ids));
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& out) const {
  if (options_.ignore_merges) {
    if (auto id = id_of(word)) {
      out.push_back(*id);
      return;
    }
  }

  // Symbols form a doubly linked list over the word; merged-away symbols get length 0.
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
    size_t length;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  auto add = [&](int32_t id, size_t length) {
    const int32_t index = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, index - 1, -1, length});
    if (index > 0) symbols[index - 1].next = index;
  };
  bool last_was_unk = false;
  for (size_t i = 0; i < word.size();) {
    const size_t n = utf8::char_length(word, i);
    const std::string_view ch = word.substr(i, n);
    i += n;
    if (auto id = id_of(ch)) {
      add(*id, n);
      last_was_unk = false;
      continue;
    }
    if (options_.byte_fallback) {
      bool all_bytes_known = true;
      for (char c : ch)
        all_bytes_known = all_bytes_known && byte_ids_[static_cast<unsigned char>(c)];
      if (all_bytes_known) {
        for (char c : ch) add(*byte_ids_[static_cast<unsigned char>(c)], 1);
        last_was_unk = false;
        continue;
      }
    }
    if (!options_.unk_id) continue;  // HF drops characters it cannot represent at all
    if (options_.fuse_unk && last_was_unk) {
      symbols.back().length += n;
    } else {
      add(*options_.unk_id, n);
    }
    last_was_unk = true;
  }

  struct Candidate {
    int32_t rank;
    int32_t pos;
    int32_t new_id;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto consider = [&](int32_t pos) {
    if (pos < 0) return;
    const int32_t next = symbols[pos].next;
    if (next < 0) return;
    auto it = merges_.find(pair_key(symbols[pos].id, symbols[next].id));
    if (it != merges_.end()) queue.push({it->second.rank, pos, it->second.new_id});
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i) consider(i);

  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (left.length == 0 || left.next < 0) continue;  // stale: merged away since it was queued
    Symbol& right = symbols[left.next];
    auto it = merges_.find(pair_key(left.id, right.id));
    if (it == merges_.end() || it->second.new_id != top.new_id) continue;  // stale pair
    left.id = top.new_id;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = top.pos;
    consider(left.prev);
    consider(top.pos);
  }
  for (const Symbol& s : symbols) {
    if (s.length > 0) out.push_back(s.id);
  }
}

}  // namespace infer::tokenizer

#include "infer/generate/session.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "infer/base/error.h"
#include "infer/base/files.h"
#include "infer/base/json_input.h"
#include "infer/generate/generate_in_state.h"
#include "infer/generate/generation.h"
#include "infer/model/inference_state.h"

namespace infer::generate {

namespace {

using nlohmann::json;

// Session file: magic, u32 version, u32 reserved, u64 header length, a JSON header, then the
// tokens (i32) and the KV cache (f32, InferenceState::cached_kv's layout), little-endian.
constexpr char kMagic[8] = {'I', 'N', 'F', 'E', 'R', 'S', 'E', 'S'};
constexpr uint32_t kVersion = 1;
constexpr size_t kPreamble = 8 + 4 + 4 + 8;

std::string hex(uint64_t v) {
  std::ostringstream out;
  out << std::hex << v;
  return out.str();
}

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

template <typename T>
void put(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

}  // namespace

Session::Session(const model::Model& model, const tokenizer::Tokenizer& tokenizer,
                 ChatTemplate chat, std::string system_message)
    : model_(model),
      tokenizer_(tokenizer),
      chat_(std::move(chat)),
      state_(std::make_unique<model::InferenceState>(model)) {
  check_tokenizer_fits(model.config(), tokenizer);
  if (!system_message.empty()) messages_.push_back({"system", std::move(system_message)});
  turn_ends_.push_back({messages_.size(), 0});
}

Session::~Session() = default;

int64_t Session::context_capacity() const { return state_->capacity(); }

GenerateResult Session::reply(const std::string& user_message, GenerateOptions options,
                              sampler::Sampler& sampler, const StreamCallback& on_piece) {
  std::vector<ChatMessage> conversation = messages_;
  conversation.push_back({"user", user_message});
  const std::vector<int32_t> ids =
      chat_.encode(tokenizer_, conversation, /*add_generation_prompt=*/true);
  if (static_cast<int64_t>(ids.size()) >= state_->capacity()) {
    throw base::InvalidArgument("the conversation is " + std::to_string(ids.size()) +
                                " tokens with this message, and the context holds " +
                                std::to_string(state_->capacity()) +
                                ": roll back or reset the session");
  }
  options.tokenizer = &tokenizer_;
  options.text_continues_prompt = false;
  if (options.eos_token_ids.empty())
    options.eos_token_ids = default_eos_ids(model_.config(), &tokenizer_);
  validate(options);  // before the cache is touched

  // Whatever the cache already holds of this rendering is kept, the rest is run; at least the
  // last token is run, for the logits of the first reply token.
  const size_t reused = std::min(common_prefix(tokens_, ids), ids.size() - 1);
  state_->truncate(static_cast<int64_t>(reused));
  tokens_.resize(reused);
  const std::vector<int32_t> prompt(ids.begin() + static_cast<std::ptrdiff_t>(reused), ids.end());
  GenerateResult result;
  try {
    result = generate(*state_, prompt, options, sampler, on_piece);
  } catch (...) {
    state_->truncate(static_cast<int64_t>(tokens_.size()));  // the cache holds what is certain
    throw;
  }
  result.stats.reused_tokens = static_cast<int64_t>(reused);
  // Every generated token but the last has been run through the model.
  tokens_.insert(tokens_.end(), prompt.begin(), prompt.end());
  if (!result.tokens.empty())
    tokens_.insert(tokens_.end(), result.tokens.begin(), result.tokens.end() - 1);
  messages_ = std::move(conversation);
  messages_.push_back({"assistant", result.text});
  turn_ends_.push_back({messages_.size(), tokens_.size()});
  return result;
}

void Session::rollback(int64_t turn) {
  if (turn < 0 || turn > turns()) {
    throw base::InvalidArgument("cannot roll back to turn " + std::to_string(turn) +
                                ": the session has turns 0.." + std::to_string(turns()));
  }
  const TurnEnd end = turn_ends_[static_cast<size_t>(turn)];
  turn_ends_.resize(static_cast<size_t>(turn) + 1);
  messages_.resize(end.messages);
  // A later turn may have re-tokenised the end of this one and kept less of it in the cache;
  // the next reply runs whatever is missing.
  tokens_.resize(std::min(end.tokens, tokens_.size()));
  state_->truncate(static_cast<int64_t>(tokens_.size()));
}

void Session::save(const std::string& path) const {
  json turns = json::array();
  for (const TurnEnd& t : turn_ends_) turns.push_back({t.messages, t.tokens});
  json messages = json::array();
  for (const ChatMessage& m : messages_)
    messages.push_back({{"role", m.role}, {"content", m.content}});
  const std::vector<float> kv = state_->cached_kv();
  const json header = {{"format", "libinfer session"},
                       {"model_fingerprint", hex(model_.fingerprint())},
                       {"chat_template", chat_.name()},
                       {"messages", messages},
                       {"turn_ends", turns},
                       {"n_tokens", tokens_.size()},
                       {"kv_floats", kv.size()}};
  const std::string header_text =
      header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out(kMagic, sizeof(kMagic));
  put(out, kVersion);
  put(out, uint32_t{0});
  put(out, static_cast<uint64_t>(header_text.size()));
  out += header_text;
  out.append(reinterpret_cast<const char*>(tokens_.data()), tokens_.size() * sizeof(int32_t));
  out.append(reinterpret_cast<const char*>(kv.data()), kv.size() * sizeof(float));

  base::write_file_atomically(path, out, "session file");
}

void Session::load(const std::string& path) {
  const std::string bytes = base::read_regular_file(path, "session file");
  const auto bad = [&](const std::string& why) {
    return base::FormatError(path + ": not a usable session file: " + why);
  };
  if (bytes.size() < kPreamble) throw bad("too short (" + std::to_string(bytes.size()) + " bytes)");
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    throw bad("bad magic (not a libinfer session)");
  uint32_t version;
  uint64_t header_len;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&header_len, bytes.data() + 16, 8);
  if (version != kVersion) {
    throw bad("format version " + std::to_string(version) + ", this build reads version " +
              std::to_string(kVersion));
  }
  if (header_len > bytes.size() - kPreamble) throw bad("truncated header");
  base::check_json_depth(std::string_view(bytes).substr(kPreamble, header_len), path);
  const json header =
      json::parse(bytes.begin() + kPreamble,
                  bytes.begin() + static_cast<std::ptrdiff_t>(kPreamble + header_len), nullptr,
                  /*allow_exceptions=*/false);
  if (!header.is_object()) throw bad("the header is not valid JSON");

  std::vector<ChatMessage> messages;
  std::vector<TurnEnd> turn_ends;
  size_t n_tokens = 0, kv_floats = 0;
  std::string fingerprint;
  // Counts can be no larger than the file holds bytes, which also keeps every product below
  // in range.
  const auto count = [&](const json& value, const char* name) {
    return static_cast<size_t>(
        base::json_integer(value, std::string(name), 0, static_cast<int64_t>(bytes.size())));
  };
  try {
    fingerprint = header.at("model_fingerprint").get<std::string>();
    n_tokens = count(header.at("n_tokens"), "n_tokens");
    kv_floats = count(header.at("kv_floats"), "kv_floats");
    for (const json& m : header.at("messages"))
      messages.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
    for (const json& t : header.at("turn_ends"))
      turn_ends.push_back(
          {count(t.at(0), "a turn's message count"), count(t.at(1), "a turn's token count")});
  } catch (const json::exception& e) {
    throw bad(std::string("header fields: ") + e.what());
  } catch (const base::FormatError& e) {
    throw bad(e.what());
  }
  if (fingerprint != hex(model_.fingerprint())) {
    throw base::InvalidArgument(path + ": this session was saved with another model (fingerprint " +
                                fingerprint + ", this model's is " + hex(model_.fingerprint()) +
                                ")");
  }
  const size_t payload = kPreamble + header_len;
  if (bytes.size() != payload + n_tokens * sizeof(int32_t) + kv_floats * sizeof(float))
    throw bad("its size does not match its header (truncated or padded)");
  if (static_cast<int64_t>(n_tokens) > state_->capacity()) {
    throw base::InvalidArgument(path + ": the saved session holds " + std::to_string(n_tokens) +
                                " tokens, more than this context's " +
                                std::to_string(state_->capacity()));
  }
  if (turn_ends.empty()) throw bad("no turns");
  for (size_t i = 0; i < turn_ends.size(); ++i) {
    const bool ordered = i == 0 || (turn_ends[i].messages > turn_ends[i - 1].messages &&
                                    turn_ends[i].tokens >= turn_ends[i - 1].tokens);
    if (!ordered || turn_ends[i].messages > messages.size() || turn_ends[i].tokens > n_tokens)
      throw bad("inconsistent turn boundaries");
  }
  if (turn_ends.back().messages != messages.size() || turn_ends.back().tokens != n_tokens)
    throw bad("inconsistent turn boundaries");
  std::vector<int32_t> tokens(n_tokens);
  std::memcpy(tokens.data(), bytes.data() + payload, n_tokens * sizeof(int32_t));
  for (int32_t id : tokens) {
    if (id < 0 || id >= model_.config().vocab_size) throw bad("a token id outside the vocabulary");
  }
  const auto& c = model_.config();
  if (kv_floats != 2 * static_cast<size_t>(c.n_layers * c.n_kv_heads * c.head_dim) * n_tokens)
    throw bad("its KV cache does not have this model's shape");
  std::vector<float> kv(kv_floats);
  std::memcpy(kv.data(), bytes.data() + payload + n_tokens * sizeof(int32_t),
              kv_floats * sizeof(float));
  state_->restore_kv(tokens, kv);
  messages_ = std::move(messages);
  turn_ends_ = std::move(turn_ends);
  tokens_ = std::move(tokens);
}

}  // namespace infer::generate

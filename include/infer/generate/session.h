#pragma once
// One conversation with a chat model: its messages, the tokens its KV cache holds, and the cache
// itself. Many sessions can share one loaded Model. Each reply renders the whole conversation
// with the chat template and runs only the tokens that are not already in the cache; rolling
// back to an earlier turn just shortens the cache.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "infer/generate/chat_template.h"
#include "infer/generate/generate.h"
#include "infer/model/model.h"
#include "infer/sampler/sampler.h"
#include "infer/tokenizer/tokenizer.h"

namespace infer::model {
class InferenceState;
}

namespace infer::generate {

class Session {
 public:
  // `model` and `tokenizer` must outlive the session. An empty `system_message` means none.
  Session(const model::Model& model, const tokenizer::Tokenizer& tokenizer, ChatTemplate chat,
          std::string system_message = "");
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Adds the user's message, generates the assistant's reply (streamed through `on_piece`) and
  // records the turn, even a cancelled or cut-off one. options.tokenizer is the session's; empty
  // options.eos_token_ids mean the model's (config.json, generation_config.json) and the
  // tokenizer's EOS.
  // Throws InvalidArgument, leaving the session as it was, when the conversation no longer fits
  // in the context (roll back or reset) or the message cannot be rendered.
  GenerateResult reply(const std::string& user_message, GenerateOptions options,
                       sampler::Sampler& sampler, const StreamCallback& on_piece = nullptr);

  // Completed user/assistant exchanges.
  int64_t turns() const { return static_cast<int64_t>(turn_ends_.size()) - 1; }
  // The conversation so far, the system message first when there is one.
  const std::vector<ChatMessage>& messages() const { return messages_; }
  // The tokens the KV cache holds, in order.
  const std::vector<int32_t>& cached_tokens() const { return tokens_; }
  int64_t context_capacity() const;

  // Back to right after turn `turn` (0: before the first). Only shortens the cache: nothing is
  // copied or recomputed. Throws InvalidArgument for a turn outside [0, turns()].
  void rollback(int64_t turn);
  // Back to the start (the system message only).
  void reset() { rollback(0); }

  // Writes the whole session (messages, turns, tokens, KV cache) to `path` in a versioned file;
  // the file is replaced only once it is complete.
  void save(const std::string& path) const;
  // Replaces this session with the one saved at `path`. Throws FileError, FormatError (damaged
  // file, other version) or InvalidArgument (saved with another model, or longer than this
  // session's context); the session is unchanged then.
  void load(const std::string& path);

 private:
  struct TurnEnd {
    size_t messages = 0;
    size_t tokens = 0;
  };

  const model::Model& model_;
  const tokenizer::Tokenizer& tokenizer_;
  ChatTemplate chat_;
  std::unique_ptr<model::InferenceState> state_;
  std::vector<ChatMessage> messages_;
  std::vector<int32_t> tokens_;     // == the first state_->n_past() tokens of the conversation
  std::vector<TurnEnd> turn_ends_;  // [0] is the start; [n] is right after turn n
};

}  // namespace infer::generate

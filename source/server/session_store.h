#pragma once
// Conversations kept by the server (/v1/sessions): a system prompt, sampling settings and the
// turns so far. Each new message is answered as a chat completion of the whole conversation, so
// the Engine's prefix cache holds the earlier turns and only the new turn's tokens are computed.
// Sessions idle past a timeout are dropped (save one to keep it); a session answers one message
// at a time. Saved sessions live in one folder under names the server chooses: a client never
// gives a path. Thread-safe.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace infer::server {

struct SessionStoreOptions {
  std::string dir;  // where save/load read and write; empty: saving is refused
  std::chrono::seconds idle_timeout{3600};
  size_t max_sessions = 1024;  // the least recently used idle one goes when a new one needs room
};

class SessionStore {
 public:
  using Clock = std::chrono::steady_clock;

  // `check_settings` throws an ApiError for settings no chat request could use (they are
  // checked once, at creation and load, as part of a chat request body).
  SessionStore(SessionStoreOptions options,
               std::function<void(const nlohmann::ordered_json& settings)> check_settings);

  // POST /v1/sessions {"system": TEXT, and chat request fields (temperature, top_p, max_tokens,
  // stop, ...) every message uses unless it gives its own} -> the session's description.
  nlohmann::ordered_json create(const nlohmann::ordered_json& body);
  // GET /v1/sessions: every live session, most recently used first, without their turns.
  nlohmann::ordered_json list();
  // GET /v1/sessions/{id}: its settings and turns. ApiError 404 for an unknown id.
  nlohmann::ordered_json describe(const std::string& id);

  // A new message {"content": TEXT, "stream", "stream_options", overrides...}: marks the session
  // busy and returns the chat completion body to run (the conversation with the new message
  // appended). ApiError 404 for an unknown id, 409 while another message is being answered, 400
  // for a body without text content.
  nlohmann::ordered_json begin_message(const std::string& id, const nlohmann::ordered_json& body);
  // The message's reply ended (complete, cut off or cancelled): recorded as the next turn.
  void end_message(const std::string& id, const std::string& reply);
  // The message was not answered (refused, or the engine failed): the session is as before.
  void abort_message(const std::string& id);

  // Back to right after turn `turn` (0: before the first). 400 for a turn outside [0, turns].
  nlohmann::ordered_json rollback(const std::string& id, const nlohmann::ordered_json& body);
  void remove(const std::string& id);
  // Writes the session into the folder and returns {"name": NAME} to load it by.
  nlohmann::ordered_json save(const std::string& id);
  // {"name": NAME} -> a new live session with the saved conversation, described.
  nlohmann::ordered_json load(const nlohmann::ordered_json& body);

 private:
  struct Session {
    std::string id;
    std::string system;
    nlohmann::ordered_json settings = nlohmann::ordered_json::object();
    std::vector<std::string> user, assistant;  // one of each per turn
    std::string pending_user;                  // the message being answered
    bool busy = false;
    int64_t created = 0;  // Unix seconds
    Clock::time_point last_used;
  };

  Session& find(const std::string& id);  // under mutex_; 404 when unknown
  std::string add(Session session);      // under mutex_; returns the new id
  void evict_idle();                     // under mutex_
  static nlohmann::ordered_json describe(const Session& s, bool with_turns);
  Session read_saved(const nlohmann::ordered_json& saved, const std::string& name) const;

  SessionStoreOptions options_;
  std::function<void(const nlohmann::ordered_json&)> check_settings_;
  std::mutex mutex_;
  std::map<std::string, Session> sessions_;
};

}  // namespace infer::server

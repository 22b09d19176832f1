#include "session_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <random>

#include "api_error.h"
#include "infer/base/error.h"
#include "infer/base/files.h"
#include "infer/base/json_input.h"
#include "openai_response.h"

namespace infer::server {

using json = nlohmann::ordered_json;

namespace {

constexpr const char* kSavedFormat = "libinfer-session";
constexpr int kSavedVersion = 1;
constexpr size_t kMaxSavedBytes = size_t{16} << 20;

// The chat request fields a session keeps as its settings, and a message may override.
bool is_setting(const std::string& key) {
  static const char* const kKeys[] = {"temperature",
                                      "top_p",
                                      "top_k",
                                      "min_p",
                                      "repetition_penalty",
                                      "frequency_penalty",
                                      "presence_penalty",
                                      "seed",
                                      "max_tokens",
                                      "max_completion_tokens",
                                      "stop",
                                      "logprobs",
                                      "top_logprobs"};
  return std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys);
}

json settings_of(const json& body) {
  json settings = json::object();
  for (auto it = body.begin(); it != body.end(); ++it)
    if (is_setting(it.key())) settings[it.key()] = it.value();
  return settings;
}

const json& object_body(const json& body) {
  if (!body.is_object()) throw invalid_request("", "the request body must be a JSON object");
  return body;
}

std::string string_field(const json& body, const char* name, bool required) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) throw invalid_request(name, std::string("'") + name + "' is required");
    return "";
  }
  if (!it->is_string()) throw invalid_request(name, std::string("'") + name + "' must be a string");
  return it->get<std::string>();
}

std::string new_id() {
  std::random_device random;
  char id[32];
  std::snprintf(id, sizeof(id), "sess_%08x%08x%08x", random(), random(), random());
  return id;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ApiError not_found(const std::string& id) {
  return ApiError(404, "not_found_error",
                  "no session '" + id + "' (expired, deleted or never made)");
}

// Saved names are the server's own session ids: letters, digits and '_' only, so that a name
// can never reach outside the folder.
bool is_saved_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// The saved file, read without following links or blocking on anything but a regular file.
std::string read_saved_file(const std::string& path, const std::string& name) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    throw ApiError(404, "not_found_error", "no saved session '" + name + "'", "name");
  }
  try {
    // Not through a link: the directory holds only what /save wrote.
    if (S_ISLNK(st.st_mode)) throw base::FileError(path + ": a symbolic link");
    return base::read_regular_file(path, "saved session", kMaxSavedBytes);
  } catch (const base::FileError&) {
    throw invalid_request("name", "saved session '" + name + "' cannot be read");
  }
}

}  // namespace

SessionStore::SessionStore(SessionStoreOptions options,
                           std::function<void(const json& settings)> check_settings)
    : options_(std::move(options)), check_settings_(std::move(check_settings)) {}

SessionStore::Session& SessionStore::find(const std::string& id) {
  evict_idle();
  auto it = sessions_.find(id);
  if (it == sessions_.end()) throw not_found(id);
  it->second.last_used = Clock::now();
  return it->second;
}

std::string SessionStore::add(Session session) {
  evict_idle();
  while (sessions_.size() >= options_.max_sessions) {
    auto oldest = sessions_.end();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (!it->second.busy &&
          (oldest == sessions_.end() || it->second.last_used < oldest->second.last_used))
        oldest = it;
    }
    if (oldest == sessions_.end())
      throw ApiError(503, "unavailable_error", "every session is answering a message; try later");
    sessions_.erase(oldest);
  }
  do {
    session.id = new_id();
  } while (sessions_.count(session.id));
  session.created = unix_now();
  session.last_used = Clock::now();
  const std::string id = session.id;
  sessions_.emplace(id, std::move(session));
  return id;
}

void SessionStore::evict_idle() {
  const Clock::time_point cutoff = Clock::now() - options_.idle_timeout;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (!it->second.busy && it->second.last_used < cutoff) {
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

json SessionStore::describe(const Session& s, bool with_turns) {
  json out = {{"id", s.id},
              {"object", "session"},
              {"created", s.created},
              {"system", s.system},
              {"settings", s.settings},
              {"turns", s.user.size()},
              {"title", s.user.empty() ? std::string() : base::utf8_prefix(s.user.front(), 60)},
              {"busy", s.busy}};
  if (with_turns) {
    json messages = json::array();
    for (size_t i = 0; i < s.user.size(); ++i) {
      messages.push_back({{"role", "user"}, {"content", s.user[i]}});
      messages.push_back({{"role", "assistant"}, {"content", s.assistant[i]}});
    }
    out["messages"] = std::move(messages);
  }
  return out;
}

json SessionStore::create(const json& body) {
  Session s;
  s.system = string_field(object_body(body), "system", false);
  s.settings = settings_of(body);
  check_settings_(s.settings);
  std::lock_guard<std::mutex> lock(mutex_);
  return describe(sessions_.at(add(std::move(s))), true);
}

json SessionStore::list() {
  std::lock_guard<std::mutex> lock(mutex_);
  evict_idle();
  std::vector<const Session*> live;
  for (const auto& [id, s] : sessions_) live.push_back(&s);
  std::sort(live.begin(), live.end(),
            [](const Session* a, const Session* b) { return a->last_used > b->last_used; });
  json data = json::array();
  for (const Session* s : live) data.push_back(describe(*s, false));
  return {{"object", "list"}, {"data", std::move(data)}};
}

json SessionStore::describe(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return describe(find(id), true);
}

json SessionStore::begin_message(const std::string& id, const json& body) {
  const std::string content = string_field(object_body(body), "content", true);
  std::lock_guard<std::mutex> lock(mutex_);
  Session& s = find(id);
  if (s.busy) {
    throw ApiError(409, "conflict_error",
                   "session '" + id + "' is still answering a message; stop it or wait");
  }
  json chat = s.settings;
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (is_setting(it.key()) || it.key() == "stream" || it.key() == "stream_options")
      chat[it.key()] = it.value();
  }
  json messages = json::array();
  if (!s.system.empty()) messages.push_back({{"role", "system"}, {"content", s.system}});
  for (size_t i = 0; i < s.user.size(); ++i) {
    messages.push_back({{"role", "user"}, {"content", s.user[i]}});
    messages.push_back({{"role", "assistant"}, {"content", s.assistant[i]}});
  }
  messages.push_back({{"role", "user"}, {"content", content}});
  chat["messages"] = std::move(messages);
  s.busy = true;
  s.pending_user = content;
  return chat;
}

void SessionStore::end_message(const std::string& id, const std::string& reply) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sessions_.find(id);  // busy sessions are never evicted
  if (it == sessions_.end()) return;
  Session& s = it->second;
  s.user.push_back(std::move(s.pending_user));
  s.assistant.push_back(reply);
  s.pending_user.clear();
  s.busy = false;
  s.last_used = Clock::now();
}

void SessionStore::abort_message(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  it->second.pending_user.clear();
  it->second.busy = false;
}

json SessionStore::rollback(const std::string& id, const json& body) {
  auto turn = object_body(body).find("turn");
  if (turn == body.end() || !turn->is_number_integer())
    throw invalid_request("turn", "'turn' must be an integer");
  std::lock_guard<std::mutex> lock(mutex_);
  Session& s = find(id);
  const bool huge = turn->is_number_unsigned() && turn->get<uint64_t>() > uint64_t{INT64_MAX};
  const int64_t n = huge ? INT64_MAX : turn->get<int64_t>();
  if (n < 0 || n > static_cast<int64_t>(s.user.size())) {
    throw invalid_request("turn", "'turn' must be in [0, " + std::to_string(s.user.size()) +
                                      "], got " + base::json_brief(*turn));
  }
  if (s.busy) throw ApiError(409, "conflict_error", "session '" + id + "' is answering a message");
  s.user.resize(static_cast<size_t>(n));
  s.assistant.resize(static_cast<size_t>(n));
  return describe(s, true);
}

void SessionStore::remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (find(id).busy)
    throw ApiError(409, "conflict_error", "session '" + id + "' is answering a message");
  sessions_.erase(id);
}

json SessionStore::save(const std::string& id) {
  if (options_.dir.empty()) {
    throw ApiError(400, "invalid_request_error",
                   "this server keeps no saved sessions: start it with --session_dir DIR");
  }
  json saved;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const Session& s = find(id);
    json turns = json::array();
    for (size_t i = 0; i < s.user.size(); ++i)
      turns.push_back({{"user", s.user[i]}, {"assistant", s.assistant[i]}});
    saved = {{"format", kSavedFormat},
             {"version", kSavedVersion},
             {"system", s.system},
             {"settings", s.settings},
             {"turns", std::move(turns)}};
  }
  // Written beside and renamed into place, so that a saved file is always whole.
  const std::string path = options_.dir + "/" + id + ".json";
  try {
    base::write_file_atomically(path, dump_json(saved), "saved session");
  } catch (const base::FileError&) {
    throw ApiError(500, "server_error", "cannot write the session into " + options_.dir);
  }
  return {{"name", id}};
}

SessionStore::Session SessionStore::read_saved(const json& saved, const std::string& name) const {
  auto damaged = [&](const std::string& why) {
    return invalid_request("name", "saved session '" + name + "' is damaged: " + why);
  };
  if (!saved.is_object() || saved.value("format", json()) != kSavedFormat)
    throw damaged("not a libinfer session file");
  if (saved.value("version", json()) != kSavedVersion)
    throw damaged("format version " + base::json_brief(saved.value("version", json())) +
                  ", expected 1");
  Session s;
  const json system = saved.value("system", json());
  const json settings = saved.value("settings", json());
  const json turns = saved.value("turns", json());
  if (!system.is_string() || !settings.is_object() || !turns.is_array())
    throw damaged("'system', 'settings' or 'turns' missing or of the wrong type");
  s.system = system.get<std::string>();
  s.settings = settings_of(settings);
  for (const json& turn : turns) {
    if (!turn.is_object() || !turn.value("user", json()).is_string() ||
        !turn.value("assistant", json()).is_string())
      throw damaged("a turn is not {\"user\": TEXT, \"assistant\": TEXT}");
    s.user.push_back(turn["user"].get<std::string>());
    s.assistant.push_back(turn["assistant"].get<std::string>());
  }
  return s;
}

json SessionStore::load(const json& body) {
  const std::string name = string_field(object_body(body), "name", true);
  if (options_.dir.empty()) {
    throw ApiError(400, "invalid_request_error",
                   "this server keeps no saved sessions: start it with --session_dir DIR");
  }
  if (!is_saved_name(name))
    throw invalid_request("name", "'name' must be a name /save returned (letters, digits, '_')");
  const std::string text = read_saved_file(options_.dir + "/" + name + ".json", name);
  json saved;
  try {
    base::check_json_depth(text, "the file");
    saved = json::parse(text);
  } catch (const std::exception& e) {
    throw invalid_request("name", "saved session '" + name + "' is damaged: " + e.what());
  }
  Session s = read_saved(saved, name);
  check_settings_(s.settings);
  std::lock_guard<std::mutex> lock(mutex_);
  return describe(sessions_.at(add(std::move(s))), true);
}

}  // namespace infer::server

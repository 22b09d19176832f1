#pragma once
// The HTTP front of the Engine: OpenAI's chat and text completion endpoints (whole replies and
// server-sent-event streams), the model list, a health check, tokenize/detokenize and Prometheus
// metrics, on cpp-httplib. Every
// completion is one Engine request, so concurrency, prefix caching and cancellation come from
// the Engine; a streaming client that disconnects cancels its request.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>

#include "infer/engine/engine.h"
#include "infer/generate/chat_template.h"
#include "infer/tokenizer/tokenizer.h"
#include "metrics.h"
#include "openai_request.h"
#include "openai_response.h"
#include "session_store.h"

namespace httplib {
class Server;
struct Response;
}  // namespace httplib

namespace infer::server {

struct ServerOptions {
  std::string model_name = "libinfer";      // what /v1/models lists and replies carry
  std::string api_key;                      // when set, requests need "Authorization: Bearer KEY"
  std::string cors_origin;                  // when set, browsers from this origin may call the API
  size_t max_body_bytes = size_t{8} << 20;  // larger bodies get 413
  int64_t default_max_tokens = 1024;        // for requests that give no max_tokens
  int threads = 128;                        // HTTP workers; each stream holds one
  SessionStoreOptions sessions;             // /v1/sessions
};

class HttpServer {
 public:
  // Answers 503 (unavailable_error) everywhere, /health included, until serve_model().
  explicit HttpServer(ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Starts answering with this engine; `engine`, `tokenizer` and `chat` (absent: the chat
  // endpoint answers 400) must outlive the server.
  void serve_model(engine::Engine& engine, const tokenizer::Tokenizer& tokenizer,
                   std::optional<generate::ChatTemplate> chat);

  // Binds `host`:`port` (0: any free port) and returns the port, or -1 when it cannot bind.
  int bind(const std::string& host, int port);
  // Serves until stop(); returns false if the socket failed.
  bool serve();
  // From any thread (a signal handler's helper thread included): stops accepting, ends running
  // streams with a final event (finish_reason "cancelled"), and makes serve() return.
  void stop();

 private:
  // Runs after a reply ends (whole, cut off, cancelled or failed), before its client sees the end.
  using EndCallback = std::function<void(const engine::Outcome& outcome)>;

  void add_routes();
  void add_session_routes();
  RequestLimits limits() const;
  ParsedRequest parse(const nlohmann::ordered_json& body, bool chat) const;
  // Runs a chat or text completion body: a whole reply, or a stream when it asks for one.
  void complete(const nlohmann::ordered_json& body, bool chat, httplib::Response& res,
                const EndCallback& on_end);
  // Submits the request and answers with its reply: a server-sent-event stream of its pieces,
  // or the whole reply once it has ended.
  void respond(const ResponseHead& head, ParsedRequest parsed, httplib::Response& res,
               const EndCallback& on_end);

  // Set once by serve_model() before ready_ turns true; read by handlers only after.
  engine::Engine* engine_ = nullptr;
  const tokenizer::Tokenizer* tokenizer_ = nullptr;
  std::optional<generate::ChatTemplate> chat_;
  std::atomic<bool> ready_{false};
  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  int listen_socket_ = -1;  // set by bind(), through httplib's socket options hook
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> next_id_{1};
  ServerMetrics metrics_;
  SessionStore sessions_;
  // Engine ids of the replies still generating, so that stop() can end them, and the replies
  // still being written, which stop() waits for: stopping httplib cuts the connections it is
  // writing to.
  std::mutex streams_mutex_;
  std::unordered_set<uint64_t> streams_;
  int64_t open_streams_ = 0;
  std::condition_variable streams_closed_;
};

}  // namespace infer::server

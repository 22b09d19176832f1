#include "http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>

#include "api_error.h"
#include "chat_page.h"
#include "infer/base/error.h"
#include "infer/base/json_input.h"
#include "openai_request.h"
#include "openai_response.h"
#include "request_fields.h"

namespace infer::server {

using json = nlohmann::ordered_json;

namespace {

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void send_error(httplib::Response& res, const ApiError& error) {
  res.status = error.status;
  res.set_content(dump_json(error.body()), "application/json");
}

// Runs `handler`, answering the errors it throws as JSON error bodies.
template <typename Handler>
void answer(httplib::Response& res, Handler&& handler) {
  try {
    handler();
  } catch (const ApiError& e) {
    send_error(res, e);
  } catch (const base::InvalidArgument& e) {
    send_error(res, invalid_request("", e.what()));
  } catch (const json::exception& e) {
    send_error(res, invalid_request("", e.what()));
  }
}

// The frames of one reply (SSE events, or the whole JSON body), produced on the Engine's thread
// and written by the HTTP worker that holds the connection.
struct StreamFrames {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<std::string> frames;
  bool finished = false;

  void push(std::string frame, bool last = false) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      frames.push_back(std::move(frame));
      finished = finished || last;
    }
    ready.notify_one();
  }
};

}  // namespace

HttpServer::HttpServer(ServerOptions options)
    : options_(std::move(options)),
      http_(std::make_unique<httplib::Server>()),
      // A session's settings are checked as the fields of a one-message chat request.
      sessions_(options_.sessions, [this](const json& settings) {
        json body = settings;
        body["messages"] = json::array({{{"role", "user"}, {"content", "hi"}}});
        parse(body, /*chat=*/true);
      }) {
  const int threads = options_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(options_.max_body_bytes);
  // Stream chunks are small writes: without TCP_NODELAY, Nagle's algorithm holds each one back
  // until the last is acknowledged, which the client's delayed ACK can stretch to 40 ms.
  http_->set_tcp_nodelay(true);
  // Debian's libcpp-httplib listens with a backlog of 5 (compiled in), so a burst of clients
  // connecting at once overflows it and waits for SYN retries, a second or more. The listening
  // socket is kept here and given a deep backlog in bind(). SO_REUSEADDR rather than httplib's
  // SO_REUSEPORT, so that a port another server holds is an error, not a silent share.
  http_->set_socket_options([this](int socket) {
    const int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_socket_ = socket;
  });
  add_routes();
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::serve_model(engine::Engine& engine, const tokenizer::Tokenizer& tokenizer,
                             std::optional<generate::ChatTemplate> chat) {
  engine_ = &engine;
  tokenizer_ = &tokenizer;
  chat_ = std::move(chat);
  ready_.store(true, std::memory_order_release);
}

int HttpServer::bind(const std::string& host, int port) {
  const int bound =
      port == 0 ? http_->bind_to_any_port(host) : (http_->bind_to_port(host, port) ? port : -1);
  // Listening again on a listening socket only changes its backlog.
  if (bound > 0 && listen_socket_ >= 0) ::listen(listen_socket_, SOMAXCONN);
  return bound;
}

bool HttpServer::serve() { return http_->listen_after_bind(); }

void HttpServer::stop() {
  if (stopping_.exchange(true)) return;
  {
    // Each cancelled stream gets its final chunk and [DONE] from on_done; its response is then
    // written to the end before the connections go.
    std::unique_lock<std::mutex> lock(streams_mutex_);
    for (uint64_t id : streams_) engine_->cancel(id);
    streams_closed_.wait_for(lock, std::chrono::seconds(10), [this] { return open_streams_ == 0; });
  }
  http_->stop();
}

void HttpServer::add_routes() {
  // Authentication and CORS before any route; /health stays public.
  http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!options_.cors_origin.empty()) {
      res.set_header("Access-Control-Allow-Origin", options_.cors_origin);
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
      res.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
      if (req.method == "OPTIONS") {
        res.status = 204;
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (!ready_.load(std::memory_order_acquire)) {
      send_error(res, ApiError(503, "unavailable_error", "the model is still loading"));
      return httplib::Server::HandlerResponse::Handled;
    }
    // The page is public (it asks for the key itself); the API behind it is not.
    if (options_.api_key.empty() || req.path == "/health" || req.path == "/")
      return httplib::Server::HandlerResponse::Unhandled;
    if (req.get_header_value("Authorization") != "Bearer " + options_.api_key) {
      send_error(res, ApiError(401, "authentication_error",
                               "a valid API key is required: send 'Authorization: Bearer KEY'"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Unknown routes, oversized bodies and anything else httplib answers itself get a JSON body.
  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) {
      send_error(res, ApiError(404, "not_found_error", "no route " + req.method + " " + req.path));
    } else if (res.status == 413) {
      send_error(res, ApiError(413, "invalid_request_error", "the request body is too large"));
    } else {
      send_error(res, ApiError(res.status, "invalid_request_error",
                               "the request could not be handled (HTTP " +
                                   std::to_string(res.status) + ")"));
    }
  });
  http_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
        std::string message = "internal error";
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          message += std::string(": ") + e.what();
        } catch (...) {
        }
        send_error(res, ApiError(500, "server_error", message));
      });

  http_->Get("/", [](const httplib::Request&, httplib::Response& res) {
    // The page talks to this server only and loads nothing from anywhere else.
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                   "connect-src 'self'; img-src 'self' data:");
    const std::string_view page = chat_page();
    res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
  });
  http_->Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  http_->Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    const json model = {{"id", options_.model_name},
                        {"object", "model"},
                        {"created", 0},
                        {"owned_by", "libinfer"},
                        {"context_length", engine_->context_limit()}};
    res.set_content(dump_json(json{{"object", "list"}, {"data", json::array({model})}}),
                    "application/json");
  });

  auto completion = [this](bool chat) {
    return [this, chat](const httplib::Request& req, httplib::Response& res) {
      answer(res, [&] { complete(parse_request_body(req.body), chat, res, nullptr); });
    };
  };
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(engine_->stats()), "text/plain; version=0.0.4");
  });
  // {"content": TEXT, "add_special": false, "parse_special": false} -> {"tokens": [ids]}
  http_->Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      const json body = parse_request_body(req.body);
      auto content = body.find("content");
      if (content == body.end() || !content->is_string())
        throw invalid_request("content", "'content' must be a string");
      tokenizer::EncodeOptions options;
      options.add_special_tokens = false;
      read_bool(body, "add_special", options.add_special_tokens);
      read_bool(body, "parse_special", options.parse_special);
      res.set_content(
          dump_json(json{{"tokens", tokenizer_->encode(content->get<std::string>(), options)}}),
          "application/json");
    });
  });
  // {"tokens": [ids]} -> {"content": TEXT} (special tokens kept; bytes that are not UTF-8 as
  // U+FFFD)
  http_->Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      const json body = parse_request_body(req.body);
      auto tokens = body.find("tokens");
      const std::vector<int32_t> ids =
          read_token_ids(tokens == body.end() ? json() : *tokens, "tokens", *tokenizer_);
      const json out = {{"content", tokenizer_->decode(ids, /*skip_special_tokens=*/false)}};
      res.set_content(dump_json(out), "application/json");
    });
  });
  http_->Post("/v1/chat/completions", completion(true));
  http_->Post("/v1/completions", completion(false));
  add_session_routes();
}

void HttpServer::add_session_routes() {
  auto reply = [](httplib::Response& res, const json& body) {
    res.set_content(dump_json(body), "application/json");
  };
  http_->Post("/v1/sessions", [this, reply](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] { reply(res, sessions_.create(parse_request_body(req.body))); });
  });
  http_->Get("/v1/sessions", [this, reply](const httplib::Request&, httplib::Response& res) {
    answer(res, [&] { reply(res, sessions_.list()); });
  });
  http_->Post("/v1/sessions/load",
              [this, reply](const httplib::Request& req, httplib::Response& res) {
                answer(res, [&] { reply(res, sessions_.load(parse_request_body(req.body))); });
              });
  const std::string session = R"(/v1/sessions/([A-Za-z0-9_]+))";
  http_->Get(session, [this, reply](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] { reply(res, sessions_.describe(req.matches[1])); });
  });
  http_->Delete(session, [this, reply](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      sessions_.remove(req.matches[1]);
      reply(res, {{"id", req.matches[1]}, {"object", "session.deleted"}, {"deleted", true}});
    });
  });
  http_->Post(session + "/rollback",
              [this, reply](const httplib::Request& req, httplib::Response& res) {
                answer(res, [&] {
                  reply(res, sessions_.rollback(req.matches[1], parse_request_body(req.body)));
                });
              });
  http_->Post(session + "/save",
              [this, reply](const httplib::Request& req, httplib::Response& res) {
                answer(res, [&] { reply(res, sessions_.save(req.matches[1])); });
              });
  // A new message: a chat completion of the whole conversation, recorded as the next turn when
  // its reply ends (a cancelled reply too, with the text it had).
  http_->Post(session + "/messages", [this](const httplib::Request& req, httplib::Response& res) {
    answer(res, [&] {
      const std::string id = req.matches[1];
      const json chat = sessions_.begin_message(id, parse_request_body(req.body));
      try {
        complete(chat, true, res, [this, id](const engine::Outcome& outcome) {
          if (outcome.error.empty()) {
            sessions_.end_message(id, outcome.result.text);
          } else {
            sessions_.abort_message(id);
          }
        });
      } catch (...) {
        sessions_.abort_message(id);
        throw;
      }
    });
  });
}

RequestLimits HttpServer::limits() const {
  RequestLimits limits;
  limits.context = engine_->context_limit();
  limits.default_max_tokens = options_.default_max_tokens;
  return limits;
}

ParsedRequest HttpServer::parse(const json& body, bool chat) const {
  if (!chat) return parse_completion_request(body, *tokenizer_, limits());
  if (!chat_)
    throw invalid_request("messages", "this model has no chat template; use /v1/completions");
  return parse_chat_request(body, *tokenizer_, *chat_, limits());
}

void HttpServer::complete(const json& body, bool chat, httplib::Response& res,
                          const EndCallback& on_end) {
  ParsedRequest parsed = parse(body, chat);
  ResponseHead head;
  head.chat = chat;
  head.created = unix_seconds();
  head.model = parsed.model.empty() ? options_.model_name : parsed.model;
  head.id = std::string(chat ? "chatcmpl-" : "cmpl-") + std::to_string(head.created) + "-" +
            std::to_string(next_id_++);
  respond(head, std::move(parsed), res, on_end);
}

void HttpServer::respond(const ResponseHead& head, ParsedRequest parsed, httplib::Response& res,
                         const EndCallback& on_end) {
  auto frames = std::make_shared<StreamFrames>();
  const bool streaming = parsed.stream;
  if (streaming && head.chat) frames->push(sse_event(completion_chunk(head, "", /*first=*/true)));
  const bool include_usage = parsed.include_usage;
  auto timer = std::make_shared<TokenTimer>(metrics_);
  // Logprobs of tokens whose text is still held back ride on the next chunk that has text, or
  // on the final one; a whole reply takes them all at the end.
  struct PendingLogprobs {
    std::vector<generate::PieceLogprobs> entries;
    int64_t text_offset = 0;
  };
  auto pending =
      parsed.request.options.top_logprobs >= 0 ? std::make_shared<PendingLogprobs>() : nullptr;
  auto take_logprobs = [pending, tokenizer = tokenizer_,
                        chat = head.chat](const generate::StopReason* stop) {
    if (!pending) return json(nullptr);
    auto entries = std::move(pending->entries);
    pending->entries.clear();
    if (stop) entries = shown_logprobs(std::move(entries), *stop);
    return logprobs_json(chat, entries, *tokenizer, pending->text_offset);
  };
  auto on_piece = [frames, head, timer, pending, take_logprobs,
                   streaming](const generate::StreamPiece& piece) {
    timer->token();
    if (pending && piece.logprobs) pending->entries.push_back(*piece.logprobs);
    if (streaming && !piece.text.empty()) {
      frames->push(sse_event(
          completion_chunk(head, piece.text, /*first=*/false, nullptr, take_logprobs(nullptr))));
    }
  };
  auto on_done = [this, frames, head, streaming, include_usage, take_logprobs,
                  on_end](const engine::Outcome& outcome) {
    if (on_end) on_end(outcome);  // before the client can see the end
    {
      std::lock_guard<std::mutex> lock(streams_mutex_);
      streams_.erase(outcome.id);
    }
    const generate::StopReason stop = outcome.result.stop_reason;
    if (!streaming) {
      // The status line has gone out already; an engine failure (an internal error, never a
      // bad request) is reported in the body.
      frames->push(outcome.error.empty()
                       ? dump_json(completion_object(head, outcome.result, take_logprobs(&stop)))
                       : dump_json(ApiError(500, "server_error", outcome.error).body()),
                   /*last=*/true);
      return;
    }
    if (!outcome.error.empty()) {
      frames->push(sse_event(ApiError(500, "server_error", outcome.error).body()));
    } else {
      frames->push(
          sse_event(completion_chunk(head, "", false, finish_reason(stop), take_logprobs(&stop))));
      if (include_usage) frames->push(sse_event(usage_chunk(head, outcome.result.stats)));
    }
    frames->push(kSseDone, /*last=*/true);
  };

  // Held until the id is known, so that on_done cannot run (and forget it) before it is recorded.
  std::unique_lock<std::mutex> registering(streams_mutex_);
  // Throws InvalidArgument (answered as 400) before anything is sent.
  const uint64_t id = engine_->submit(std::move(parsed.request), on_piece, on_done);
  streams_.insert(id);
  ++open_streams_;
  registering.unlock();
  // Whole replies are written the same way as streams, so that a client that goes away while
  // its reply is generated cancels it either way.
  if (streaming) res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      streaming ? "text/event-stream" : "application/json",
      [this, frames, id](size_t, httplib::DataSink& sink) {
        std::deque<std::string> ready;
        bool finished = false;
        {
          std::unique_lock<std::mutex> lock(frames->mutex);
          // Wake now and then to notice a client that went away while nothing was produced.
          frames->ready.wait_for(lock, std::chrono::milliseconds(200),
                                 [&] { return !frames->frames.empty() || frames->finished; });
          ready.swap(frames->frames);
          finished = frames->finished;
        }
        for (const std::string& frame : ready) {
          if (!sink.write(frame.data(), frame.size())) {
            engine_->cancel(id);  // the client disconnected: free its blocks at the next step
            return false;
          }
        }
        if (finished) {
          sink.done();
        } else if (ready.empty() && !sink.is_writable()) {
          engine_->cancel(id);
          return false;
        }
        return true;
      },
      [this, id](bool success) {
        if (!success) engine_->cancel(id);
        std::lock_guard<std::mutex> lock(streams_mutex_);
        --open_streams_;
        streams_closed_.notify_all();
      });
}

}  // namespace infer::server

#include "http_server.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>

#include "api_error.h"
#include "infer/base/error.h"
#include "openai_request.h"
#include "openai_response.h"

namespace infer::server {

using nlohmann::json;

namespace {

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json parse_body(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw invalid_request("", std::string("the body is not valid JSON: ") + e.what());
  }
}

void send_error(httplib::Response& res, const ApiError& error) {
  res.status = error.status;
  res.set_content(error.body().dump(), "application/json");
}

// The SSE frames of one streamed reply, produced on the Engine's thread and written by the HTTP
// worker that holds the connection.
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
    : options_(std::move(options)), http_(std::make_unique<httplib::Server>()) {
  const int threads = options_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(options_.max_body_bytes);
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
  if (port == 0) return http_->bind_to_any_port(host);
  return http_->bind_to_port(host, port) ? port : -1;
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
    if (options_.api_key.empty() || req.path == "/health")
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

  http_->Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  http_->Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    const json model = {{"id", options_.model_name},
                        {"object", "model"},
                        {"created", 0},
                        {"owned_by", "libinfer"},
                        {"context_length", engine_->context_limit()}};
    res.set_content(json{{"object", "list"}, {"data", json::array({model})}}.dump(),
                    "application/json");
  });

  auto completion = [this](bool chat) {
    return [this, chat](const httplib::Request& req, httplib::Response& res) {
      try {
        const json body = parse_body(req.body);
        RequestLimits limits;
        limits.context = engine_->context_limit();
        limits.default_max_tokens = options_.default_max_tokens;
        if (chat && !chat_) {
          throw invalid_request("messages", "this model has no chat template; use /v1/completions");
        }
        ParsedRequest parsed = chat ? parse_chat_request(body, *tokenizer_, *chat_, limits)
                                    : parse_completion_request(body, *tokenizer_, limits);
        ResponseHead head;
        head.chat = chat;
        head.created = unix_seconds();
        head.model = parsed.model.empty() ? options_.model_name : parsed.model;
        head.id = std::string(chat ? "chatcmpl-" : "cmpl-") + std::to_string(head.created) + "-" +
                  std::to_string(next_id_++);
        if (!parsed.stream) {
          TokenTimer timer(metrics_);
          const engine::Outcome outcome = engine_->run(
              std::move(parsed.request), [&timer](const generate::StreamPiece&) { timer.token(); });
          if (!outcome.error.empty()) throw ApiError(500, "server_error", outcome.error);
          res.set_content(completion_object(head, outcome.result).dump(), "application/json");
          return;
        }
        stream(head, std::move(parsed), res);
      } catch (const ApiError& e) {
        send_error(res, e);
      } catch (const base::InvalidArgument& e) {
        send_error(res, invalid_request("", e.what()));
      }
    };
  };
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(engine_->stats()), "text/plain; version=0.0.4");
  });
  // {"content": TEXT, "add_special": false, "parse_special": false} -> {"tokens": [ids]}
  http_->Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
    try {
      const json body = parse_body(req.body);
      auto content = body.find("content");
      if (content == body.end() || !content->is_string())
        throw invalid_request("content", "'content' must be a string");
      tokenizer::EncodeOptions options;
      options.add_special_tokens = body.value("add_special", false);
      options.parse_special = body.value("parse_special", false);
      res.set_content(
          json{{"tokens", tokenizer_->encode(content->get<std::string>(), options)}}.dump(),
          "application/json");
    } catch (const ApiError& e) {
      send_error(res, e);
    } catch (const json::exception& e) {
      send_error(res, invalid_request("", e.what()));
    }
  });
  // {"tokens": [ids]} -> {"content": TEXT} (special tokens kept; bytes that are not UTF-8 as
  // U+FFFD)
  http_->Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
    try {
      const json body = parse_body(req.body);
      auto tokens = body.find("tokens");
      const std::vector<int32_t> ids =
          read_token_ids(tokens == body.end() ? json() : *tokens, "tokens", *tokenizer_);
      const json out = {{"content", tokenizer_->decode(ids, /*skip_special_tokens=*/false)}};
      res.set_content(out.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
    } catch (const ApiError& e) {
      send_error(res, e);
    }
  });
  http_->Post("/v1/chat/completions", completion(true));
  http_->Post("/v1/completions", completion(false));
}

void HttpServer::stream(const ResponseHead& head, ParsedRequest parsed, httplib::Response& res) {
  auto frames = std::make_shared<StreamFrames>();
  if (head.chat) frames->push(sse_event(completion_chunk(head, "", /*first=*/true)));
  const bool include_usage = parsed.include_usage;
  auto timer = std::make_shared<TokenTimer>(metrics_);
  // Held until the id is known, so that on_done cannot run (and forget it) before it is recorded.
  std::unique_lock<std::mutex> registering(streams_mutex_);
  // Throws InvalidArgument (answered as 400) before anything is sent.
  const uint64_t id = engine_->submit(
      std::move(parsed.request),
      [frames, head, timer](const generate::StreamPiece& piece) {
        timer->token();
        if (!piece.text.empty())
          frames->push(sse_event(completion_chunk(head, piece.text, /*first=*/false)));
      },
      [this, frames, head, include_usage](const engine::Outcome& outcome) {
        {
          std::lock_guard<std::mutex> lock(streams_mutex_);
          streams_.erase(outcome.id);
        }
        if (!outcome.error.empty()) {
          frames->push(sse_event(ApiError(500, "server_error", outcome.error).body()));
        } else {
          frames->push(sse_event(
              completion_chunk(head, "", false, finish_reason(outcome.result.stop_reason))));
          if (include_usage) {
            const auto& s = outcome.result.stats;
            frames->push(sse_event(usage_chunk(head, s.prompt_tokens, s.generated_tokens)));
          }
        }
        frames->push(kSseDone, /*last=*/true);
      });
  streams_.insert(id);
  ++open_streams_;
  registering.unlock();
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
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

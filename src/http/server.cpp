#include "http/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <array>
#include <spdlog/spdlog.h>

#include "http/message.hpp"
#include "http/problem.hpp"

namespace betsdb::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Bytes to ask for when waiting for the first byte of the next request.
constexpr std::size_t kReadChunk = 4096;
bhttp::response<bhttp::string_body> to_beast(Response&& r, const Request& req, bool keep_alive) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(r.status), 11};
  if (!r.content_type.empty()) out.set(bhttp::field::content_type, r.content_type);
  out.set("X-Request-Id", req.request_id);
  for (auto& h : r.headers) out.set(h.name, h.value);
  out.body() = std::move(r.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  return out;
}

Error payload_too_large(std::size_t limit) {
  return Error::make(Errc::payload_too_large,
                     "The request body exceeds " + std::to_string(limit) + " bytes.");
}
}  // namespace

struct Server::SessionState {
  beast::tcp_stream* stream = nullptr;
  bool busy = false;
  bool evicted = false;  // closed to make room; still in sessions_ until its coroutine ends
};

Server::Server(asio::io_context& ioc, const Router& router, ServerLimits limits)
    : ioc_(ioc), router_(router), limits_(limits), acceptor_(ioc) {}

Server::~Server() = default;

Result<tcp::endpoint> Server::listen(const tcp::endpoint& endpoint, bool reuse_port) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && reuse_port) {
    using reuse_port_option = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
    acceptor_.set_option(reuse_port_option(true), ec);
  }
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error::unavailable("cannot listen on " + endpoint.address().to_string() + ":" +
                                    std::to_string(endpoint.port()) + ": " + ec.message());
  return acceptor_.local_endpoint();
}

void Server::start() { asio::co_spawn(ioc_, accept_loop(), asio::detached); }

std::size_t Server::requests_in_flight() const {
  std::size_t busy = 0;
  for (const auto* s : sessions_) busy += s->busy ? 1 : 0;
  return busy;
}

void Server::stop() {
  stopping_ = true;
  boost::system::error_code ignored;  // closing an already closed acceptor is fine
  acceptor_.close(ignored);
  for (auto* s : sessions_) {
    // Idle sessions wait for a next request that must not come: end them now.
    // Busy ones see stopping_ after writing their response and close.
    if (!s->busy) s->stream->socket().close(ignored);
  }
}

asio::awaitable<void> Server::accept_loop() {
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_) break;
      // EMFILE and friends: back off briefly instead of spinning.
      asio::steady_timer t(ioc_, std::chrono::milliseconds(10));
      co_await t.async_wait(kTuple);
      continue;
    }
    if (sessions_.size() >= limits_.max_connections) {
      // At the cap, make room by closing the longest-open idle connection
      // (sessions_ is in accept order); refuse the newcomer only when every
      // connection is busy. Idle sockets then cannot lock real clients out.
      SessionState* idle = nullptr;
      for (auto* s : sessions_) {
        if (!s->busy && !s->evicted) {
          idle = s;
          break;
        }
      }
      boost::system::error_code ignored;
      if (!idle) {
        socket.close(ignored);
        continue;
      }
      idle->evicted = true;
      idle->stream->socket().close(ignored);
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(ioc_, session(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> Server::session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  SessionState state{&stream, false};
  sessions_.push_back(&state);
  auto self_it = std::prev(sessions_.end());
  beast::flat_buffer buffer;
  // Set when we answer without reading the request body: closing at once
  // would make the kernel send RST and the client might never see the answer.
  bool drain_before_close = false;

  auto write = [&](Response&& response, const Request& req,
                   bool keep_alive) -> asio::awaitable<bool> {
    auto msg = to_beast(std::move(response), req, keep_alive);
    stream.expires_after(limits_.request_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream, msg, kTuple);
    (void)n;
    co_return !ec;
  };

  for (;;) {
    state.busy = false;
    if (stopping_) break;
    if (buffer.size() == 0) {
      stream.expires_after(limits_.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kReadChunk), kTuple);
      if (ec) break;
      buffer.commit(n);
    }
    state.busy = true;
    const auto started = std::chrono::steady_clock::now();

    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.header_limit));
    // No body limit while reading the header: Beast would refuse a large
    // Content-Length before routing and auth had their say (contract order).
    parser.body_limit(boost::none);
    stream.expires_after(limits_.request_timeout);
    auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
    (void)hn;
    if (hec) {
      if (hec == bhttp::error::header_limit || hec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
        Request bad;
        bad.request_id = make_request_id();
        Response r = problem(Error::make(Errc::bad_request, "Malformed HTTP request."));
        if (hec == bhttp::error::header_limit) {
          r.status = 431;
          r.body = R"({"type":"about:blank","title":"Request header fields too large","status":431,"code":"headers_too_large","detail":"The request headers exceed the server's limit."})";
        }
        co_await write(std::move(r), bad, false);
      }
      break;
    }

    parser.body_limit(limits_.body_limit);
    Request req = to_request(parser.get());
    const auto& header = parser.get();
    const bool has_body = header.has_content_length() ? (parser.content_length().value_or(0) > 0)
                                                      : header.chunked();
    const bool body_too_large = parser.content_length() && *parser.content_length() > limits_.body_limit;

    // Route, then guard (auth), then size: the contract's check order.
    Error pre_body_error;
    bool failed = false;
    auto match = router_.resolve(req.method, req.path);
    if (!match.ok()) {
      pre_body_error = match.error();
      failed = true;
    } else {
      req.route = match->route->pattern;
      req.path_ids = std::move(match->ids);
      if (match->route->guard) {
        Status guard_status = co_await match->route->guard(req);
        if (!guard_status.ok()) {
          pre_body_error = guard_status.error();
          failed = true;
        }
      }
      if (!failed && body_too_large) {
        pre_body_error = payload_too_large(limits_.body_limit);
        failed = true;
      }
    }

    bool keep_alive = header.keep_alive() && !stopping_;
    Response response;
    if (failed) {
      // Answer without acting. A body we have not read would be parsed as the
      // next request, so read a small one away or close the connection.
      if (has_body) {
        if (body_too_large || !header.has_content_length()) {
          keep_alive = false;
          drain_before_close = true;
        } else {
          auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
          (void)bn;
          if (bec) keep_alive = false;
        }
      }
      response = problem(pre_body_error);
      if (pre_body_error.code == Errc::method_not_allowed) {
        response.headers.push_back({"Allow", router_.allowed_methods(req.path)});
      }
    } else {
      if (has_body) {
        auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
        (void)bn;
        if (bec == bhttp::error::body_limit) {
          response = problem(payload_too_large(limits_.body_limit));
          keep_alive = false;
          drain_before_close = true;
          failed = true;
        } else if (bec) {
          break;
        }
      }
      if (!failed) {
        req.body = std::move(parser.get().body());
        try {
          response = co_await match->route->handler(req);
        } catch (const std::exception& e) {
          spdlog::error("unhandled exception on {} {}: {}", method_name(req.method), req.route, e.what());
          response = problem(Error::internal(e.what()));
        }
      }
    }

    const int status = response.status;
    if (stopping_) keep_alive = false;
    const bool written = co_await write(std::move(response), req, keep_alive);
    if (observer_) {
      observer_(RequestRecord{&req, status, std::chrono::steady_clock::now() - started});
    }
    if (!written || !keep_alive) break;
  }

  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (drain_before_close) {
    // Lingering close, bounded in bytes and time.
    constexpr std::size_t kMaxDrainBytes = 1 << 20;
    constexpr std::chrono::seconds kDrainTime{1};
    std::size_t drained = 0;
    stream.expires_after(kDrainTime);
    std::array<char, 8192> sink{};
    while (drained < kMaxDrainBytes) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
      if (ec) break;
      drained += n;
    }
  }
  stream.close();
  sessions_.erase(self_it);
}

}  // namespace betsdb::http

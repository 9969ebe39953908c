// A small HTTP/1.1 server on one io_context (one "shard"): accepts, runs one
// coroutine per connection with keep-alive, enforces header/body limits and
// timeouts, and routes requests. One Server per shard; shards share the port
// through SO_REUSEPORT so the kernel spreads connections over threads.
//
// Thread-safety: every member function must be called on the io_context's
// thread (post to it otherwise).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "http/router.hpp"
#include "util/result.hpp"

namespace betsdb::http {

struct ServerLimits {
  // The contract's 64 KiB body cap; larger requests get 413.
  std::size_t body_limit = 64 * 1024;
  // Big enough for any sane set of headers (tokens, cookies from a browser).
  std::size_t header_limit = 16 * 1024;
  // How long a keep-alive connection may sit idle between requests.
  std::chrono::milliseconds idle_timeout{30'000};
  // How long a client may take to send one whole request once it has started,
  // so a slow (slowloris) client cannot hold a connection indefinitely.
  std::chrono::milliseconds request_timeout{10'000};
  // Connections beyond this (per shard) are closed at once, so a flood of
  // idle sockets cannot exhaust file descriptors or memory.
  std::size_t max_connections = 10'000;
  // Proxies whose X-Forwarded-For is believed for the client's address
  // (http/client_address.hpp); none by default.
  std::vector<std::string> trusted_proxies;
  // A streamed body (http/body_stream.hpp): one write may take this long
  // before the client is taken for gone, and its socket's kernel send buffer
  // is this small, so a client that stopped reading is found out early.
  std::chrono::milliseconds stream_write_timeout{10'000};
  int stream_send_buffer = 64 * 1024;
};

// Called once per request after the response is written: for access logs and metrics.
struct RequestRecord {
  const Request* request = nullptr;
  int status = 0;
  std::chrono::nanoseconds latency{};
};
using RequestObserver = std::function<void(const RequestRecord&)>;

class Server final {
 public:
  Server(boost::asio::io_context& ioc, const Router& router, ServerLimits limits);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. With reuse_port several servers (one per shard) can
  // share one endpoint. Returns the bound endpoint (useful with port 0).
  Result<boost::asio::ip::tcp::endpoint> listen(const boost::asio::ip::tcp::endpoint& endpoint,
                                                bool reuse_port);
  void start();
  // Graceful stop: close the listener, close idle connections, let busy ones
  // finish their current request and then close.
  void stop();

  void set_observer(RequestObserver observer) { observer_ = std::move(observer); }
  std::size_t connections() const;
  // Requests begun (a first byte read) and not yet answered, for /metrics;
  // a connection draining a refused body before it closes counts too.
  std::size_t requests_in_flight() const;

 private:
  class Session;    // one connection, step by step
  struct Sessions;  // the open connections
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  const Router& router_;
  ServerLimits limits_;
  boost::asio::ip::tcp::acceptor acceptor_;
  // Shared with every session, which may outlive the server (see server.cpp).
  std::shared_ptr<Sessions> sessions_;
  RequestObserver observer_;
  bool stopping_ = false;
};

}  // namespace betsdb::http

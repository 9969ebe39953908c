#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <list>
#include <optional>
#include <string>

#include "http/client_address.hpp"
#include "http/deadline.hpp"
#include "http/message.hpp"
#include "http/problem.hpp"
#include "http/response_head.hpp"

namespace betsdb::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// The client's IP address; empty if the socket is already gone.
std::string peer_address(const tcp::socket& socket) {
  boost::system::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return {};
  auto address = endpoint.address();
  // An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Bytes to ask for when waiting for the first byte of the next request.
constexpr std::size_t kReadChunk = 4096;
// A lingering close gives up after this much of the client's unread body, or this long.
constexpr std::size_t kMaxDrainBytes = 1 << 20;
constexpr std::chrono::seconds kDrainTime{1};

using Parser = bhttp::request_parser<bhttp::string_body>;

Error payload_too_large(std::size_t limit) {
  return Error::make(Errc::payload_too_large,
                     "The request body exceeds " + std::to_string(limit) + " bytes.");
}

bool has_body(const Parser& parser) {
  const auto& header = parser.get();
  return header.has_content_length() ? parser.content_length().value_or(0) > 0 : header.chunked();
}

bool declared_too_large(const Parser& parser, std::size_t limit) {
  return parser.content_length() && *parser.content_length() > limit;
}

// Beast's own refusals (a malformed request line or header, headers over the
// limit, a message cut short), as opposed to the socket's errors and timeouts:
// the client is still there and deserves an answer.
bool is_malformed_http(const boost::system::error_code& ec) {
  return ec == bhttp::error::header_limit ||
         ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

Response malformed_http_answer(const boost::system::error_code& ec) {
  if (ec == bhttp::error::header_limit) {
    // headers_too_large has no Errc: no layer but this one can give it.
    Response r;
    r.status = 431;
    r.content_type = "application/problem+json";
    r.body =
        R"({"type":"about:blank","title":"Request header fields too large","status":431,"code":"headers_too_large","detail":"The request headers exceed the server's limit."})";
    return r;
  }
  return problem(Error::make(Errc::bad_request, "Malformed HTTP request."));
}

// A guard or handler that throws is a bug: logged, and answered 500 like any
// internal error rather than by dropping the connection.
Error unhandled(const Request& req, const std::exception& e) {
  spdlog::error("unhandled exception on {} {}: {}", method_name(req.method), req.route, e.what());
  return Error::internal(e.what());
}

// Anything else that escapes a session is a bug too. The session's own
// objects have already undone its registration; what is left is to say so.
void log_escaped(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("connection ended by an unhandled exception: {}", ex.what());
  } catch (...) {
    spdlog::error("connection ended by an unhandled exception");
  }
}
}  // namespace

// The open connections, oldest first. Shared with each session's
// Registration because a session can outlive the server: a shard destroys its
// server before its io_context, whose destructor then destroys the frames of
// the coroutines still suspended in it, registrations included.
struct Server::Sessions {
  struct Entry {
    tcp::socket* socket = nullptr;
    // From a request's first byte until the session waits for the next one,
    // so a lingering close after the last answer counts as busy too.
    bool busy = false;
    bool evicted = false;  // closed to make room; listed until its session ends
  };

  // A session's entry for exactly as long as the session lives, however it
  // ends: an exception from anywhere in it cannot leave a stale entry for
  // stop() or the connection cap to touch, nor a wrong count for /metrics.
  class Registration final {
   public:
    Registration(std::shared_ptr<Sessions> sessions, tcp::socket& socket)
        : sessions_(std::move(sessions)),
          entry_(sessions_->entries.insert(sessions_->entries.end(), Entry{&socket})) {}
    ~Registration() { sessions_->entries.erase(entry_); }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

    void set_busy(bool busy) { entry_->busy = busy; }

   private:
    std::shared_ptr<Sessions> sessions_;
    std::list<Entry>::iterator entry_;
  };

  std::size_t busy() const {
    std::size_t n = 0;
    for (const auto& entry : entries) n += entry.busy ? 1 : 0;
    return n;
  }

  // Idle sessions wait for a next request that must not come: end them now.
  // Busy ones see Server::stopping_ after their answer and close.
  void close_idle() {
    boost::system::error_code ignored;  // closing an already closed socket is fine
    for (auto& entry : entries) {
      if (!entry.busy) entry.socket->close(ignored);
    }
  }

  // At the cap: closes the longest-open idle connection, so idle sockets
  // cannot lock real clients out. False when every connection is busy.
  bool evict_oldest_idle() {
    for (auto& entry : entries) {
      if (!entry.busy && !entry.evicted) {
        entry.evicted = true;
        boost::system::error_code ignored;
        entry.socket->close(ignored);
        return true;
      }
    }
    return false;
  }

  std::list<Entry> entries;
};

// One connection, served request after request in the steps below: wait for
// a request, read its header, refuse it before its body if route, guard or
// size say so, else read the body and run the handler; write the answer;
// then keep the connection for the next request or close it. A streamed
// answer's body has the connection last, once the request is done with.
class Server::Session final {
 public:
  Session(Server& server, tcp::socket socket)
      : server_(server),
        socket_(std::move(socket)),
        deadline_(socket_),
        client_address_(peer_address(socket_)),
        registration_(server.sessions_, socket_) {}

  asio::awaitable<void> run();

 private:
  // What becomes of the connection after an answer. `linger`: close it, but
  // only once the request's unread body is read away (see close()). `stream`:
  // the answer's head is written and its body (stream_body_) has the
  // connection until it returns; then it closes.
  enum class Next { keep_alive, close, linger, stream };
  enum class BodyRead { complete, too_large, broken };

  // One request on its way to an answer.
  struct Exchange {
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    Parser parser;
    Request request;
    const Route* route = nullptr;
    Response response;
    Next next = Next::keep_alive;
  };

  asio::awaitable<bool> wait_for_request();
  asio::awaitable<Next> serve_request();
  asio::awaitable<bool> read_header(Parser& parser);
  asio::awaitable<std::optional<Error>> check_before_body(Exchange& ex);
  asio::awaitable<Status> run_guard(Exchange& ex);
  asio::awaitable<void> skip_unread_body(Exchange& ex);
  asio::awaitable<BodyRead> read_body(Exchange& ex);
  asio::awaitable<Response> run_handler(Exchange& ex);
  asio::awaitable<Next> respond(Exchange& ex);
  asio::awaitable<Next> start_stream(Exchange& ex);
  asio::awaitable<void> run_stream();
  asio::awaitable<bool> write(Response&& response, const Request& req, bool keep_alive);
  asio::awaitable<void> close(bool linger);

  const ServerLimits& limits() const { return server_.limits_; }

  class StreamWriter;
  void record(const Exchange& ex, int status) const;

  Server& server_;
  tcp::socket socket_;
  Deadline deadline_;
  beast::flat_buffer buffer_;
  // The answer's status line and headers, reused from answer to answer.
  std::string head_;
  std::string client_address_;
  // A streamed answer's body and route, from start_stream() to run_stream().
  StreamBody stream_body_;
  std::string_view stream_route_;
  // Declared after the stream it points at, so it is undone before the stream goes.
  Sessions::Registration registration_;
};

asio::awaitable<void> Server::Session::run() {
  Next next = Next::keep_alive;
  // Not `while (next == Next::keep_alive && co_await wait_for_request())`:
  // GCC 12 runs a co_await on the right of && even when the left is false,
  // so after its last answer a connection waited for another request (up to
  // the idle timeout) instead of closing.
  while (next == Next::keep_alive) {
    if (!co_await wait_for_request()) break;
    next = co_await serve_request();
  }
  // From here, not from within serve_request(): a stream may live for hours,
  // and by now the frames of the request that started it are gone (parser,
  // request, response, the Beast head and serializer it had: 3.5 KB of the 8.4 KB a
  // stream client held).
  if (next == Next::stream) co_await run_stream();
  co_await close(next == Next::linger);
}

// False when the connection should end instead: the server is stopping, or
// the client left, idled too long or was evicted to make room.
asio::awaitable<bool> Server::Session::wait_for_request() {
  registration_.set_busy(false);
  if (server_.stopping_) co_return false;
  // A pipelined request may already be in the buffer.
  if (buffer_.size() == 0) {
    deadline_.expires_after(limits().idle_timeout);
    auto [ec, n] = co_await socket_.async_read_some(buffer_.prepare(kReadChunk), kTuple);
    if (ec) co_return false;
    buffer_.commit(n);
  }
  registration_.set_busy(true);
  co_return true;
}

asio::awaitable<Server::Session::Next> Server::Session::serve_request() {
  Exchange ex;
  if (!co_await read_header(ex.parser)) co_return Next::close;
  ex.request = to_request(ex.parser.get());
  // No header look-up per request unless some proxy is trusted. Every
  // X-Forwarded-For line counts: HAProxy adds its own after any the client
  // wrote, so the first line alone would be the client's choice.
  if (limits().trusted_proxies.empty()) {
    ex.request.client_address = client_address_;
  } else {
    const std::optional<std::string> forwarded = ex.request.joined_header("x-forwarded-for");
    ex.request.client_address = client_address(
        client_address_, forwarded ? std::optional<std::string_view>(*forwarded) : std::nullopt,
        limits().trusted_proxies);
  }
  if (!ex.parser.get().keep_alive()) ex.next = Next::close;

  if (auto refusal = co_await check_before_body(ex)) {
    co_await skip_unread_body(ex);
    ex.response = problem(*refusal);
    if (refusal->code == Errc::method_not_allowed) {
      ex.response.headers.push_back({"Allow", server_.router_.allowed_methods(ex.request.path)});
    }
  } else {
    switch (co_await read_body(ex)) {
      case BodyRead::complete:
        // The deadline bounds the client's reads and writes, not the work
        // between them: the answer gets its own when it is written.
        deadline_.expires_never();
        ex.response = co_await run_handler(ex);
        break;
      case BodyRead::too_large:
        ex.response = problem(payload_too_large(limits().body_limit));
        ex.next = Next::linger;
        break;
      case BodyRead::broken:
        co_return Next::close;
    }
  }
  co_return co_await respond(ex);
}

// False when there is no request to serve. HTTP that Beast cannot parse is
// answered here, as the connection's last answer, since it has no route.
asio::awaitable<bool> Server::Session::read_header(Parser& parser) {
  parser.header_limit(static_cast<std::uint32_t>(limits().header_limit));
  // No body limit while reading the header: Beast would refuse a large
  // Content-Length before routing and auth had their say (contract order).
  parser.body_limit(boost::none);
  // The deadline covers the whole request, body included: a slow (slowloris)
  // client cannot hold the connection indefinitely.
  deadline_.expires_after(limits().request_timeout);
  auto [ec, n] = co_await bhttp::async_read_header(socket_, buffer_, parser, kTuple);
  (void)n;
  if (!ec) {
    parser.body_limit(limits().body_limit);
    co_return true;
  }
  if (is_malformed_http(ec)) {
    Request unparsed;
    unparsed.request_id = make_request_id();
    co_await write(malformed_http_answer(ec), unparsed, false);
  }
  co_return false;
}

// Route, then guard (auth), then the declared size: the contract's order of
// checks, all made before the body is read.
asio::awaitable<std::optional<Error>> Server::Session::check_before_body(Exchange& ex) {
  auto match = server_.router_.resolve(ex.request.method, ex.request.path);
  if (!match.ok()) co_return std::move(match).error();
  ex.route = match->route;
  ex.request.route = ex.route->pattern;
  ex.request.path_ids = std::move(match->ids);
  Status allowed = co_await run_guard(ex);
  if (!allowed.ok()) co_return std::move(allowed).error();
  if (declared_too_large(ex.parser, limits().body_limit)) {
    co_return payload_too_large(limits().body_limit);
  }
  co_return std::nullopt;
}

asio::awaitable<Status> Server::Session::run_guard(Exchange& ex) {
  if (!ex.route->guard) co_return Status{};
  try {
    co_return co_await ex.route->guard(ex.request);
  } catch (const std::exception& e) {
    co_return unhandled(ex.request, e);
  }
}

// A refused request's body is still unread, and left in the stream it would
// be parsed as the next request. A small one of declared length is read
// away; any other (over the limit, or chunked, of unknown length) makes this
// answer the connection's last.
asio::awaitable<void> Server::Session::skip_unread_body(Exchange& ex) {
  if (!has_body(ex.parser)) co_return;
  if (declared_too_large(ex.parser, limits().body_limit) || !ex.parser.get().has_content_length()) {
    ex.next = Next::linger;
    co_return;
  }
  auto [ec, n] = co_await bhttp::async_read(socket_, buffer_, ex.parser, kTuple);
  (void)n;
  if (ec) ex.next = Next::close;
}

asio::awaitable<Server::Session::BodyRead> Server::Session::read_body(Exchange& ex) {
  if (has_body(ex.parser)) {
    auto [ec, n] = co_await bhttp::async_read(socket_, buffer_, ex.parser, kTuple);
    (void)n;
    // Only a chunked body gets here over the limit: a declared length over
    // it was refused before the body.
    if (ec == bhttp::error::body_limit) co_return BodyRead::too_large;
    if (ec) co_return BodyRead::broken;
  }
  ex.request.body = std::move(ex.parser.get().body());
  co_return BodyRead::complete;
}

asio::awaitable<Response> Server::Session::run_handler(Exchange& ex) {
  try {
    co_return co_await ex.route->handler(ex.request);
  } catch (const std::exception& e) {
    co_return problem(unhandled(ex.request, e));
  }
}

asio::awaitable<Server::Session::Next> Server::Session::respond(Exchange& ex) {
  if (ex.response.stream) co_return co_await start_stream(ex);
  // A stopping server finishes this request but takes no next one.
  if (server_.stopping_ && ex.next == Next::keep_alive) ex.next = Next::close;
  const int status = ex.response.status;
  const bool written =
      co_await write(std::move(ex.response), ex.request, ex.next == Next::keep_alive);
  record(ex, status);
  if (!written && ex.next == Next::keep_alive) ex.next = Next::close;
  co_return ex.next;
}

void Server::Session::record(const Exchange& ex, int status) const {
  if (server_.observer_) {
    server_.observer_(
        RequestRecord{&ex.request, status, std::chrono::steady_clock::now() - ex.started});
  }
}

// The streamed body's side of the connection.
class Server::Session::StreamWriter final : public BodyStream {
 public:
  explicit StreamWriter(Session& session) : session_(session) {}

  asio::awaitable<bool> write(std::span<const asio::const_buffer> buffers) override {
    if (aborted_) co_return false;
    session_.deadline_.expires_after(session_.limits().stream_write_timeout);
    auto [ec, n] = co_await asio::async_write(session_.socket_, buffers, kTuple);
    (void)n;
    // No deadline while the body waits for something to write.
    session_.deadline_.expires_never();
    co_return !ec && !aborted_;
  }

  std::size_t write_now(std::string_view bytes) override {
    if (aborted_) return 0;
    boost::system::error_code ec;
    const std::size_t n = session_.socket_.write_some(asio::buffer(bytes), ec);
    return ec ? 0 : n;
  }

  void abort() override {
    aborted_ = true;
    boost::system::error_code ignored;
    session_.socket_.close(ignored);
  }

  void on_client_gone(std::function<void()> callback) override {
    *gone_ = std::move(callback);
    // A stream's client never sends: any byte, or the end, means it left.
    // The handler holds what it uses; the session may be gone when it runs.
    auto byte = std::make_shared<char>();
    session_.socket_.async_read_some(
        asio::buffer(byte.get(), 1),
        [gone = gone_, byte](const boost::system::error_code&, std::size_t) {
          if (*gone) (*gone)();
        });
  }

  // The body has returned: nothing may call into it any more.
  ~StreamWriter() override { *gone_ = nullptr; }

 private:
  Session& session_;
  bool aborted_ = false;
  std::shared_ptr<std::function<void()>> gone_ = std::make_shared<std::function<void()>>();
};

// The status and headers without a length (the body ends with the
// connection); the body is kept for run_stream(), which has the connection
// once this request's frames are gone.
asio::awaitable<Server::Session::Next> Server::Session::start_stream(Exchange& ex) {
  head_.clear();
  append_response_head(
      head_, ResponseHead{ex.response.status, ex.response.content_type, ex.request.request_id,
                          ex.response.headers, std::nullopt, false});
  deadline_.expires_after(limits().request_timeout);
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(head_), kTuple);
  (void)n;
  deadline_.expires_never();
  record(ex, ex.response.status);
  if (ec || server_.stopping_) co_return Next::close;
  stream_body_ = std::move(ex.response.stream);
  stream_route_ = ex.request.route;
  co_return Next::stream;
}

asio::awaitable<void> Server::Session::run_stream() {
  // A stream may live for hours: keep nothing of the request it does not need.
  buffer_.clear();
  buffer_.shrink_to_fit();
  head_.clear();
  head_.shrink_to_fit();
  boost::system::error_code ignored;
  socket_.set_option(asio::socket_base::send_buffer_size(limits().stream_send_buffer), ignored);
  // write_now() must never block the loop.
  socket_.non_blocking(true, ignored);
  StreamWriter writer(*this);
  const StreamBody body = std::move(stream_body_);
  try {
    co_await body(writer);
  } catch (const std::exception& e) {
    spdlog::error("stream on {} ended by an unhandled exception: {}", stream_route_, e.what());
  }
}

asio::awaitable<bool> Server::Session::write(Response&& response, const Request& req,
                                             bool keep_alive) {
  // Moved into this frame: `response` may be a temporary of the caller's co_await.
  const std::string body = std::move(response.body);
  head_.clear();
  append_response_head(head_, ResponseHead{response.status, response.content_type, req.request_id,
                                           response.headers, body.size(), keep_alive});
  const std::size_t body_size = status_forbids_body(response.status) ? 0 : body.size();
  // One gathered write, as Beast's serializer made: one sendmsg per answer.
  const std::array<asio::const_buffer, 2> buffers = {asio::buffer(head_),
                                                     asio::buffer(body.data(), body_size)};
  deadline_.expires_after(limits().request_timeout);
  auto [ec, n] = co_await asio::async_write(socket_, buffers, kTuple);
  (void)n;
  co_return !ec;
}

// With `linger`, the client may still be sending a body we did not read:
// closing at once would make the kernel answer those bytes with RST, and the
// client might never see our answer. So read them away first, within bounds.
asio::awaitable<void> Server::Session::close(bool linger) {
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  if (linger) {
    std::size_t drained = 0;
    deadline_.expires_after(kDrainTime);
    std::array<char, 8192> sink{};
    while (drained < kMaxDrainBytes) {
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(sink), kTuple);
      if (ec) break;
      drained += n;
    }
  }
  socket_.close(ignored);
}

Server::Server(asio::io_context& ioc, const Router& router, ServerLimits limits)
    : ioc_(ioc),
      router_(router),
      limits_(limits),
      acceptor_(ioc),
      sessions_(std::make_shared<Sessions>()) {}

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
  if (ec) {
    return Error::unavailable("cannot listen on " + endpoint.address().to_string() + ":" +
                              std::to_string(endpoint.port()) + ": " + ec.message());
  }
  return acceptor_.local_endpoint();
}

void Server::start() {
  asio::co_spawn(ioc_, accept_loop(), asio::detached);
}

std::size_t Server::connections() const {
  return sessions_->entries.size();
}

std::size_t Server::requests_in_flight() const {
  return sessions_->busy();
}

void Server::stop() {
  stopping_ = true;
  boost::system::error_code ignored;  // closing an already closed acceptor is fine
  acceptor_.close(ignored);
  sessions_->close_idle();
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
    boost::system::error_code ignored;
    // Refuse the newcomer only when every connection is busy.
    if (sessions_->entries.size() >= limits_.max_connections && !sessions_->evict_oldest_idle()) {
      socket.close(ignored);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(ioc_, serve(std::move(socket)), [](std::exception_ptr e) { log_escaped(e); });
  }
}

asio::awaitable<void> Server::serve(tcp::socket socket) {
  Session session(*this, std::move(socket));
  co_await session.run();
}

}  // namespace betsdb::http

// The HTTP server over real loopback sockets, with the test's clients on the
// server's own io_context: one thread, so the test reads the server's counters
// between steps without racing it, and every wait is a bounded poll.
#include "http/server.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace betsdb::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
// Far beyond what any step takes on a loaded machine; only a hang reaches it.
constexpr auto kBound = 20s;

using Answer = bhttp::response<bhttp::string_body>;

asio::awaitable<Response> answer_ok(Request&) {
  co_return Response::json(200, R"({"ok":true})");
}

asio::awaitable<Response> echo_body(Request& req) {
  co_return Response::json(200, req.body);
}

// An event stream of two writes; the connection ends when the body returns.
constexpr std::array<std::string_view, 2> kEvents{"data: 1\n\n", "data: 2\n\n"};

asio::awaitable<Response> answer_stream(Request&) {
  Response r;
  r.content_type = "text/event-stream";
  r.stream = [](BodyStream& body) -> asio::awaitable<void> {
    for (std::string_view event : kEvents) {
      const std::array<asio::const_buffer, 1> buffers{asio::buffer(event)};
      if (!co_await body.write(buffers)) co_return;
    }
  };
  co_return r;
}

asio::awaitable<Status> throwing_guard(Request&) {
  throw std::runtime_error("a bug in a guard");
  co_return Status{};
}

asio::awaitable<Response> throwing_handler(Request&) {
  throw std::runtime_error("a bug in a handler");
  co_return Response{};
}

std::string get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) +
         "\r\n";
}

std::string problem_member(const Answer& answer, std::string_view member) {
  const auto body = boost::json::parse(answer.body()).as_object();
  const auto* value = body.if_contains(member);
  if (value == nullptr) return "(missing)";
  return value->is_string() ? std::string(value->as_string()) : boost::json::serialize(*value);
}

// One client connection, on the server's loop.
class Client final {
 public:
  explicit Client(asio::io_context& ioc) : stream_(ioc) {}

  asio::awaitable<bool> connect(tcp::endpoint endpoint) {
    stream_.expires_after(kBound);
    auto [ec] = co_await stream_.async_connect(endpoint, kAwait);
    co_return !ec;
  }

  // Sends `raw` and reads one answer; none if the server closed first.
  asio::awaitable<std::optional<Answer>> request(std::string raw) {
    stream_.expires_after(kBound);
    auto [wec, written] = co_await asio::async_write(stream_, asio::buffer(raw), kAwait);
    (void)written;
    if (wec) co_return std::nullopt;
    Answer answer;
    auto [rec, read] = co_await bhttp::async_read(stream_, buffer_, answer, kAwait);
    (void)read;
    if (rec) co_return std::nullopt;
    co_return answer;
  }

  // Whether the server closed the connection (EOF or reset) within kBound.
  asio::awaitable<bool> closed_by_server() {
    stream_.expires_after(kBound);
    char byte = 0;
    for (;;) {
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(&byte, 1), kAwait);
      (void)n;
      if (ec) co_return ec != beast::error::timeout;
    }
  }

 private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerLimits limits = {}) {
    server_ = std::make_unique<Server>(*ioc_, router_, limits);
    auto bound = server_->listen(tcp::endpoint(asio::ip::address_v4::loopback(), 0), false);
    ASSERT_TRUE(bound.ok()) << bound.error().detail;
    endpoint_ = *bound;
    server_->start();
  }

  // Runs the loop (server and clients alike) until `task` completes.
  template <class T>
  T run(asio::awaitable<T> task) {
    std::optional<T> result;
    std::exception_ptr failure;
    asio::co_spawn(*ioc_, std::move(task), [&](std::exception_ptr e, T value) {
      failure = e;
      result = std::move(value);
    });
    const auto deadline = std::chrono::steady_clock::now() + 2 * kBound;
    while (!result && std::chrono::steady_clock::now() < deadline) {
      if (ioc_->stopped()) ioc_->restart();
      ioc_->run_one_for(10ms);
    }
    if (failure) std::rethrow_exception(failure);
    if (!result) throw std::runtime_error("a step of the test did not finish");
    return std::move(*result);
  }

  // Runs the loop until the server holds `count` connections; false if it
  // still held another number after kBound.
  bool connections_become(std::size_t count) {
    return run([](Server& server, std::size_t wanted) -> asio::awaitable<bool> {
      asio::steady_timer timer(co_await asio::this_coro::executor);
      const auto deadline = std::chrono::steady_clock::now() + kBound;
      while (server.connections() != wanted) {
        if (std::chrono::steady_clock::now() > deadline) co_return false;
        timer.expires_after(1ms);
        co_await timer.async_wait(kAwait);
      }
      co_return true;
    }(*server_, count));
  }

  // A new connection's answer to one request.
  std::optional<Answer> answer_on_new_connection(const std::string& raw) {
    Client client(*ioc_);
    if (!run(client.connect(endpoint_))) return std::nullopt;
    return run(client.request(raw));
  }

  std::unique_ptr<asio::io_context> ioc_ = std::make_unique<asio::io_context>();
  Router router_;
  std::unique_ptr<Server> server_;
  tcp::endpoint endpoint_;
};

TEST_F(ServerTest, ABodyOverTheConfiguredLimitIs413NamingThatLimit) {
  router_.add({Method::post, "/echo", {}, echo_body});
  ServerLimits limits;
  limits.body_limit = 100;
  start(limits);
  const std::string post =
      "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n";

  auto fits =
      answer_on_new_connection(post + "Content-Length: 100\r\n\r\n" + std::string(100, 'a'));
  ASSERT_TRUE(fits.has_value());
  EXPECT_EQ(fits->result_int(), 200);
  EXPECT_EQ(fits->body(), std::string(100, 'a'));

  // Declared too large: refused from the header, before a byte of the body.
  auto declared =
      answer_on_new_connection(post + "Content-Length: 101\r\n\r\n" + std::string(101, 'a'));
  ASSERT_TRUE(declared.has_value());
  EXPECT_EQ(declared->result_int(), 413);
  EXPECT_EQ(problem_member(*declared, "code"), "payload_too_large");
  EXPECT_EQ(problem_member(*declared, "detail"), "The request body exceeds 100 bytes.");

  // Chunked: found too large while reading.
  auto chunked = answer_on_new_connection(post + "Transfer-Encoding: chunked\r\n\r\n" + "96\r\n" +
                                          std::string(150, 'a') + "\r\n0\r\n\r\n");
  ASSERT_TRUE(chunked.has_value());
  EXPECT_EQ(chunked->result_int(), 413);
  EXPECT_EQ(problem_member(*chunked, "detail"), "The request body exceeds 100 bytes.");
  EXPECT_TRUE(connections_become(0));
}

TEST_F(ServerTest, MalformedHttpIsA400BadRequestProblem) {
  start();
  Client client(*ioc_);
  ASSERT_TRUE(run(client.connect(endpoint_)));
  auto answer = run(client.request("GET / HTTP/1.1\r\nHost: test\r\nBad Header: x\r\n\r\n"));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->result_int(), 400);
  EXPECT_EQ((*answer)[bhttp::field::content_type], "application/problem+json");
  EXPECT_FALSE((*answer)["X-Request-Id"].empty());
  EXPECT_EQ(problem_member(*answer, "code"), "bad_request");
  EXPECT_EQ(problem_member(*answer, "status"), "400");
  EXPECT_EQ(problem_member(*answer, "title"), "Bad request");
  EXPECT_TRUE(run(client.closed_by_server()));
}

// The client waits for the server's close; no idle timeout may do it instead.
TEST_F(ServerTest, AfterAnAnswerWithConnectionCloseTheServerClosesAtOnce) {
  router_.add({Method::get, "/ok", {}, answer_ok});
  ServerLimits limits;
  limits.idle_timeout = 10 * kBound;
  start(limits);
  Client client(*ioc_);
  ASSERT_TRUE(run(client.connect(endpoint_)));
  auto answer = run(client.request(get("/ok", "Connection: close\r\n")));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->result_int(), 200);
  EXPECT_FALSE(answer->keep_alive());
  EXPECT_TRUE(run(client.closed_by_server()));
  EXPECT_TRUE(connections_become(0));
}

// The answer has no length: it ends with the connection, which the server
// closes as soon as the body returns.
TEST_F(ServerTest, AStreamedBodyIsWrittenAfterItsHeadAndEndsTheConnection) {
  router_.add({Method::get, "/stream", {}, answer_stream});
  ServerLimits limits;
  limits.idle_timeout = 10 * kBound;
  start(limits);
  auto answer = answer_on_new_connection(get("/stream"));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->result_int(), 200);
  EXPECT_EQ((*answer)[bhttp::field::content_type], "text/event-stream");
  EXPECT_FALSE((*answer)["X-Request-Id"].empty());
  EXPECT_FALSE(answer->keep_alive());
  EXPECT_FALSE(answer->has_content_length());
  EXPECT_EQ(answer->body(), "data: 1\n\ndata: 2\n\n");
  EXPECT_TRUE(connections_become(0));
  EXPECT_EQ(server_->requests_in_flight(), 0u);
}

TEST_F(ServerTest, AGuardThatThrowsIsAnswered500AndLeavesNoSessionBehind) {
  router_.add({Method::get, "/guarded", throwing_guard, answer_ok});
  router_.add({Method::get, "/ok", {}, answer_ok});
  start();
  {
    Client client(*ioc_);
    ASSERT_TRUE(run(client.connect(endpoint_)));
    auto answer = run(client.request(get("/guarded", "Connection: close\r\n")));
    EXPECT_TRUE(answer.has_value()) << "closed without an answer";
    if (answer) {
      EXPECT_EQ(answer->result_int(), 500);
      EXPECT_EQ(problem_member(*answer, "code"), "internal_error");
    }
  }
  EXPECT_TRUE(connections_become(0));
  EXPECT_EQ(server_->requests_in_flight(), 0u);

  auto next = answer_on_new_connection(get("/ok"));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->result_int(), 200);
}

TEST_F(ServerTest, AHandlerThatThrowsIsAnswered500AndTheConnectionServesOn) {
  router_.add({Method::get, "/boom", {}, throwing_handler});
  router_.add({Method::get, "/ok", {}, answer_ok});
  start();
  Client client(*ioc_);
  ASSERT_TRUE(run(client.connect(endpoint_)));
  auto failed = run(client.request(get("/boom")));
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->result_int(), 500);
  auto next = run(client.request(get("/ok")));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->result_int(), 200);
  EXPECT_EQ(server_->connections(), 1u);
}

TEST_F(ServerTest, AnExceptionThatEndsASessionStillTakesItOffTheServersBooks) {
  router_.add({Method::get, "/ok", {}, answer_ok});
  start();
  // The observer runs inside the session, after the answer is written, and
  // nothing there catches what it throws: the session ends by the exception.
  bool thrown = false;
  server_->set_observer([&thrown](const RequestRecord&) {
    if (!std::exchange(thrown, true)) throw std::runtime_error("a bug in the observer");
  });
  {
    Client client(*ioc_);
    ASSERT_TRUE(run(client.connect(endpoint_)));
    auto answer = run(client.request(get("/ok")));
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(answer->result_int(), 200);
    EXPECT_TRUE(run(client.closed_by_server()));
  }
  EXPECT_TRUE(thrown);
  EXPECT_TRUE(connections_become(0));
  EXPECT_EQ(server_->requests_in_flight(), 0u);

  auto next = answer_on_new_connection(get("/ok"));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->result_int(), 200);
}

TEST_F(ServerTest, AtTheConnectionCapTheOldestIdleConnectionMakesRoom) {
  router_.add({Method::get, "/ok", {}, answer_ok});
  ServerLimits limits;
  limits.max_connections = 2;
  start(limits);
  Client oldest(*ioc_), middle(*ioc_), newest(*ioc_);
  ASSERT_TRUE(run(oldest.connect(endpoint_)));
  ASSERT_TRUE(connections_become(1));
  ASSERT_TRUE(run(middle.connect(endpoint_)));
  ASSERT_TRUE(connections_become(2));
  ASSERT_TRUE(run(newest.connect(endpoint_)));

  EXPECT_TRUE(run(oldest.closed_by_server()));
  EXPECT_TRUE(connections_become(2));
  auto from_newest = run(newest.request(get("/ok")));
  ASSERT_TRUE(from_newest.has_value());
  EXPECT_EQ(from_newest->result_int(), 200);
  auto from_middle = run(middle.request(get("/ok")));
  ASSERT_TRUE(from_middle.has_value());
  EXPECT_EQ(from_middle->result_int(), 200);
}

TEST_F(ServerTest, StopClosesIdleConnectionsAndLetsABusyOneFinishItsRequest) {
  router_.add({Method::get, "/stop", {}, [this](Request&) -> asio::awaitable<Response> {
                 server_->stop();
                 co_return Response::json(200, R"({"ok":true})");
               }});
  start();
  Client idle(*ioc_), busy(*ioc_);
  ASSERT_TRUE(run(idle.connect(endpoint_)));
  ASSERT_TRUE(run(busy.connect(endpoint_)));
  ASSERT_TRUE(connections_become(2));

  auto answer = run(busy.request(get("/stop")));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->result_int(), 200);
  EXPECT_FALSE(answer->keep_alive());
  EXPECT_TRUE(run(idle.closed_by_server()));
  EXPECT_TRUE(run(busy.closed_by_server()));
  EXPECT_TRUE(connections_become(0));
}

TEST_F(ServerTest, ASessionMayOutliveItsServer) {
  start();
  {
    Client client(*ioc_);
    ASSERT_TRUE(run(client.connect(endpoint_)));
    ASSERT_TRUE(connections_become(1));
  }  // the loop does not run again, so the session stays suspended in its read
  server_.reset();
  // As in a shard, the io_context outlives the server and, destroyed,
  // destroys the frames of the coroutines still waiting in it: the session's
  // bookkeeping must not reach into the dead server (ASan checks).
  ioc_.reset();
}

}  // namespace
}  // namespace betsdb::http

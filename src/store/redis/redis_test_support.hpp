// Helpers for the Redis client tests only (included by *_test.cpp files).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "store/redis/invalidation_tracker.hpp"
#include "store/redis/redis_client.hpp"
#include "store/redis/redis_config.hpp"

// ASSERT_* expands to `return`, which a coroutine may not use; this is the
// coroutine form: CO_ASSERT(reply.ok(), reply.error().detail);
#define CO_ASSERT(cond, ...)                                             \
  do {                                                                   \
    if (!(cond)) {                                                       \
      ADD_FAILURE() << "Assertion failed: " #cond "\n  " << __VA_ARGS__; \
      co_return;                                                         \
    }                                                                    \
  } while (0)

namespace betsdb::redis::testing {

namespace asio = boost::asio;
using namespace std::chrono_literals;

inline constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// The shared test server (scripts/test sets it). Missing means a broken test
// set-up, which must fail loudly rather than skip.
inline std::optional<Config> test_redis_config() {
  const char* url = std::getenv("BETSDB_TEST_REDIS_URL");
  if (url == nullptr || *url == '\0') {
    ADD_FAILURE() << "BETSDB_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6390/0)";
    return std::nullopt;
  }
  auto cfg = parse_url(url);
  if (!cfg.ok()) {
    ADD_FAILURE() << "BETSDB_TEST_REDIS_URL: " << cfg.error().detail;
    return std::nullopt;
  }
  return *cfg;
}

// Far above what failing "at once" takes, far below a retry budget, a hang
// or a connect timeout.
inline constexpr auto kFastFailBound = 250ms;

// A started client of `cfg`'s server; a test fails if it does not connect.
inline asio::awaitable<std::shared_ptr<Client>> connected_client(asio::io_context& io, Config cfg) {
  auto client = Client::create(io.get_executor(), std::move(cfg));
  client->start();
  const Status up = co_await client->wait_connected(5s);
  EXPECT_TRUE(up.ok()) << (up.ok() ? "" : up.error().detail);
  co_return client;
}

// Keys unique to this test process, so parallel test runs never collide.
inline std::string unique_key_prefix(std::string_view test) {
  std::random_device random;
  return "betsdb:test:" + std::string(test) + ":" + std::to_string(::getpid()) + ":" +
         std::to_string(random()) + ":";
}

// Runs `body(io)` on a fresh io_context and fails the test if it has not finished
// within `bound`. Stops the context when the body ends, so a client left running
// cannot hang the test.
template <class Body>
void run_async(Body body, std::chrono::steady_clock::duration bound = 30s) {
  asio::io_context io;
  bool finished = false;
  std::exception_ptr failure;
  asio::co_spawn(io, body(io), [&](std::exception_ptr e) {
    finished = true;
    failure = e;
    io.stop();
  });
  io.run_for(bound);
  ASSERT_TRUE(finished) << "the test coroutine did not finish in time";
  if (failure) std::rethrow_exception(failure);
}

inline asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(kAwait);
}

// Counts finished tasks; wait() completes when all have.
class Latch final {
 public:
  Latch(asio::any_io_executor ex, int count)
      : signal_(ex, asio::steady_timer::time_point::max()), remaining_(count) {}
  void count_down() {
    if (--remaining_ == 0) signal_.cancel();
  }
  asio::awaitable<void> wait() {
    while (remaining_ > 0) co_await signal_.async_wait(kAwait);
  }

 private:
  asio::steady_timer signal_;
  int remaining_;
};

// A TCP port that nothing listens on right now, picked by the kernel.
inline std::uint16_t free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  return acceptor.local_endpoint().port();
}

// A private redis-server child process (no persistence), for restart tests.
class RedisProcess final {
 public:
  explicit RedisProcess(std::uint16_t port) : port_(port) {}
  ~RedisProcess() { kill(); }
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  // True if the process was spawned; readiness is for the caller to poll.
  bool start() {
    const std::string port = std::to_string(port_);
    std::vector<std::string> args = {"redis-server", "--port",     port,     "--bind",
                                     "127.0.0.1",    "--save",     "",       "--appendonly",
                                     "no",           "--loglevel", "warning"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    const int rc =
        posix_spawn(&pid_, "/usr/bin/redis-server", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) pid_ = -1;
    return pid_ > 0;
  }

  // SIGKILL, like a crash: no goodbye on open connections beyond the kernel's.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  std::uint16_t port_;
  pid_t pid_ = -1;
};

// Polls until the tracker may be trusted (its PINGs are answered); false
// after `bound`. Asking is what keeps the PINGs going.
inline asio::awaitable<bool> wait_fresh(InvalidationTracker& tracker,
                                        std::chrono::steady_clock::duration bound = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (tracker.fresh()) co_return true;
    co_await sleep_for(100us);
  }
  co_return false;
}

}  // namespace betsdb::redis::testing

// How the client behaves when Redis is away, silent, broken or restarted. These
// use fake servers and a private redis-server child, not BETSDB_TEST_REDIS_URL.
#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>

#include "store/redis/redis_client.hpp"
#include "store/redis/redis_test_support.hpp"

namespace betsdb::redis {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
using testing::kAwait;
using testing::kFastFailBound;
using testing::run_async;
using Clock = std::chrono::steady_clock;

Config local_config(std::uint16_t port) {
  Config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = port;
  return cfg;
}

// A TCP server that accepts connections and keeps them open, and either never
// says a word or answers every read with `answer` (only the reads that contain
// `trigger`, when one is given).
class FakeServer final {
 public:
  FakeServer(asio::io_context& io, std::string answer = {}, std::string trigger = {})
      : acceptor_(io, {asio::ip::address_v4::loopback(), 0}),
        answer_(std::move(answer)),
        trigger_(std::move(trigger)) {
    asio::co_spawn(io, accept_loop(), asio::detached);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int accepted() const { return accepted_; }
  void close() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& s : sockets_) s->close(ignored);
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kAwait);
      if (ec) co_return;
      ++accepted_;
      auto shared = std::make_shared<tcp::socket>(std::move(socket));
      sockets_.push_back(shared);
      asio::co_spawn(acceptor_.get_executor(), serve(shared), asio::detached);
    }
  }
  asio::awaitable<void> serve(std::shared_ptr<tcp::socket> socket) {
    char buffer[4096];
    for (;;) {
      auto [ec, n] = co_await socket->async_read_some(asio::buffer(buffer), kAwait);
      if (ec) co_return;
      const std::string_view read(buffer, n);
      if (!answer_.empty() && read.find(trigger_) != std::string_view::npos) {
        co_await asio::async_write(*socket, asio::buffer(answer_), kAwait);
      }
    }
  }

  tcp::acceptor acceptor_;
  std::string answer_;
  std::string trigger_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
  int accepted_ = 0;
};

TEST(RedisClientOutage, CommandsFailAtOnceWhenNothingListens) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    // Bound but not listening: connecting to it is refused, and nobody else can
    // take the port while we hold it.
    tcp::socket placeholder(io);
    placeholder.open(tcp::v4());
    placeholder.bind({asio::ip::address_v4::loopback(), 0});
    auto client =
        Client::create(io.get_executor(), local_config(placeholder.local_endpoint().port()));
    client->start();

    for (int attempt = 0; attempt < 5; ++attempt) {
      const auto started = Clock::now();
      auto reply = co_await client->command("PING");
      const auto took = Clock::now() - started;
      CO_ASSERT(!reply.ok(), "PING succeeded against a closed port");
      EXPECT_EQ(reply.error().code, Errc::service_unavailable);
      EXPECT_LT(took, kFastFailBound);
      co_await testing::sleep_for(20ms);  // spread attempts over several reconnect tries
    }
    // The client keeps retrying in the background and says why it cannot connect.
    for (int poll = 0; poll < 200 && client->stats().transport_errors < 2; ++poll) {
      co_await testing::sleep_for(10ms);
    }
    EXPECT_GE(client->stats().transport_errors, 2u);
    EXPECT_FALSE(client->connected());
    EXPECT_NE(client->last_error().find("refused"), std::string::npos) << client->last_error();
    auto reply = co_await client->command("PING");
    CO_ASSERT(!reply.ok(), "PING succeeded against a closed port");
    EXPECT_NE(reply.error().detail.find("not connected"), std::string::npos)
        << reply.error().detail;

    const Status up = co_await client->wait_connected(100ms);
    EXPECT_FALSE(up.ok());
    client->stop();
  });
}

TEST(RedisClientOutage, SilentServerTimesOutEveryPendingCommand) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    FakeServer silent(io);
    Config cfg = local_config(silent.port());
    cfg.command_timeout = 200ms;
    auto client = Client::create(io.get_executor(), cfg);
    // The client's first command (INFO server, sent on connecting and not
    // waited for) times out first, and takes the connection and every
    // command behind it down with it: the bound runs from before it was sent.
    const auto before_any_command = Clock::now();
    client->start();
    const Status up = co_await client->wait_connected(5s);  // no AUTH/SELECT: TCP is enough
    CO_ASSERT(up.ok(), up.error().detail);

    constexpr int kCommands = 3;
    testing::Latch done(io.get_executor(), kCommands);
    std::vector<Result<Reply>> results;
    const auto started = Clock::now();
    for (int i = 0; i < kCommands; ++i) {
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> { results.push_back(co_await client->command("PING")); },
          [&](std::exception_ptr) { done.count_down(); });
    }
    co_await done.wait();
    const auto took = Clock::now() - started;
    CO_ASSERT(results.size() == kCommands, "");
    for (const auto& r : results) {
      CO_ASSERT(!r.ok(), "a silent server answered");
      EXPECT_EQ(r.error().code, Errc::service_unavailable);
      EXPECT_NE(r.error().detail.find("did not answer within 200 ms"), std::string::npos)
          << r.error().detail;
    }
    EXPECT_GE(Clock::now() - before_any_command, 200ms) << "timed out before 200 ms";
    EXPECT_LT(took, 2s);
    EXPECT_FALSE(client->connected());
    EXPECT_EQ(client->stats().timeouts, 1u);

    // While it reconnects, new commands fail at once rather than queue.
    const auto again = Clock::now();
    auto reply = co_await client->command("PING");
    EXPECT_FALSE(reply.ok());
    EXPECT_LT(Clock::now() - again, kFastFailBound);
    client->stop();
    silent.close();
  });
}

TEST(RedisClientOutage, ServerThatNeverAnswersAuthHitsTheConnectTimeout) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    FakeServer silent(io);
    Config cfg = local_config(silent.port());
    cfg.password = "secret";
    cfg.connect_timeout = 150ms;
    auto client = Client::create(io.get_executor(), cfg);
    client->start();
    for (int poll = 0; poll < 300 && client->stats().transport_errors == 0; ++poll) {
      co_await testing::sleep_for(10ms);
    }
    EXPECT_GE(client->stats().transport_errors, 1u);
    EXPECT_GE(silent.accepted(), 1);
    EXPECT_FALSE(client->connected());
    EXPECT_NE(client->last_error().find("timed out after 150 ms"), std::string::npos)
        << client->last_error();
    client->stop();
    silent.close();
  });
}

TEST(RedisClientOutage, RejectedAuthIsReportedAndNotConnected) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    FakeServer refusing(io, "-WRONGPASS invalid username-password pair\r\n");
    Config cfg = local_config(refusing.port());
    cfg.password = "wrong";
    auto client = Client::create(io.get_executor(), cfg);
    client->start();
    for (int poll = 0; poll < 300 && client->stats().transport_errors == 0; ++poll) {
      co_await testing::sleep_for(10ms);
    }
    EXPECT_FALSE(client->connected());
    EXPECT_NE(client->last_error().find("Redis refused AUTH: WRONGPASS"), std::string::npos)
        << client->last_error();
    client->stop();
    refusing.close();
  });
}

TEST(RedisClientOutage, ProtocolGarbageFailsPendingCommands) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    // Garbage in answer to the test's PING only: the client's own first
    // command (INFO, to learn the server's id) stays pending, so the client is
    // connected until the PING's answer fails it, and that command with it.
    FakeServer garbage(io, "this is not RESP\r\n", "PING");
    auto client = Client::create(io.get_executor(), local_config(garbage.port()));
    client->start();
    const Status up = co_await client->wait_connected(5s);
    CO_ASSERT(up.ok(), up.error().detail);
    auto reply = co_await client->command("PING");
    CO_ASSERT(!reply.ok(), "garbage was accepted as a reply");
    EXPECT_EQ(reply.error().code, Errc::service_unavailable);
    EXPECT_NE(reply.error().detail.find("protocol error"), std::string::npos)
        << reply.error().detail;
    client->stop();
    garbage.close();
  });
}

// The whole life of an outage against a real server: kill Redis, watch commands
// fail fast, start it again on the same port, and see the client recover alone.
TEST(RedisClientOutage, RecoversByItselfAfterRedisRestarts) {
  run_async(
      [](asio::io_context& io) -> asio::awaitable<void> {
        const std::uint16_t port = testing::free_port();
        testing::RedisProcess redis(port);
        CO_ASSERT(redis.start(), "cannot spawn /usr/bin/redis-server");

        Config cfg = local_config(port);
        cfg.connect_timeout = 500ms;
        auto client = Client::create(io.get_executor(), cfg);
        client->start();
        // redis-server needs a moment to listen; the client's own retries find it.
        const Status up = co_await client->wait_connected(10s);
        CO_ASSERT(up.ok(), up.error().detail);
        auto set = co_await client->command("SET", "restart:key", "before");
        CO_ASSERT(set.ok() && set->is_ok(), "SET failed before the restart");
        const auto reached_before = client->connected_at();
        EXPECT_LE(reached_before, Clock::now());

        redis.kill();
        // The first command after the crash fails (whether the client noticed the
        // closed socket before sending it or not) and does so promptly.
        const auto crash = Clock::now();
        auto lost = co_await client->command("GET", "restart:key");
        CO_ASSERT(!lost.ok(), "GET succeeded after Redis was killed");
        EXPECT_EQ(lost.error().code, Errc::service_unavailable);
        EXPECT_LT(Clock::now() - crash, 2s);
        // While it is down, every command fails at once.
        for (int i = 0; i < 5; ++i) {
          const auto started = Clock::now();
          auto down = co_await client->command("PING");
          EXPECT_FALSE(down.ok());
          EXPECT_LT(Clock::now() - started, kFastFailBound);
          co_await testing::sleep_for(20ms);
        }
        EXPECT_FALSE(client->connected());
        const auto reconnects_before = client->stats().reconnects;

        CO_ASSERT(redis.start(), "cannot respawn /usr/bin/redis-server");
        // Poll by awaiting real commands, bounded: back-off tops out at 1 s.
        bool recovered = false;
        for (int attempt = 0; attempt < 400 && !recovered; ++attempt) {
          auto ping = co_await client->command("PING");
          recovered = ping.ok() && *ping == Reply::status("PONG");
          if (!recovered) co_await testing::sleep_for(25ms);
        }
        CO_ASSERT(recovered, "client did not reconnect; last error: " << client->last_error());
        EXPECT_EQ(client->stats().reconnects, reconnects_before + 1);
        // What the restarted process says it holds counts only from now
        // (Served::origin_since): it may have lost what the old one took.
        EXPECT_GT(client->connected_at(), crash);
        EXPECT_GT(client->connected_at(), reached_before);
        auto fresh = co_await client->command("GET", "restart:key");  // no persistence: gone
        CO_ASSERT(fresh.ok(), fresh.error().detail);
        EXPECT_TRUE(fresh->is_nil());
        auto set_again = co_await client->command("SET", "restart:key", "after");
        CO_ASSERT(set_again.ok() && set_again->is_ok(), "SET failed after the restart");
        client->stop();
      },
      60s);
}

}  // namespace
}  // namespace betsdb::redis

// The connection deadline over a real loopback socket pair: a pending read
// ends when the deadline passes, not before, and not at all without one.
// Lower bounds are exact (the deadline never fires early); upper bounds are
// generous, so that a loaded machine cannot fail them, yet a hang would.
#include "http/deadline.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>

namespace betsdb::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kDeadlineBound = 20s;

class DeadlineTest : public ::testing::Test {
 protected:
  DeadlineTest() : server(ioc), client(ioc) {
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }

  // Starts a read on the server side; `ended` gets its error when it ends.
  void read() {
    server.async_read_some(asio::buffer(byte), [this](boost::system::error_code ec, std::size_t) {
      ended = ec;
      ended_at = Clock::now();
    });
  }

  // Runs the loop until the read ended or `limit` passed.
  void run_until_read_ends(Clock::duration limit) {
    const auto until = Clock::now() + limit;
    while (!ended && Clock::now() < until) ioc.run_one_for(10ms);
  }

  asio::io_context ioc;
  tcp::socket server;
  tcp::socket client;
  std::array<char, 1> byte{};
  std::optional<boost::system::error_code> ended;
  Clock::time_point ended_at;
};

TEST_F(DeadlineTest, APendingReadEndsWhenTheDeadlinePassesAndNotBefore) {
  Deadline deadline(server);
  const auto start = Clock::now();
  deadline.expires_after(50ms);
  read();
  run_until_read_ends(kDeadlineBound);
  ASSERT_TRUE(ended) << "the deadline never closed the socket";
  EXPECT_TRUE(*ended);
  EXPECT_GE(ended_at - start, 50ms);
  EXPECT_TRUE(deadline.expired());
  EXPECT_FALSE(server.is_open());
}

TEST_F(DeadlineTest, ADeadlineMovedLaterHoldsTheConnectionUntilTheLastOne) {
  Deadline deadline(server);
  read();
  // A request deadline moved on by each step, as a busy connection does.
  // A slow machine may let a step outlast the deadline; the read may then
  // end, but never sooner than the deadline last set.
  auto last_move = Clock::now();
  for (int i = 0; i < 6 && !ended; ++i) {
    last_move = Clock::now();
    deadline.expires_after(60ms);
    asio::steady_timer step(ioc, 20ms);
    bool stepped = false;
    step.async_wait([&](boost::system::error_code) { stepped = true; });
    while (!stepped) ioc.run_one();
  }
  run_until_read_ends(kDeadlineBound);
  ASSERT_TRUE(ended);
  EXPECT_GE(ended_at - last_move, 60ms);
}

TEST_F(DeadlineTest, ADeadlineMovedEarlierFiresAtTheEarlierTime) {
  Deadline deadline(server);
  deadline.expires_after(1h);    // an idle deadline ...
  deadline.expires_after(50ms);  // ... then a request's, much shorter
  read();
  run_until_read_ends(kDeadlineBound);
  ASSERT_TRUE(ended) << "the earlier deadline did not re-arm the timer";
  EXPECT_TRUE(deadline.expired());
}

TEST_F(DeadlineTest, WithoutADeadlineAReadWaitsForItsBytes) {
  Deadline deadline(server);
  deadline.expires_after(30ms);
  deadline.expires_never();
  read();
  // Well past the cancelled deadline, the read is still pending ...
  asio::steady_timer later(ioc, 200ms);
  bool waited = false;
  later.async_wait([&](boost::system::error_code) { waited = true; });
  while (!waited) ioc.run_one();
  ASSERT_FALSE(ended) << "closed with no deadline set";
  EXPECT_FALSE(deadline.expired());
  // ... and ends normally when the peer writes.
  asio::write(client, asio::buffer("x", 1));
  run_until_read_ends(kDeadlineBound);
  ASSERT_TRUE(ended);
  EXPECT_FALSE(*ended);
}

TEST_F(DeadlineTest, AConnectionMayGoWhileItsTimerWaits) {
  {
    Deadline deadline(server);
    deadline.expires_after(20ms);
  }
  // The timer's handler runs after the Deadline is gone and must touch nothing.
  read();
  asio::steady_timer later(ioc, 100ms);
  bool waited = false;
  later.async_wait([&](boost::system::error_code) { waited = true; });
  while (!waited) ioc.run_one();
  EXPECT_FALSE(ended);
  EXPECT_TRUE(server.is_open());
}

}  // namespace
}  // namespace betsdb::http

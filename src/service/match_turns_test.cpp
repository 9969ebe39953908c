// service::MatchTurns: one placement per match at a time on a shard, in
// arrival order, matches independent, bounded waits.
#include "service/match_turns.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>
#include <vector>

namespace betsdb::service {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Takes the turns on `ids` and keeps them until `release` is set (checked
// whenever the context runs), recording "took <name>" when it has them.
struct Taker {
  Taker(std::string name_, std::vector<std::int64_t> ids_)
      : name(std::move(name_)), ids(std::move(ids_)) {}

  std::string name;
  std::vector<std::int64_t> ids;
  std::optional<MatchTurns::Turns> held;
  std::optional<Errc> failed;
};

void spawn_take(asio::io_context& io, std::shared_ptr<MatchTurns> turns, Taker& taker,
                std::vector<std::string>& log) {
  asio::co_spawn(
      io,
      [turns, &taker, &log]() -> asio::awaitable<void> {
        auto ids = taker.ids;
        auto got = co_await MatchTurns::take(turns, std::move(ids));
        if (!got.ok()) {
          taker.failed = got.error().code;
          log.push_back("failed " + taker.name);
          co_return;
        }
        taker.held.emplace(std::move(got).value());
        log.push_back("took " + taker.name);
      },
      asio::detached);
}

TEST(MatchTurns, OnePlacementPerMatchAtATimeInArrivalOrder) {
  asio::io_context io;
  auto turns = std::make_shared<MatchTurns>();
  std::vector<std::string> log;
  Taker a{"a", {7}}, b{"b", {7}}, c{"c", {7}};
  for (Taker* t : {&a, &b, &c}) spawn_take(io, turns, *t, log);
  io.poll();
  EXPECT_EQ(log, (std::vector<std::string>{"took a"}));
  a.held.reset();  // passes the turn on
  io.poll();
  EXPECT_EQ(log, (std::vector<std::string>{"took a", "took b"}));
  b.held.reset();
  io.poll();
  EXPECT_EQ(log, (std::vector<std::string>{"took a", "took b", "took c"}));
  c.held.reset();
  EXPECT_EQ(turns->busy_matches(), 0u);
}

TEST(MatchTurns, DifferentMatchesNeverWaitForEachOther) {
  asio::io_context io;
  auto turns = std::make_shared<MatchTurns>();
  std::vector<std::string> log;
  Taker a{"a", {1}}, b{"b", {2}};
  spawn_take(io, turns, a, log);
  spawn_take(io, turns, b, log);
  io.poll();
  EXPECT_EQ(log, (std::vector<std::string>{"took a", "took b"}));
  EXPECT_EQ(turns->busy_matches(), 2u);
}

TEST(MatchTurns, SeveralMatchesAreTakenTogetherAndPassedOnTogether) {
  asio::io_context io;
  auto turns = std::make_shared<MatchTurns>();
  std::vector<std::string> log;
  Taker cart{"cart", {3, 1, 3, 2}}, single{"single", {2}};
  spawn_take(io, turns, cart, log);
  spawn_take(io, turns, single, log);
  io.poll();
  EXPECT_EQ(log, (std::vector<std::string>{"took cart"}));
  EXPECT_EQ(turns->busy_matches(), 3u) << "repeats count once";
  cart.held.reset();
  io.poll();
  EXPECT_EQ(log, (std::vector<std::string>{"took cart", "took single"}));
  single.held.reset();
  EXPECT_EQ(turns->busy_matches(), 0u);
}

TEST(MatchTurns, AWaitPastTheBoundIsServiceUnavailableAndLeavesTheLine) {
  asio::io_context io;
  auto turns = std::make_shared<MatchTurns>(20ms);
  std::vector<std::string> log;
  Taker holder{"holder", {5}}, late{"late", {4, 5}};
  spawn_take(io, turns, holder, log);
  spawn_take(io, turns, late, log);
  io.run_for(200ms);
  EXPECT_EQ(log, (std::vector<std::string>{"took holder", "failed late"}));
  EXPECT_EQ(late.failed, Errc::service_unavailable);
  // The turn on 4, taken before waiting for 5, was passed on.
  EXPECT_EQ(turns->busy_matches(), 1u);
  holder.held.reset();
  EXPECT_EQ(turns->busy_matches(), 0u);
}

}  // namespace
}  // namespace betsdb::service

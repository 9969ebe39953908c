// PasswordPool: the slow work runs on the pool's threads, the caller resumes
// on its own, a full pool refuses at once instead of queueing, and one client
// gets at most its turns at once.
#include "service/password_pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "util/password.hpp"

namespace betsdb::service {
namespace {

namespace asio = boost::asio;

struct Seen {
  std::thread::id before;
  std::thread::id after;
  bool matched = false;
};

asio::awaitable<void> hash_and_verify(PasswordPool& pool, Seen& seen) {
  seen.before = std::this_thread::get_id();
  auto hashed = co_await pool.hash("correct horse battery");
  EXPECT_TRUE(hashed.ok());
  if (!hashed.ok()) co_return;
  auto matched = co_await pool.verify(*hashed, "correct horse battery");
  seen.after = std::this_thread::get_id();
  seen.matched = matched.ok() && *matched;
}

TEST(PasswordPool, HashesOnItsThreadsAndResumesTheCallerOnItsOwn) {
  PasswordPool pool(2, 8);
  asio::io_context io;
  std::vector<Seen> seen(4);
  for (auto& s : seen) asio::co_spawn(io, hash_and_verify(pool, s), asio::detached);
  io.run();
  for (const auto& s : seen) {
    EXPECT_EQ(s.before, std::this_thread::get_id());
    EXPECT_EQ(s.after, std::this_thread::get_id());
    EXPECT_TRUE(s.matched);
  }
}

asio::awaitable<void> verify_once(PasswordPool& pool, int& refused, int& answered) {
  auto matched = co_await pool.verify(decoy_password_hash(), "guess");
  if (!matched.ok() && matched.error().is(Errc::service_unavailable)) ++refused;
  if (matched.ok()) ++answered;
}

TEST(PasswordPool, RefusesBeyondItsThreadsAndWaitingRoom) {
  PasswordPool pool(1, 2);  // one at work, two waiting
  asio::io_context io;
  int refused = 0, answered = 0;
  for (int i = 0; i < 6; ++i)
    asio::co_spawn(io, verify_once(pool, refused, answered), asio::detached);
  io.run();
  EXPECT_EQ(answered, 3);
  EXPECT_EQ(refused, 3);
}

TEST(PasswordPool, GivesEachClientAtMostItsTurnsAtOnce) {
  PasswordPool pool(1, 8, 2);
  std::optional<PasswordPool::Turn> first = pool.enter("192.0.2.1");
  const auto second = pool.enter("192.0.2.1");
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(pool.enter("192.0.2.1"));
  EXPECT_TRUE(pool.enter("2001:db8:1:2::/64")) << "another client has turns of its own";
  first.reset();
  EXPECT_TRUE(pool.enter("192.0.2.1")) << "a turn given back can be taken again";
}

TEST(PasswordPool, AMovedTurnIsGivenBackOnce) {
  PasswordPool pool(1, 8, 1);
  {
    auto turn = pool.enter("192.0.2.1");
    ASSERT_TRUE(turn);
    const PasswordPool::Turn moved = std::move(*turn);
    turn.reset();  // the moved-from turn gives back nothing
    EXPECT_FALSE(pool.enter("192.0.2.1"));
  }
  EXPECT_TRUE(pool.enter("192.0.2.1"));
}

TEST(PasswordPool, WithoutAPerClientLimitEveryoneEnters) {
  PasswordPool pool(1, 8);
  std::vector<PasswordPool::Turn> turns;
  for (int i = 0; i < 100; ++i) {
    auto turn = pool.enter("192.0.2.1");
    ASSERT_TRUE(turn);
    turns.push_back(std::move(*turn));
  }
}

}  // namespace
}  // namespace betsdb::service

// PasswordPool: the slow work runs on the pool's threads, the caller resumes
// on its own, and a full pool refuses at once instead of queueing.
#include "service/password_pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
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

}  // namespace
}  // namespace betsdb::service

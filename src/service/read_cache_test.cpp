// The read cache's misses, against a faked cache store: which concurrent
// readers may share one load; which invalidations a master that is down
// holds back; and how overdue invalidations are retried.
#include "service/read_cache.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "service/test_fakes.hpp"

namespace betsdb::service {
namespace {

using namespace fakes;

// A load that waits until the test opens the gate (cancels the timer).
Loader gated_load(asio::steady_timer& gate, int& loads, std::string answer) {
  return [&gate, &loads, answer](ReadSource) -> asio::awaitable<Result<std::string>> {
    ++loads;
    boost::system::error_code ignored;
    co_await gate.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    co_return answer;
  };
}

asio::awaitable<void> read_into(Context& ctx, std::string query, Loader load,
                                std::optional<Result<std::string>>& out) {
  out.emplace(co_await cached(ctx, CacheArea::matches, ReadCache::matches(), std::move(query),
                              std::move(load)));
}

// A read of namespace `ns` whose load answers "[]".
asio::awaitable<void> read_namespace_into(Context& ctx, CacheNamespace ns,
                                          std::optional<Result<std::string>>& out) {
  Loader load = [](ReadSource) -> asio::awaitable<Result<std::string>> {
    co_return std::string("[]");
  };
  out.emplace(co_await cached(ctx, CacheArea::bets, std::move(ns), "q", std::move(load)));
}

// A Redis process that lost a write's bump (restarted from an older AOF, or a
// replica promoted before it got the bump) shows the generations from before
// the write. A reader it answers must load for itself: joining a load begun
// before the write, under the lost process, would answer data older than a
// write that has returned.
TEST(ReadCacheMiss, AReaderAnsweredByAnotherRedisProcessDoesNotJoinALoadBegunBeforeIt) {
  Fakes f(/*with_cache=*/true);
  asio::steady_timer gate(f.io, asio::steady_timer::time_point::max());
  int loads = 0;
  const std::string query = "origin-change";
  std::optional<Result<std::string>> first;
  std::optional<Result<std::string>> second;

  asio::co_spawn(f.io, read_into(f.ctx, query, gated_load(gate, loads, "before the write"), first),
                 asio::detached);
  ASSERT_TRUE(f.run_until([&] { return loads == 1; }));

  f.cache_store->origin = "the promoted replica";  // same generations, another process
  Loader fresh = [&loads](ReadSource) -> asio::awaitable<Result<std::string>> {
    ++loads;
    co_return std::string("after the write");
  };
  asio::co_spawn(f.io, read_into(f.ctx, query, std::move(fresh), second), asio::detached);
  // Its own load answers at once; a joined one would wait at the gate.
  EXPECT_TRUE(f.run_until([&] { return second.has_value(); }, 2s))
      << "the second reader joined the first one's load";
  EXPECT_EQ(loads, 2);

  gate.cancel();
  ASSERT_TRUE(f.run_until([&] { return first.has_value() && second.has_value(); }));
  ASSERT_TRUE(second->ok());
  EXPECT_EQ(**second, "after the write");
  ASSERT_TRUE(first->ok());
  EXPECT_EQ(**first, "before the write");
}

// The same process and generations: one load, shared (the single flight).
TEST(ReadCacheMiss, ReadersOfTheSameGenerationsFromTheSameProcessShareOneLoad) {
  Fakes f(/*with_cache=*/true);
  asio::steady_timer gate(f.io, asio::steady_timer::time_point::max());
  int loads = 0;
  const std::string query = "same-origin";
  std::optional<Result<std::string>> first;
  std::optional<Result<std::string>> second;

  asio::co_spawn(f.io, read_into(f.ctx, query, gated_load(gate, loads, "shared"), first),
                 asio::detached);
  ASSERT_TRUE(f.run_until([&] { return loads == 1; }));
  asio::co_spawn(f.io, read_into(f.ctx, query, gated_load(gate, loads, "own"), second),
                 asio::detached);
  // A joined reader waits at the gate with the first; its own load would be a second one.
  EXPECT_FALSE(f.run_until([&] { return loads == 2 || second.has_value(); }, 300ms));
  EXPECT_EQ(loads, 1);

  gate.cancel();
  ASSERT_TRUE(f.run_until([&] { return first.has_value() && second.has_value(); }));
  ASSERT_TRUE(second->ok());
  EXPECT_EQ(**second, "shared");
}

// On a cluster one master down must not hold back the invalidation of the
// counters the other masters hold: those are bumped before the write answers
// (other instances read them), and only its own wait for the background.
TEST(ReadCacheInvalidation, AMasterDownHoldsBackOnlyTheCountersItHolds) {
  Fakes f(true);
  const std::string kEmail = "ann@example.com";
  const std::string bets = ReadCache::bets().generations.front();
  const std::string summary = ReadCache::summary().generations.front();
  const std::string own = ReadCache::user_bets(kEmail).generations.front();
  f.cache_store->unreachable.insert(bets);
  f.run(after_bets_placed(f.ctx, 7, kEmail));
  EXPECT_TRUE(f.cache_store->bumped(summary));
  EXPECT_TRUE(f.cache_store->bumped(own));
  EXPECT_FALSE(f.cache_store->bumped(bets));
  // Its master is back (a replica promoted): the overdue bump lands.
  f.cache_store->unreachable.clear();
  ASSERT_TRUE(f.run_until([&] { return f.cache_store->bumped(bets); }, 3s));
}

// Emails never change, so a shard remembers the ones its reads looked up;
// placements, which carry the bettor's email, do not add to it: every bettor
// who never reads their list would hold an entry on every shard (11 MB of
// the peak heap for 80,000 bettors in bench/run's place).
TEST(ReadCacheEmails, AShardRemembersOnlyTheEmailsAReadLookedUp) {
  Fakes f(true);
  f.users->add(7, "ann@example.com");
  f.run(after_bets_placed(f.ctx, 7, "ann@example.com"));
  EXPECT_TRUE(f.cache_store->bumped(ReadCache::user_bets("ann@example.com").generations.front()));
  EXPECT_EQ(f.ctx.cache->email_of(7), nullptr) << "a placement remembered its bettor's email";

  auto first = f.run(user_email(f.ctx, 7));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, "ann@example.com");
  EXPECT_EQ(f.users->finds, 1);
  auto again = f.run(user_email(f.ctx, 7));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "ann@example.com");
  EXPECT_EQ(f.users->finds, 1) << "a second read looked the email up again";
}

// A long outage under many writes: each write that could not bump adds its
// counters to what its shard owes, and one background task bumps all of it,
// every kBackgroundBumpDelay, until it lands. A task per write, as before,
// sent one bump per write per round (thousands under load, all landing at
// once when Redis came back) and never gave up on error replies.
TEST(ReadCacheInvalidation, TheOverdueBumpsOfManyWritesShareOneBackgroundTask) {
  Fakes f(true);
  const std::string bets = ReadCache::bets().generations.front();
  f.cache_store->unreachable.insert(bets);
  constexpr int kWrites = 50;
  for (int i = 0; i < kWrites; ++i) f.run(after_bets_placed(f.ctx, 7, "ann@example.com"));
  // Reachable again, but refusing bumps (error replies) for a second.
  f.cache_store->unreachable.clear();
  f.cache_store->bumps_fail = true;
  const int before = f.cache_store->bump_attempts;
  EXPECT_FALSE(f.run_until([] { return false; }, 1s));
  EXPECT_LE(f.cache_store->bump_attempts - before, 8) << "one bump per 200 ms, not one per write";
  EXPECT_GE(f.cache_store->bump_attempts - before, 2) << "the owed bump is retried";
  EXPECT_FALSE(f.cache_store->bumped(bets));

  f.cache_store->bumps_fail = false;
  ASSERT_TRUE(f.run_until([&] { return f.cache_store->bumped(bets); }, 3s));
  const auto landed = std::count_if(
      f.cache_store->bumps.begin(), f.cache_store->bumps.end(),
      [&](const auto& keys) { return std::find(keys.begin(), keys.end(), bets) != keys.end(); });
  EXPECT_EQ(landed, 1) << "one bump pays every write's debt";
  // Paid: the namespace is read through the cache again.
  const int reads = f.cache_store->reads;
  std::optional<Result<std::string>> out;
  f.run(read_namespace_into(f.ctx, ReadCache::bets(), out));
  EXPECT_EQ(f.cache_store->reads, reads + 1);
}

// A bump sent before a write owed its counter may have run before that
// write's commit: it pays only the writes that owed the counter before it
// was sent, and the later one's debt is bumped again.
TEST(ReadCacheInvalidation, AnOverdueBumpSentBeforeAWriteDoesNotPayThatWrite) {
  Fakes f(true);
  const std::string matches = ReadCache::matches().generations.front();
  f.cache_store->unreachable.insert(matches);
  f.run(after_match_changed(f.ctx));
  // The background bump is sent, and held on its way.
  f.cache_store->bump_gate =
      std::make_shared<asio::steady_timer>(f.io, asio::steady_timer::time_point::max());
  f.cache_store->unreachable.clear();
  ASSERT_TRUE(f.run_until([&] { return f.cache_store->bump_attempts == 1; }, 2s));
  // A second write owes the counter meanwhile (its own bump fails).
  f.cache_store->unreachable.insert(matches);
  f.run(after_match_changed(f.ctx));
  f.cache_store->unreachable.clear();
  auto gate = std::exchange(f.cache_store->bump_gate, nullptr);
  gate->cancel();
  ASSERT_TRUE(f.run_until([&] { return f.cache_store->bumps.size() == 2; }, 3s))
      << "the second write's debt was taken as paid by a bump sent before it";
  std::optional<Result<std::string>> out;
  const int reads = f.cache_store->reads;
  f.run(read_namespace_into(f.ctx, ReadCache::matches(), out));
  EXPECT_EQ(f.cache_store->reads, reads + 1) << "paid: read through the cache again";
}

// Nor does it hold back reads: a counter on the down master is not asked
// for (each read would wait its time-out, then leave a command retrying
// behind it); the answer comes from PostgreSQL at once.
TEST(ReadCacheInvalidation, AReadOfANamespaceOnADownMasterGoesStraightToTheDatabase) {
  Fakes f(true);
  f.cache_store->unreachable.insert(ReadCache::matches().generations.front());
  int loads = 0;
  Loader load = [&loads](ReadSource) -> asio::awaitable<Result<std::string>> {
    ++loads;
    co_return std::string("[]");
  };
  std::optional<Result<std::string>> out;
  f.run(read_into(f.ctx, "q", load, out));
  ASSERT_TRUE(out && out->ok());
  EXPECT_EQ(**out, "[]");
  EXPECT_EQ(loads, 1);
  EXPECT_EQ(f.cache_store->reads, 0);
}

}  // namespace
}  // namespace betsdb::service

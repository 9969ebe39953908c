// HeldLock and try_hold against a fake Locks (service/test_fakes.hpp): the
// destructor releases in the background, release() waits for the release,
// keep() gives the lock up without releasing it, and a lock whose reply was
// lost is released in the background.
#include "service/held_lock.hpp"

#include <gtest/gtest.h>

#include <string>

#include "service/test_fakes.hpp"

namespace betsdb::service {
namespace {

using namespace fakes;

const std::string kKey = "some:lock";

asio::awaitable<Result<std::optional<HeldLock>>> take(std::shared_ptr<Locks> locks) {
  std::string key = kKey;  // named: g++ 12 destroys temporaries in a co_await twice
  co_return co_await try_hold(locks, std::move(key), 1000ms);
}

struct Observed {
  std::size_t unlocks_started = 0;
  bool held_after_scope = false;
};

// Takes the lock, lets it go out of scope and reports what had happened by
// the time the destructor returned.
asio::awaitable<Observed> drop_in_scope(Fakes& f) {
  {
    auto lock = co_await take(f.locks);
    if (!lock.ok() || !*lock) throw std::runtime_error("not taken");
    HeldLock held = std::move(**lock);
  }
  co_return Observed{f.locks->unlocks.size(), f.redis->holds(kKey)};
}

TEST(HeldLock, TheDestructorReleasesInTheBackground) {
  Fakes f;
  f.locks->unlock_delay = 20ms;  // a Redis round trip
  const Observed seen = f.run(drop_in_scope(f));
  EXPECT_EQ(seen.unlocks_started, 1u) << "the destructor did not release it";
  EXPECT_TRUE(seen.held_after_scope) << "the destructor waited for the release";
  // The release completes once the loop runs on.
  EXPECT_TRUE(f.run_until([&] { return !f.redis->holds(kKey); }, 2s));
  ASSERT_EQ(f.locks->unlocks.size(), 1u);
  EXPECT_EQ(f.locks->unlocks[0].key, kKey);
}

asio::awaitable<Result<bool>> release_and_look(Fakes& f, bool* released_when_answered) {
  auto lock = co_await take(f.locks);
  if (!lock.ok() || !*lock) throw std::runtime_error("not taken");
  HeldLock held = std::move(**lock);
  auto released = co_await held.release();
  *released_when_answered = !f.redis->holds(kKey) && f.locks->unlocks.size() == 1;
  if (held.held()) throw std::runtime_error("still held after release()");
  co_return released;
}

TEST(HeldLock, ReleaseWaitsForTheReleaseAndTheDestructorAddsNone) {
  Fakes f;
  f.locks->unlock_delay = 20ms;  // a Redis round trip
  bool released_when_answered = false;
  auto released = f.run(release_and_look(f, &released_when_answered));
  ASSERT_TRUE(released.ok());
  EXPECT_TRUE(*released);
  EXPECT_TRUE(released_when_answered) << "release() answered before the key was deleted";
  EXPECT_EQ(f.locks->unlocks.size(), 1u) << "released twice";
}

asio::awaitable<Result<bool>> release_lapsed(Fakes& f) {
  auto lock = co_await take(f.locks);
  if (!lock.ok() || !*lock) throw std::runtime_error("not taken");
  HeldLock held = std::move(**lock);
  f.redis->values[kKey] = "taken over after expiry";
  co_return co_await held.release();
}

TEST(HeldLock, ReleasingALockThatLapsedLeavesTheNewHolderAlone) {
  Fakes f;
  auto released = f.run(release_lapsed(f));
  ASSERT_TRUE(released.ok());
  EXPECT_FALSE(*released);
  EXPECT_EQ(f.redis->value(kKey), "taken over after expiry");
}

asio::awaitable<bool> keep_it(Fakes& f) {
  auto lock = co_await take(f.locks);
  if (!lock.ok() || !*lock) throw std::runtime_error("not taken");
  HeldLock held = std::move(**lock);
  held.keep();
  co_return held.held();
}

TEST(HeldLock, KeepGivesItUpWithoutReleasing) {
  Fakes f;
  EXPECT_FALSE(f.run(keep_it(f)));
  EXPECT_TRUE(f.locks->unlocks.empty());
  EXPECT_TRUE(f.redis->holds(kKey));
}

asio::awaitable<std::size_t> move_it(Fakes& f) {
  auto lock = co_await take(f.locks);
  if (!lock.ok() || !*lock) throw std::runtime_error("not taken");
  HeldLock first = std::move(**lock);
  {
    HeldLock second = std::move(first);
    if (first.held() || !second.held()) throw std::runtime_error("the move did not transfer it");
  }
  co_return 0;
}

TEST(HeldLock, AMovedFromLockReleasesNothingAndTheNewOwnerReleasesOnce) {
  Fakes f;
  (void)f.run(move_it(f));
  EXPECT_EQ(f.locks->unlocks.size(), 1u);
  EXPECT_FALSE(f.redis->holds(kKey));
}

asio::awaitable<bool> throw_while_holding(Fakes& f) {
  auto lock = co_await take(f.locks);
  if (!lock.ok() || !*lock) throw std::runtime_error("not taken");
  HeldLock held = std::move(**lock);
  if (held.held()) throw FakeFailure("thrown while holding the lock");
  co_return false;
}

TEST(HeldLock, AnExceptionReleasesIt) {
  Fakes f;
  EXPECT_THROW((void)f.run(throw_while_holding(f)), FakeFailure);
  EXPECT_EQ(f.locks->unlocks.size(), 1u);
  EXPECT_FALSE(f.redis->holds(kKey));
}

// A claim whose master died under it (a Redis Cluster's master crash) would
// otherwise tell the client's retry "in progress" for its whole TTL.
TEST(HeldLock, ABackgroundReleaseThatFailsIsRetriedUntilRedisAnswers) {
  Fakes f;
  auto lock = f.run(take(f.locks));
  ASSERT_TRUE(lock.ok() && lock->has_value());
  f.locks->unavailable = true;  // Redis goes away before the release
  lock->reset();                // destroyed: released in the background, which fails
  EXPECT_TRUE(f.run_until([&] { return !f.locks->unlocks.empty(); }, 2s));
  EXPECT_TRUE(f.redis->holds(kKey));
  f.locks->unavailable = false;  // back (a replica promoted)
  EXPECT_TRUE(f.run_until([&] { return !f.redis->holds(kKey); }, 2s))
      << "the failed release was not tried again";
}

TEST(HeldLock, AReleaseThatFailsIsRetriedInTheBackground) {
  Fakes f;
  auto lock = f.run(take(f.locks));
  ASSERT_TRUE(lock.ok() && lock->has_value());
  f.locks->unavailable = true;
  auto released = f.run((**lock).release());
  EXPECT_FALSE(released.ok());
  f.locks->unavailable = false;
  EXPECT_TRUE(f.run_until([&] { return !f.redis->holds(kKey); }, 2s))
      << "the failed release was not tried again";
}

TEST(TryHold, SomeoneElsesKeyIsNulloptAndRedisDownIsAnError) {
  Fakes f;
  f.redis->values[kKey] = "someone else";
  auto taken = f.run(take(f.locks));
  ASSERT_TRUE(taken.ok());
  EXPECT_FALSE(taken->has_value());
  EXPECT_EQ(f.redis->value(kKey), "someone else");

  f.locks->unavailable = true;
  auto down = f.run(take(f.locks));
  ASSERT_FALSE(down.ok());
  EXPECT_TRUE(down.error().is(Errc::service_unavailable));
}

// A lock Redis took though its reply was lost is ours until it expires: the
// bettor's retry of the same bet would find it held for its whole TTL. It is
// released in the background, by its token, as soon as Redis answers.
TEST(TryHold, ALockWhoseReplyWasLostIsReleasedInTheBackground) {
  Fakes f;
  f.locks->lose_lock_replies = true;
  auto lost = f.run(take(f.locks));
  ASSERT_FALSE(lost.ok());
  EXPECT_TRUE(lost.error().is(Errc::service_unavailable));
  ASSERT_TRUE(f.redis->holds(kKey)) << "the fake took the key";
  f.locks->lose_lock_replies = false;
  EXPECT_TRUE(f.run_until([&] { return !f.redis->holds(kKey); }, 2s))
      << "the lost lock stays until its TTL";
  auto again = f.run(take(f.locks));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->has_value()) << "the retry finds the key free";
}

// The background release compares by token: a key someone else took since
// (ours never landed, or expired) is left alone.
TEST(TryHold, TheBackgroundReleaseLeavesSomeoneElsesKeyAlone) {
  Fakes f;
  f.locks->unavailable = true;  // nothing taken
  auto down = f.run(take(f.locks));
  ASSERT_FALSE(down.ok());
  f.redis->values[kKey] = "someone else";
  f.locks->unavailable = false;
  EXPECT_TRUE(f.run_until([&] { return f.locks->unlocks_of(kKey) > 0; }, 2s));
  EXPECT_EQ(f.redis->value(kKey), "someone else");
}

}  // namespace
}  // namespace betsdb::service

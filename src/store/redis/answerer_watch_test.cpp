// AnswererWatch: since when each slot's revocation checks have come from the
// Redis process answering them now; a restart or a failover starts it over.
#include <gtest/gtest.h>

#include <chrono>

#include "store/redis/access_store.hpp"

namespace betsdb::redis {
namespace {

using namespace std::chrono_literals;
using Clock = AnswererWatch::Clock;

const Clock::time_point kStart = Clock::time_point(1000s);

TEST(AnswererWatch, TheSameProcessHasAnsweredSinceItsFirstAnswer) {
  AnswererWatch watch;
  EXPECT_EQ(watch.answered(7, "aaaaaaaaaaaa", kStart), kStart);
  EXPECT_EQ(watch.answered(7, "aaaaaaaaaaaa", kStart + 5s), kStart);
}

TEST(AnswererWatch, AnotherProcessForTheSlotStartsOver) {
  AnswererWatch watch;
  watch.answered(7, "aaaaaaaaaaaa", kStart);
  // A failover (or a restart): what the first took may be lost.
  EXPECT_EQ(watch.answered(7, "bbbbbbbbbbbb", kStart + 5s), kStart + 5s);
  EXPECT_EQ(watch.answered(7, "bbbbbbbbbbbb", kStart + 9s), kStart + 5s);
  // And back: the second may have taken marks the first never had.
  EXPECT_EQ(watch.answered(7, "aaaaaaaaaaaa", kStart + 10s), kStart + 10s);
}

TEST(AnswererWatch, SlotsAreWatchedApart) {
  AnswererWatch watch;
  watch.answered(1, "aaaaaaaaaaaa", kStart);
  watch.answered(2, "bbbbbbbbbbbb", kStart + 1s);
  EXPECT_EQ(watch.answered(1, "aaaaaaaaaaaa", kStart + 2s), kStart);
  EXPECT_EQ(watch.answered(2, "bbbbbbbbbbbb", kStart + 2s), kStart + 1s);
}

TEST(AnswererWatch, AnUnknownOriginIsNeverVouchedFor) {
  AnswererWatch watch;
  watch.answered(7, "aaaaaaaaaaaa", kStart);
  EXPECT_EQ(watch.answered(7, "", kStart + 3s), kStart + 3s);
  EXPECT_EQ(watch.answered(7, "aaaaaaaaaaaa", kStart + 4s), kStart) << "unknown is not a change";
}

}  // namespace
}  // namespace betsdb::redis

#include "domain/match_event.hpp"

#include <gtest/gtest.h>

namespace betsdb::domain {
namespace {

TEST(EventId, ParsesWhatRedisWrites) {
  auto id = EventId::parse("1733212345678-12");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->ms, 1733212345678U);
  EXPECT_EQ(id->seq, 12U);
  EXPECT_EQ(id->text(), "1733212345678-12");
  EXPECT_EQ(EventId::parse("0-0")->text(), "0-0");
  EXPECT_EQ(EventId::parse("18446744073709551615-18446744073709551615")->seq,
            18446744073709551615ULL);
}

TEST(EventId, RefusesAnythingElse) {
  for (const char* bad : {"", "-", "1", "1-", "-1", "01-1", "1-01", "1-2-3", "a-1", "1-b", " 1-1",
                          "1-1 ", "+1-1", "18446744073709551616-0", "1--1"}) {
    EXPECT_FALSE(EventId::parse(bad)) << bad;
  }
}

TEST(EventId, OrdersByTimeThenSequence) {
  EXPECT_LT(*EventId::parse("5-9"), *EventId::parse("6-0"));
  EXPECT_LT(*EventId::parse("6-2"), *EventId::parse("6-10"));
  EXPECT_EQ(*EventId::parse("6-2"), (EventId{6, 2}));
}

}  // namespace
}  // namespace betsdb::domain

#include "domain/selection.hpp"

#include <gtest/gtest.h>

#include "domain/test_support.hpp"

namespace betsdb::domain {
namespace {

using test_support::odds;

TEST(Selection, WireNames) {
  EXPECT_EQ(to_string(Selection::home), "1");
  EXPECT_EQ(to_string(Selection::draw), "X");
  EXPECT_EQ(to_string(Selection::away), "2");
}

TEST(Selection, ParsesWireNamesAndRoundTrips) {
  EXPECT_EQ(parse_selection("1"), Selection::home);
  EXPECT_EQ(parse_selection("X"), Selection::draw);
  EXPECT_EQ(parse_selection("2"), Selection::away);
  for (Selection s : kAllSelections) EXPECT_EQ(parse_selection(to_string(s)), s);
}

TEST(Selection, RejectsAnythingElse) {
  for (const char* text :
       {"", "x", "0", "3", "home", "draw", "away", " 1", "1 ", "12", "XX", "void", "01"}) {
    EXPECT_EQ(parse_selection(text), std::nullopt) << text;
  }
}

TEST(Selection, IndexFollowsWireOrder) {
  EXPECT_EQ(index_of(Selection::home), 0u);
  EXPECT_EQ(index_of(Selection::draw), 1u);
  EXPECT_EQ(index_of(Selection::away), 2u);
}

TEST(OddsBook, StartsEmpty) {
  const OddsBook book;
  EXPECT_TRUE(book.empty());
  EXPECT_EQ(book.offered_count(), 0u);
  for (Selection s : kAllSelections) {
    EXPECT_FALSE(book.offered(s));
    EXPECT_EQ(book.get(s), std::nullopt);
  }
}

TEST(OddsBook, SetOffersOnlyThatSelection) {
  OddsBook book;
  book.set(Selection::draw, odds(325));
  EXPECT_FALSE(book.empty());
  EXPECT_EQ(book.offered_count(), 1u);
  EXPECT_TRUE(book.offered(Selection::draw));
  EXPECT_FALSE(book.offered(Selection::home));
  EXPECT_FALSE(book.offered(Selection::away));
  EXPECT_EQ(book.get(Selection::draw), odds(325));
}

TEST(OddsBook, SetReplacesAndNulloptWithdraws) {
  OddsBook book;
  book.set(Selection::home, odds(210));
  book.set(Selection::away, odds(360));
  book.set(Selection::home, odds(220));
  EXPECT_EQ(book.get(Selection::home), odds(220));
  book.set(Selection::away, std::nullopt);
  EXPECT_FALSE(book.offered(Selection::away));
  EXPECT_EQ(book.offered_count(), 1u);
  book.set(Selection::home, std::nullopt);
  EXPECT_TRUE(book.empty());
}

TEST(OddsBook, EqualityComparesEverySelection) {
  OddsBook a;
  OddsBook b;
  EXPECT_EQ(a, b);
  a.set(Selection::home, odds(210));
  EXPECT_NE(a, b);
  b.set(Selection::home, odds(210));
  EXPECT_EQ(a, b);
  b.set(Selection::home, odds(211));
  EXPECT_NE(a, b);
}

TEST(RequireOffered, FailsOnlyForAnEmptyBook) {
  OddsBook book;
  const Status empty = require_offered(book, "odds");
  ASSERT_FALSE(empty.ok());
  ASSERT_TRUE(empty.error().is(Errc::validation_failed));
  ASSERT_EQ(empty.error().field_errors.size(), 1u);
  EXPECT_EQ(empty.error().field_errors[0].field, "odds");
  book.set(Selection::away, odds(101));
  EXPECT_TRUE(require_offered(book, "odds").ok());
}

}  // namespace
}  // namespace betsdb::domain

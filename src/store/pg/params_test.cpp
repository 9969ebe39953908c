#include "store/pg/params.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace betsdb::pg {
namespace {

TEST(Params, ConvertsIntegersToDecimalText) {
  const std::int64_t big = std::numeric_limits<std::int64_t>::min();
  const Params p = params(42, big, std::uint16_t{7}, -1);
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0], "42");
  EXPECT_EQ(p[1], "-9223372036854775808");
  EXPECT_EQ(p[2], "7");
  EXPECT_EQ(p[3], "-1");
}

TEST(Params, ConvertsBoolsToPostgresBooleans) {
  const Params p = params(true, false);
  EXPECT_EQ(p[0], "t");
  EXPECT_EQ(p[1], "f");
}

TEST(Params, CopiesEveryKindOfString) {
  const std::string owned = "owned";
  std::string movable = "a string long enough to live on the heap, not in SSO";
  const Params p = params(owned, std::string_view("view"), "literal",
                          static_cast<const char*>("pointer"), std::move(movable));
  EXPECT_EQ(p[0], "owned");
  EXPECT_EQ(p[1], "view");
  EXPECT_EQ(p[2], "literal");
  EXPECT_EQ(p[3], "pointer");
  EXPECT_EQ(p[4], "a string long enough to live on the heap, not in SSO");
  EXPECT_EQ(owned, "owned");  // lvalues are copied, not moved from
}

TEST(Params, NulloptAndEmptyOptionalsBecomeNull) {
  const std::optional<std::int64_t> none;
  const std::optional<std::int64_t> some = 5;
  const std::optional<std::string> text = "x";
  const Params p = params(none, some, std::nullopt, text, std::optional<bool>(true));
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[0], std::nullopt);
  EXPECT_EQ(p[1], "5");
  EXPECT_EQ(p[2], std::nullopt);
  EXPECT_EQ(p[3], "x");
  EXPECT_EQ(p[4], "t");
}

TEST(Params, FloatingPointUsesShortestRoundTripText) {
  const Params p = params(1.5, 0.1, 1e300);
  EXPECT_EQ(p[0], "1.5");
  EXPECT_EQ(p[1], "0.1");
  EXPECT_EQ(p[2], "1e+300");
}

TEST(Params, EmptyCallGivesNoParameters) {
  EXPECT_TRUE(params().empty());
}

// A search for "50%" must find "50% off", not everything starting with "50".
TEST(LikePatterns, WildcardsAndTheEscapeAreLiteral) {
  EXPECT_EQ(like_containing("ars"), "%ars%");
  EXPECT_EQ(like_containing("50%"), "%50\\%%");
  EXPECT_EQ(like_containing("a_b"), "%a\\_b%");
  EXPECT_EQ(like_containing("c:\\x"), "%c:\\\\x%");
  EXPECT_EQ(like_prefix("jo_"), "jo\\_%");
  EXPECT_EQ(like_prefix(""), "%");
}

}  // namespace
}  // namespace betsdb::pg

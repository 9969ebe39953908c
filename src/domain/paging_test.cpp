#include "domain/paging.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace betsdb::domain {
namespace {

bool is_invalid_parameter(const Result<Page>& page) {
  return !page.ok() && page.error().is(Errc::invalid_parameter);
}

TEST(Page, DefaultsMatchTheContract) {
  const Page page;
  EXPECT_EQ(page.limit, 20);
  EXPECT_EQ(page.offset, 0);
  EXPECT_EQ(kDefaultLimit, 20);
  EXPECT_EQ(kMaxLimit, 100);
}

TEST(PageFrom, AbsentValuesTakeDefaults) {
  const auto page = page_from(std::nullopt, std::nullopt);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(*page, Page{});
}

TEST(PageFrom, AcceptsTheRangeInclusive) {
  EXPECT_EQ(page_from(1, 0)->limit, 1);
  EXPECT_EQ(page_from(100, std::nullopt)->limit, 100);
  EXPECT_EQ(page_from(std::nullopt, 12345)->offset, 12345);
  EXPECT_EQ(page_from(std::nullopt, std::numeric_limits<std::int64_t>::max())->offset,
            std::numeric_limits<std::int64_t>::max());
}

TEST(PageFrom, RejectsOutOfRangeAsInvalidParameter) {
  EXPECT_TRUE(is_invalid_parameter(page_from(0, std::nullopt)));
  EXPECT_TRUE(is_invalid_parameter(page_from(101, std::nullopt)));
  EXPECT_TRUE(is_invalid_parameter(page_from(-1, std::nullopt)));
  EXPECT_TRUE(is_invalid_parameter(page_from(std::numeric_limits<std::int64_t>::max(), 0)));
  EXPECT_TRUE(is_invalid_parameter(page_from(std::nullopt, -1)));
  EXPECT_NE(page_from(0, std::nullopt).error().detail.find("limit"), std::string::npos);
  EXPECT_NE(page_from(std::nullopt, -1).error().detail.find("offset"), std::string::npos);
}

}  // namespace
}  // namespace betsdb::domain

#include "api/query_params.hpp"

#include <gtest/gtest.h>

namespace betsdb::api {
namespace {

TEST(QueryCanonical, ParameterOrderDoesNotMatter) {
  auto a = QueryParams::parse("status=open&team=x&limit=5", {"status", "team", "limit"});
  auto b = QueryParams::parse("limit=5&team=x&status=open", {"status", "team", "limit"});
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->canonical(), b->canonical());
}

}  // namespace
}  // namespace betsdb::api

// Routing by pattern, including the segment count resolve() filters on first.
#include "http/router.hpp"

#include <gtest/gtest.h>

#include <string>

namespace betsdb::http {
namespace {

Router routes() {
  Router r;
  for (const auto& [method, pattern] :
       {std::pair{Method::get, "/"}, std::pair{Method::get, "/v1/matches"},
        std::pair{Method::post, "/v1/matches"}, std::pair{Method::get, "/v1/users/{id}"},
        std::pair{Method::get, "/v1/users/{id}/bets"},
        std::pair{Method::del, "/v1/users/{id}/cart/items/{id}"}}) {
    r.add(Route{method, pattern, {}, {}});
  }
  return r;
}

std::string resolved(const Router& r, Method method, std::string_view path) {
  auto m = r.resolve(method, path);
  if (!m.ok()) return m.error().is(Errc::method_not_allowed) ? "405" : "404";
  std::string out = m->route->pattern;
  for (auto id : m->ids) {
    out += ' ';
    out += std::to_string(id);
  }
  return out;
}

TEST(RouterTest, FindsThePatternOfThePathsSegmentCountAndMethod) {
  const Router r = routes();
  EXPECT_EQ(resolved(r, Method::get, "/"), "/");
  EXPECT_EQ(resolved(r, Method::get, "/v1/matches"), "/v1/matches");
  EXPECT_EQ(resolved(r, Method::post, "/v1/matches"), "/v1/matches");
  EXPECT_EQ(resolved(r, Method::get, "/v1/users/42"), "/v1/users/{id} 42");
  EXPECT_EQ(resolved(r, Method::get, "/v1/users/42/bets"), "/v1/users/{id}/bets 42");
  EXPECT_EQ(resolved(r, Method::del, "/v1/users/7/cart/items/9"),
            "/v1/users/{id}/cart/items/{id} 7 9");
}

TEST(RouterTest, ExtraOrMissingSegmentsAndBadIdsMatchNothing) {
  const Router r = routes();
  for (const char* path :
       {"", "v1/matches", "/v1/matches/", "/v1//matches", "/v1/users/42/", "/v1/users/42/bets/1",
        "/v1/users", "/v1/users/0", "/v1/users/007", "/v1/users/-1", "/v1/users/x/bets", "//"}) {
    EXPECT_EQ(resolved(r, Method::get, path), "404") << path;
  }
}

TEST(RouterTest, AKnownPathUnderAnotherMethodIs405WithItsMethodsListed) {
  const Router r = routes();
  EXPECT_EQ(resolved(r, Method::del, "/v1/matches"), "405");
  EXPECT_EQ(r.allowed_methods("/v1/matches"), "GET, POST");
  EXPECT_EQ(resolved(r, Method::post, "/v1/users/3/bets"), "405");
}

}  // namespace
}  // namespace betsdb::http

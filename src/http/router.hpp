// Maps (method, path) to a route. Patterns are literal segments and `{id}`
// segments; an `{id}` matches only a canonical positive 64-bit integer, so a
// path id like "0", "-1", "007" or "abc" matches no route (404), as the
// contract requires. A path that matches a pattern under another method is
// 405. Immutable after construction, so one router may serve many threads.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"
#include "util/result.hpp"

namespace betsdb::http {

// Runs after routing and before the body is read: authentication and
// authorisation live here, so that 401/403 win over 413/415 as the contract's
// check order says. It may fill Request::principal.
using Guard = std::function<boost::asio::awaitable<Status>(Request&)>;
using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

struct Route {
  Method method = Method::get;
  std::string pattern;  // e.g. "/v1/users/{id}/deposits"
  Guard guard;          // may be empty: no check
  Handler handler;
};

struct RouteMatch {
  const Route* route = nullptr;
  std::vector<std::int64_t> ids;
};

class Router final {
 public:
  void add(Route route);

  // not_found when no pattern matches the path; method_not_allowed when one
  // does under another method (allowed() then lists those methods).
  Result<RouteMatch> resolve(Method method, std::string_view path) const;
  std::string allowed_methods(std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Compiled {
    std::vector<std::string> segments;  // "{id}" marks a numeric id
  };
  // A path matches only patterns of as many segments as it has slashes, so
  // resolve() skips the others with one comparison.
  static std::size_t segment_count(std::string_view path);
  static bool match(const Compiled& pattern, std::string_view path, std::vector<std::int64_t>& ids);

  std::vector<Route> routes_;
  std::vector<Compiled> compiled_;
};

// A canonical positive int64 ("1".."9223372036854775807", no sign, no leading zero).
std::optional<std::int64_t> parse_positive_id(std::string_view text);

}  // namespace betsdb::http

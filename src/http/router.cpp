#include "http/router.hpp"

#include <algorithm>
#include <charconv>

namespace betsdb::http {

namespace {
constexpr std::string_view kIdSegment = "{id}";

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t pos = 1;  // patterns always start with '/'
  while (pos <= path.size()) {
    auto next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    out.emplace_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}
}  // namespace

std::optional<std::int64_t> parse_positive_id(std::string_view text) {
  if (text.empty() || text.front() < '1' || text.front() > '9') return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

void Router::add(Route route) {
  compiled_.push_back(Compiled{split_path(route.pattern)});
  routes_.push_back(std::move(route));
}

bool Router::match(const Compiled& pattern, std::string_view path, std::vector<std::int64_t>& ids) {
  if (path.empty() || path.front() != '/') return false;
  ids.clear();
  std::size_t pos = 1;
  for (std::size_t i = 0; i < pattern.segments.size(); ++i) {
    if (pos > path.size()) return false;
    auto next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    std::string_view segment = path.substr(pos, next - pos);
    const std::string& want = pattern.segments[i];
    if (want == kIdSegment) {
      auto id = parse_positive_id(segment);
      if (!id) return false;
      ids.push_back(*id);
    } else if (segment != want) {
      return false;
    }
    pos = next + 1;
  }
  return pos == path.size() + 1;  // consumed the whole path, no trailing segment
}

std::size_t Router::segment_count(std::string_view path) {
  return static_cast<std::size_t>(std::count(path.begin(), path.end(), '/'));
}

Result<RouteMatch> Router::resolve(Method method, std::string_view path) const {
  bool path_known = false;
  std::vector<std::int64_t> ids;
  const std::size_t segments = segment_count(path);
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (compiled_[i].segments.size() != segments) continue;
    if (!match(compiled_[i], path, ids)) continue;
    if (routes_[i].method == method) return RouteMatch{&routes_[i], std::move(ids)};
    path_known = true;
  }
  if (path_known) {
    return Error::make(Errc::method_not_allowed,
                       std::string(method_name(method)) + " is not allowed on this resource.");
  }
  return Error::make(Errc::not_found, "No resource at this path.");
}

std::string Router::allowed_methods(std::string_view path) const {
  std::string out;
  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (!match(compiled_[i], path, ids)) continue;
    if (!out.empty()) out += ", ";
    out += method_name(routes_[i].method);
  }
  return out;
}

}  // namespace betsdb::http

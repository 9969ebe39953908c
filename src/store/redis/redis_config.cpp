#include "store/redis/redis_config.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <limits>

namespace betsdb::redis {

namespace {

Error invalid(std::string_view reason) {
  std::string detail = "Invalid Redis URL: ";
  detail += reason;
  detail += " (expected redis://[[user]:password@]host[:port][/db])";
  return Error::make(Errc::validation_failed, std::move(detail));
}

// A non-negative base-10 integer no larger than `max`, with nothing else around it.
bool parse_number(std::string_view text, long max, long& out) {
  if (text.empty()) return false;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && ptr == text.data() + text.size() && out >= 0 && out <= max;
}

}  // namespace

Result<Config> parse_url(std::string_view url) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return invalid("not a well-formed URL");
  const boost::urls::url_view& u = *parsed;

  if (u.scheme() == "rediss") return invalid("TLS (rediss://) is not supported");
  if (u.scheme() != "redis") return invalid("the scheme must be redis://");
  if (u.has_query()) return invalid("query parameters are not supported");
  if (u.has_fragment()) return invalid("a fragment is not allowed");

  Config cfg;
  cfg.host = u.host_address();  // decoded; an IPv6 literal comes without brackets
  if (cfg.host.empty()) return invalid("the host is missing");

  if (u.has_port()) {
    long port = 0;
    if (!parse_number(u.port(), std::numeric_limits<std::uint16_t>::max(), port) || port == 0) {
      return invalid("the port must be a number from 1 to 65535");
    }
    cfg.port = static_cast<std::uint16_t>(port);
  }

  if (u.has_userinfo()) {
    cfg.username = u.user();
    cfg.password = u.password();
    if (!u.has_password() || cfg.password.empty()) {
      // redis://name@host is ambiguous (a user without password, or a password
      // without the leading colon); refusing it beats a confusing AUTH failure.
      return invalid("credentials need a password: redis://[user]:password@host");
    }
  }

  std::string_view path = u.encoded_path();
  if (path.starts_with('/')) path.remove_prefix(1);
  if (!path.empty()) {
    long db = 0;
    if (!parse_number(path, std::numeric_limits<int>::max(), db)) {
      return invalid("the database must be a non-negative number, e.g. /0");
    }
    cfg.db = static_cast<int>(db);
  }
  return cfg;
}

}  // namespace betsdb::redis

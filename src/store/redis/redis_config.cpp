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

Config ClusterConfig::node(std::string host, std::uint16_t port) const {
  Config c;
  c.host = std::move(host);
  c.port = port;
  c.username = username;
  c.password = password;
  c.connect_timeout = connect_timeout;
  c.command_timeout = command_timeout;
  return c;
}

Result<ClusterConfig> parse_cluster_seeds(std::string_view text) {
  auto invalid = [](std::string why) { return Error::validation("redis_cluster", std::move(why)); };
  ClusterConfig out;
  if (auto at = text.rfind('@'); at != std::string_view::npos) {
    const std::string_view credentials = text.substr(0, at);
    text.remove_prefix(at + 1);
    const auto colon = credentials.find(':');
    if (colon == std::string_view::npos || colon + 1 == credentials.size()) {
      return invalid("credentials need a password: [user]:password@host:port,...");
    }
    out.username = std::string(credentials.substr(0, colon));
    out.password = std::string(credentials.substr(colon + 1));
  }
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view seed = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    while (!seed.empty() && seed.front() == ' ') seed.remove_prefix(1);
    while (!seed.empty() && seed.back() == ' ') seed.remove_suffix(1);
    if (seed.empty()) return invalid("an empty seed: write host:port[,host:port...]");
    const auto colon = seed.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return invalid("a seed needs host:port, e.g. 127.0.0.1:7000");
    }
    std::string_view host = seed.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    if (host.empty() || host.find_first_of("[]") != std::string_view::npos) {
      return invalid("a seed's host is missing or badly bracketed, e.g. [::1]:7000");
    }
    long port = 0;
    if (!parse_number(seed.substr(colon + 1), std::numeric_limits<std::uint16_t>::max(), port) ||
        port == 0) {
      return invalid("the port must be a number from 1 to 65535");
    }
    out.seeds.push_back({std::string(host), static_cast<std::uint16_t>(port)});
  }
  if (out.seeds.empty()) return invalid("name at least one seed node: host:port[,host:port...]");
  return out;
}

}  // namespace betsdb::redis

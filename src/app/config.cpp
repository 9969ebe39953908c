#include "app/config.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <cstring>
#include <functional>
#include <map>
#include <thread>

#include "util/logging.hpp"

namespace betsdb::app {

namespace {

struct Option {
  const char* flag;
  const char* env;
  const char* help;
  std::function<Status(Config&, std::string_view)> apply;
};

template <class T>
Status parse_number(std::string_view text, T& out, T min, T max, const char* name) {
  T value{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || value < min || value > max) {
    // Appended, not `"..." + std::to_string(min) + ...`: g++ 12 warns falsely
    // (-Warray-bounds) about that form once this is inlined differently.
    std::string detail = "must be a number between ";
    detail += std::to_string(min);
    detail += " and ";
    detail += std::to_string(max);
    return Error::validation(name, detail);
  }
  out = value;
  return {};
}

Status parse_listen(Config& c, std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Error::validation("listen", "must be host:port, e.g. 127.0.0.1:8080");
  }
  std::uint16_t port = 0;
  if (auto s = parse_number<std::uint16_t>(text.substr(colon + 1), port, 0, 65535, "listen");
      !s.ok()) {
    return s;
  }
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  c.listen_host = std::string(host);
  c.listen_port = port;
  return {};
}

// Comma-separated IP addresses, each checked and kept in canonical form.
Status parse_trusted_proxies(Config& c, std::string_view text) {
  c.trusted_proxies.clear();
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string entry(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    std::erase(entry, ' ');
    if (entry.empty()) continue;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(entry, ec);
    if (ec) {
      return Error::validation("trusted_proxies", "must be IP addresses, not '" + entry + "'");
    }
    c.trusted_proxies.push_back(address.to_string());
  }
  return {};
}

Status parse_ms(std::string_view text, std::chrono::milliseconds& out, const char* name,
                std::int64_t min = 1, std::int64_t max = 3'600'000) {
  std::int64_t ms = 0;
  if (auto s = parse_number<std::int64_t>(text, ms, min, max, name); !s.ok()) return s;
  out = std::chrono::milliseconds(ms);
  return {};
}

const std::vector<Option>& options() {
  // One option per entry: flag, variable, help, setter.
  // clang-format off
  static const std::vector<Option> all = {
      {"--listen", "BETSDB_LISTEN", "host:port to serve on (default 127.0.0.1:8080)", parse_listen},
      {"--redis-url", "BETSDB_REDIS_URL", "redis://[:password@]host:port/db (default redis://127.0.0.1:6379/0)",
       [](Config& c, std::string_view v) -> Status { c.redis_url = std::string(v); return {}; }},
      {"--redis-cluster", "BETSDB_REDIS_CLUSTER", "Redis Cluster seeds [[user]:password@]host:port[,host:port...]; replaces --redis-url",
       [](Config& c, std::string_view v) -> Status { c.redis_cluster = std::string(v); return {}; }},
      {"--redis-tracking", "BETSDB_REDIS_TRACKING", "on|off: keep cache counters while Redis reports no change to them, on one Redis or a cluster (default on)",
       [](Config& c, std::string_view v) -> Status {
         if (v != "on" && v != "off") return Error::validation("redis_tracking", "must be on or off, not '" + std::string(v) + "'");
         c.redis_tracking = v == "on";
         return {};
       }},
      {"--redis-cluster-tracking", "BETSDB_REDIS_CLUSTER_TRACKING", "on|off: with --redis-tracking on, keep cache counters on a Redis Cluster too, tracking every node (default off)",
       [](Config& c, std::string_view v) -> Status {
         if (v != "on" && v != "off") return Error::validation("redis_cluster_tracking", "must be on or off, not '" + std::string(v) + "'");
         c.redis_cluster_tracking = v == "on";
         return {};
       }},
      {"--database-url", "BETSDB_DATABASE_URL", "libpq URI, e.g. postgresql://user@host:5432/betsdb",
       [](Config& c, std::string_view v) -> Status { c.database_url = std::string(v); return {}; }},
      {"--database-replica-url", "BETSDB_DATABASE_REPLICA_URL", "libpq URI of ONE hot standby for cached reads (default: none)",
       [](Config& c, std::string_view v) -> Status { c.database_replica_url = std::string(v); return {}; }},
      {"--admin-token", "BETSDB_ADMIN_TOKEN", "the admin bearer token, at least 32 characters (required to serve; prefer the env var)",
       [](Config& c, std::string_view v) -> Status { c.admin_token = std::string(v); return {}; }},
      {"--admin-token-previous", "BETSDB_ADMIN_TOKEN_PREVIOUS", "while rotating the admin token: the one being retired, accepted too (default: none)",
       [](Config& c, std::string_view v) -> Status { c.admin_token_previous = std::string(v); return {}; }},
      {"--threads", "BETSDB_THREADS", "event-loop threads (default: one per core)",
       [](Config& c, std::string_view v) { return parse_number<unsigned>(v, c.threads, 1, 256, "threads"); }},
      {"--cache-ttl", "BETSDB_CACHE_TTL", "cache TTL in seconds, plus 0..10 s jitter (default 60)",
       [](Config& c, std::string_view v) { return parse_number<int>(v, c.cache_ttl_seconds, 1, 86400, "cache_ttl"); }},
      {"--cash-out-margin", "BETSDB_CASH_OUT_MARGIN", "the book's margin on cash-outs, 0 to 0.9999 (default 0.05)",
       [](Config& c, std::string_view v) -> Status {
         auto margin = domain::Margin::parse(v);
         if (!margin) return Error::validation("cash_out_margin", "must be a fraction from 0 to 0.9999 with at most 4 decimals, not '" + std::string(v) + "'");
         c.cash_out_margin = *margin;
         return {};
       }},
      {"--signup-rate-limit", "BETSDB_SIGNUP_RATE_LIMIT", "sign-ups a client address may make a minute, 0 = no limit (default 20)",
       [](Config& c, std::string_view v) { return parse_number<std::int64_t>(v, c.signup_rate_limit, 0, 1'000'000, "signup_rate_limit"); }},
      {"--trusted-proxies", "BETSDB_TRUSTED_PROXIES", "IP addresses of load balancers whose X-Forwarded-For names the client, comma-separated (default: none)",
       parse_trusted_proxies},
      {"--password-threads", "BETSDB_PASSWORD_THREADS", "threads hashing passwords, 64 MiB each while at work (default 2)",
       [](Config& c, std::string_view v) { return parse_number<unsigned>(v, c.password_threads, 1, 64, "password_threads"); }},
      {"--sign-ins-per-client", "BETSDB_SIGN_INS_PER_CLIENT", "sign-ins a client address may have under way at once on an instance, 0 = no limit (default 4)",
       [](Config& c, std::string_view v) { return parse_number<std::size_t>(v, c.sign_ins_per_client, 0, 1'000'000, "sign_ins_per_client"); }},
      {"--pg-pool-size", "BETSDB_PG_POOL_SIZE", "PostgreSQL connections in total, split over threads (default 16)",
       [](Config& c, std::string_view v) { return parse_number<unsigned>(v, c.pg_pool_size, 1, 1000, "pg_pool_size"); }},
      {"--log-level", "BETSDB_LOG_LEVEL", "trace|debug|info|warn|error|off (default info)",
       [](Config& c, std::string_view v) -> Status {
         if (!logging::parse_level(v)) {
           return Error::validation("log_level", "must be one of " + std::string(logging::kLevelNames) +
                                                     ", not '" + std::string(v) + "'");
         }
         c.log_level = std::string(v);
         return {};
       }},
      {"--max-connections", "BETSDB_MAX_CONNECTIONS", "open connections per thread before refusing (default 10000)",
       [](Config& c, std::string_view v) {
         return parse_number<std::size_t>(v, c.max_connections, 1, 1'000'000, "max_connections");
       }},
      {"--idle-timeout-ms", "BETSDB_IDLE_TIMEOUT_MS", "keep-alive idle timeout (default 30000)",
       [](Config& c, std::string_view v) { return parse_ms(v, c.idle_timeout, "idle_timeout_ms"); }},
      {"--request-timeout-ms", "BETSDB_REQUEST_TIMEOUT_MS", "time to receive one request (default 10000)",
       [](Config& c, std::string_view v) { return parse_ms(v, c.request_timeout, "request_timeout_ms"); }},
      {"--shutdown-grace-ms", "BETSDB_SHUTDOWN_GRACE_MS", "how long in-flight requests may finish on SIGTERM (default 15000)",
       [](Config& c, std::string_view v) { return parse_ms(v, c.shutdown_grace, "shutdown_grace_ms"); }},
      {"--stream-max-clients", "BETSDB_STREAM_MAX_CLIENTS", "live stream clients this instance serves before answering 503 (default 10000)",
       [](Config& c, std::string_view v) { return parse_number<std::size_t>(v, c.stream_max_clients, 1, 1'000'000, "stream_max_clients"); }},
      {"--stream-client-buffer", "BETSDB_STREAM_CLIENT_BUFFER", "bytes of events a stream client is handed at a time; one 8 times that far behind is cut off (default 262144)",
       [](Config& c, std::string_view v) { return parse_number<std::size_t>(v, c.stream_client_buffer, 4096, 64 << 20, "stream_client_buffer"); }},
      {"--stream-heartbeat-ms", "BETSDB_STREAM_HEARTBEAT_MS", "how often an idle stream gets a keep-alive comment (default 15000)",
       [](Config& c, std::string_view v) { return parse_ms(v, c.stream_heartbeat, "stream_heartbeat_ms"); }},
      {"--stream-max-hold-ms", "BETSDB_STREAM_MAX_HOLD_MS", "the longest a shard busy with requests holds live-stream events back to send them together (default 1000; 0: never)",
       [](Config& c, std::string_view v) { return parse_ms(v, c.stream_max_hold, "stream_max_hold_ms", 0, 60'000); }},
  };  // clang-format on

  return all;
}

}  // namespace

std::string usage() {
  return "Usage: betsdb [COMMAND] [options]\n\n"
         "  serve    run the HTTP server (default); applies migrations first\n"
         "  migrate  apply database migrations and exit\n"
         "  check    verify every balance equals the sum of its ledger (exit 1 if not)\n"
         "  import   load matches from an openfootball JSON file\n"
         "  version  print the version\n\n"
         "`betsdb COMMAND --help` explains one command.\n\n" +
         options_usage();
}

std::string options_usage() {
  std::string out = "Options (each also read from the environment variable shown):\n";
  for (const auto& o : options()) {
    std::string left = std::string("  ") + o.flag + "=VALUE";
    left.resize(std::max<std::size_t>(left.size() + 1, 30), ' ');
    out += left + o.env + "\n" + std::string(30, ' ') + o.help + "\n";
  }
  return out;
}

Status check_admin_tokens(const Config& config) {
  const std::string at_least = "at least " + std::to_string(kMinAdminTokenLength) +
                               " characters (e.g. head -c 32 /dev/urandom | base64)";
  if (config.admin_token.empty()) {
    return Error::validation("BETSDB_ADMIN_TOKEN", "is required to serve: " + at_least);
  }
  if (config.admin_token.size() < kMinAdminTokenLength) {
    return Error::validation(
        "BETSDB_ADMIN_TOKEN",
        "is " + std::to_string(config.admin_token.size()) + " characters; it must be " + at_least);
  }
  if (config.admin_token_previous.empty()) return {};
  if (config.admin_token_previous.size() < kMinAdminTokenLength) {
    return Error::validation("BETSDB_ADMIN_TOKEN_PREVIOUS",
                             "is " + std::to_string(config.admin_token_previous.size()) +
                                 " characters; it must be " + at_least);
  }
  if (config.admin_token_previous == config.admin_token) {
    return Error::validation("BETSDB_ADMIN_TOKEN_PREVIOUS",
                             "is the current admin token; it must be the one being retired");
  }
  return {};
}

Result<Config> load_config(const std::vector<std::string>& args, char** env) {
  Config c;
  // Environment first, then flags, so flags win.
  for (char** e = env; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    for (const auto& o : options()) {
      if (kv.substr(0, eq) == o.env) {
        if (auto s = o.apply(c, kv.substr(eq + 1)); !s.ok()) return std::move(s).error();
      }
    }
  }
  std::size_t i = 0;
  if (!args.empty() && !args[0].starts_with("-")) {
    c.command = args[0];
    i = 1;
    if (c.command != "serve" && c.command != "migrate" && c.command != "check" &&
        c.command != "import" && c.command != "version" && c.command != "help") {
      return Error::validation("command", "unknown command '" + c.command + "'");
    }
  }
  // Arguments the command parses itself: import's, and the subject of `help`.
  const bool own_arguments = c.command == "import" || c.command == "help";
  for (; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      c.help = true;
      continue;
    }
    std::string_view name = arg, value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    const Option* found = nullptr;
    for (const auto& o : options()) {
      if (name == o.flag) found = &o;
    }
    if (!found && own_arguments) {
      c.command_args.push_back(std::string(arg));
      continue;
    }
    if (!found) return Error::validation(std::string(name), "unknown option (see --help)");
    if (!has_value) {
      if (i + 1 >= args.size()) return Error::validation(std::string(name), "needs a value");
      value = args[++i];
    }
    if (auto s = found->apply(c, value); !s.ok()) return std::move(s).error();
  }
  if (c.threads == 0) c.threads = std::max(1u, std::thread::hardware_concurrency());
  return c;
}

}  // namespace betsdb::app

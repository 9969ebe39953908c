// Server configuration from command-line flags and BETSDB_* environment
// variables (flags win). `betsdb --help` prints the table below.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "domain/cash_out.hpp"
#include "util/result.hpp"

namespace betsdb::app {

struct Config {
  std::string command = "serve";  // serve | migrate | check | import | version | help
  // import: its own arguments (FILE, --shift-to-future, ...), in order, for
  // the command to parse; help: the command to explain, if any.
  std::vector<std::string> command_args;
  bool help = false;  // --help after a command: explain that command
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string redis_url = "redis://127.0.0.1:6379/0";
  // Seed nodes of a Redis Cluster (host:port,...); when set, replaces redis_url.
  std::string redis_cluster;
  // A tracking connection per shard (store/redis/invalidation_tracker.hpp),
  // so cache hits and revocation checks skip their round trip. One Redis only.
  bool redis_tracking = true;
  // Also keep counters on a Redis Cluster (off by default: every instance and
  // tool must first run a version whose cluster writes wait for leases).
  bool redis_cluster_tracking = false;
  std::string database_url = "postgresql://postgres@127.0.0.1:5432/betsdb";
  // Optional: one hot standby that cache misses may read when it has caught up.
  std::string database_replica_url;
  std::string admin_token;
  // While the admin token is rotated: the one being retired, accepted too
  // (docs/operations.md, "Rotating the admin token"). Empty: none.
  std::string admin_token_previous;
  unsigned threads = 0;  // 0: one per core
  int cache_ttl_seconds = 60;
  // The book's margin on cash-outs, a fraction below 1 (default 0.05).
  domain::Margin cash_out_margin;
  std::int64_t signup_rate_limit = 20;       // sign-ups per client address a minute; 0: none
  std::vector<std::string> trusted_proxies;  // believed for X-Forwarded-For
  unsigned password_threads = 2;             // threads hashing passwords (64 MiB each at work)
  std::size_t sign_ins_per_client = 4;       // under way at once per client address; 0: no limit
  unsigned pg_pool_size = 16;                // connections in total, split across threads
  std::string log_level = "info";
  std::size_t max_connections = 10'000;
  std::chrono::milliseconds idle_timeout{30'000};
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds shutdown_grace{15'000};
  // The live stream: clients per instance, bytes queued per client before a
  // slow one is cut off, how often a heartbeat comment goes out, and the
  // longest a busy shard holds events back to send them together (0: never).
  std::size_t stream_max_clients = 10'000;
  std::size_t stream_client_buffer = 256 * 1024;
  std::chrono::milliseconds stream_heartbeat{15'000};
  std::chrono::milliseconds stream_max_hold{1'000};
};

// The admin token is the bootstrap owner's key to everything: a short one
// can be guessed. Tokens generated as the docs say (32 random bytes, base64)
// are about 43 characters.
inline constexpr std::size_t kMinAdminTokenLength = 32;

// What `serve` needs of the admin tokens: a current one of at least
// kMinAdminTokenLength characters, and a previous one (if any) as long and
// different from it.
Status check_admin_tokens(const Config& config);

// argv[0] excluded. Unknown flags and malformed values are errors, except
// that `import` receives the arguments it does not share with the others.
Result<Config> load_config(const std::vector<std::string>& args, char** environ);
// `betsdb --help`: the commands and every option.
std::string usage();
// The options table alone, for the commands' own --help.
std::string options_usage();

}  // namespace betsdb::app

// Where and how to reach Redis, usually parsed from a URL such as
// BETSDB_REDIS_URL=redis://:secret@127.0.0.1:6379/0.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace betsdb::redis {

struct Config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string username;  // Redis 6 ACL user; empty means AUTH with the password alone
  std::string password;  // empty means no AUTH
  int db = 0;
  // Bounds the whole connection setup: resolve + TCP connect + AUTH + SELECT.
  std::chrono::milliseconds connect_timeout{1000};
  // A command with no reply after this long fails, and its connection is reset.
  std::chrono::milliseconds command_timeout{1000};
  // Keys whose values a shard may keep while Redis reports no change to them
  // (invalidation_tracker.hpp); empty: none, and no tracking connection.
  std::vector<std::string> tracked_prefixes;
  // Whether a change to a tracked key waits for readers that may have kept
  // it (InvalidationTracker::wait_for_readers): true wherever any process
  // on this Redis tracks, so the same on every instance and tool.
  bool writers_wait = false;
};

// Parses redis://[[user]:password@]host[:port][/db]. User and password may be
// percent-encoded; an IPv6 host is written in brackets. Timeouts keep their
// defaults. Errors are Errc::validation_failed whose detail says what is wrong
// (never echoing the password).
Result<Config> parse_url(std::string_view url);

// A Redis Cluster to reach through some of its nodes (the seeds): the client
// learns the rest from CLUSTER SLOTS.
struct ClusterConfig {
  struct Seed {
    std::string host;
    std::uint16_t port = 6379;
  };
  std::vector<Seed> seeds;
  std::string username;  // as Config: every node takes the same credentials
  std::string password;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{1000};
  // How long a command may keep being retried while its slot is unreachable
  // (a master down, not yet replaced; TRYAGAIN; CLUSTERDOWN) before it fails
  // with service_unavailable. Well under the request timeout (10 s), and
  // longer than a manual failover takes.
  std::chrono::milliseconds retry_budget{2000};
  // As Config's, for the whole cluster: the client tracks every node
  // (invalidation_tracker.hpp, create_for_cluster()).
  std::vector<std::string> tracked_prefixes;
  bool writers_wait = false;

  // The per-node settings (db 0: a cluster has only that), without
  // tracking: the cluster client tracks for all of them.
  Config node(std::string host, std::uint16_t port) const;
};

// Parses [[user]:password@]host:port[,host:port...] (BETSDB_REDIS_CLUSTER).
// IPv6 hosts are written in brackets. Errors are Errc::validation_failed
// whose detail says what is wrong (never echoing the password).
Result<ClusterConfig> parse_cluster_seeds(std::string_view text);

}  // namespace betsdb::redis

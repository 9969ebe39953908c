// Commands: what the stores send to Redis, whatever serves it. One server
// (redis::Client, redis_client.hpp) or a Redis Cluster (redis::ClusterClient,
// cluster_client.hpp), which sends each command to the master that owns the
// slot of its first key (slots.hpp). Everything one command or script touches
// must then share a slot: the key layout's hash tags see to that.
//
// Results: a Redis *error reply* (WRONGTYPE, NOSCRIPT, ...) is a successful
// Result holding a Reply of type error; the caller decides what it means. A
// Result error is only ever Errc::service_unavailable, for transport trouble
// (not connected, connection lost, no reply in time) or, on a cluster, a slot
// that stayed unreachable for the whole retry budget.
//
// Origin: command_served() also names the Redis server process that answered
// (a prefix of its run_id). A Redis restarted from its files, or a replica
// promoted by a failover, is another process: the read cache uses this to
// never serve an entry stored before such a change (store/redis/cache.hpp).
//
// Thread-safety: none. An implementation, and every call on it, belongs to
// the thread running its executor's io_context.
#pragma once

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/redis/reply.hpp"
#include "store/redis/resp.hpp"
#include "store/redis/script.hpp"
#include "store/redis/slots.hpp"
#include "util/result.hpp"

namespace betsdb::redis {

class InvalidationTracker;

// A reply and the server process that gave it.
struct Served {
  Reply reply;
  std::string origin;  // 12 hex digits of the server's run_id; empty if unknown
  // Since when this client has reached that process for the command's key:
  // its connection's start, and on a cluster also when the slot's owner in
  // the client's map last changed. Whatever that process took since then it
  // still holds, unless it was demoted and promoted again meanwhile (a
  // restart or a promoted replica is a new process, or a new owner).
  std::chrono::steady_clock::time_point origin_since{};
  // Sent once, to the node first chosen, and answered there: never
  // redirected nor retried. Commands sent together on one connection then
  // ran in the order they were sent (a cluster's redirect or retry may send
  // one again after the others).
  bool first_send = true;
};

class Commands {
 public:
  // Counters for metrics; they only grow (connected is a gauge).
  struct NodeStats {
    std::string node;  // host:port
    bool connected = false;
    std::uint64_t commands_sent = 0;
    std::uint64_t transport_errors = 0;
    std::uint64_t moved = 0;  // MOVED replies that sent a command on from this node
    std::uint64_t ask = 0;    // ASK replies that sent a command on from this node
    // No longer in this shard's map, and no longer connected to (a cluster
    // only); its counters stay, so that every shard's sum only grows.
    bool retired = false;
  };
  struct Stats {
    std::uint64_t commands_sent = 0;      // handed to a live connection (each of a batch counts)
    std::uint64_t commands_rejected = 0;  // failed at once: not connected, stopped, bad arguments
    std::uint64_t writes = 0;             // socket writes; commands_sent / writes = pipelining
    std::uint64_t transport_errors = 0;   // failed connection attempts + lost connections
    std::uint64_t timeouts = 0;           // connections reset because a reply was late
    std::uint64_t reconnects = 0;         // connections established after the first
    // A cluster only:
    std::uint64_t moved = 0;           // MOVED redirects followed
    std::uint64_t ask = 0;             // ASK redirects followed
    std::uint64_t retries = 0;         // TRYAGAIN / CLUSTERDOWN / unreachable slot, retried
    std::uint64_t slot_refreshes = 0;  // slot maps loaded
    std::vector<NodeStats> nodes;      // per node (a cluster only)
    // A tracking connection only (invalidation_tracker.hpp):
    bool tracking = false;                     // live now
    std::uint64_t tracking_kept_reads = 0;     // reads answered from kept values
    std::uint64_t tracking_pings = 0;          // PINGs that kept them fresh
    std::uint64_t tracking_invalidations = 0;  // keys Redis reported changed
    std::uint64_t tracking_reconnects = 0;
    std::uint64_t tracking_leases = 0;        // readers' leases granted (taken or renewed)
    std::uint64_t tracking_writer_waits = 0;  // bumps that found a lease and waited
  };

  enum class ScriptMode { read_write, read_only };

  virtual ~Commands() = default;

  // Starts connecting in the background; returns at once. Calls after the
  // first, or after stop(), do nothing.
  virtual void start() = 0;
  // Closes every connection. Every pending and later command fails with
  // service_unavailable, and background work ends so io_context::run() can
  // return. Cannot be started again.
  virtual void stop() = 0;
  // True while every command can be sent: connected (to every master of a cluster).
  virtual bool connected() const noexcept = 0;
  // Completes when connected, or with service_unavailable once `timeout`
  // passes. It polls: for start-up checks and tests, not request paths.
  virtual boost::asio::awaitable<Status> wait_connected(std::chrono::milliseconds timeout) = 0;
  virtual Stats stats() const = 0;
  // Why the last connection attempt failed or was lost; empty while all is well.
  virtual std::string last_error() const = 0;
  virtual const boost::asio::any_io_executor& executor() const noexcept = 0;
  // Whether commands are routed by slot: then one command or script must not
  // touch keys of different slots (CROSSSLOT), nor keys it does not name.
  virtual bool cluster() const noexcept = 0;
  // Whether a command on `key` would be sent at once: the server (on a
  // cluster, the master of the key's slot, as the client knows it now) is
  // connected. False means the command would wait and retry, up to the
  // retry budget on a cluster: a caller with a better answer elsewhere (the
  // revocation check has PostgreSQL) asks first.
  virtual bool reachable(std::string_view key) const noexcept = 0;
  // The shard's kept values (invalidation_tracker.hpp); null when this
  // client keeps none (not configured).
  virtual InvalidationTracker* tracker() noexcept { return nullptr; }
  // Whether changes to tracked keys wait for readers elsewhere
  // (Config::writers_wait, ClusterConfig::writers_wait).
  virtual bool writers_wait() const noexcept { return false; }

  // Sends one command: co_await redis.command("SET", key, value, "EX", "60").
  // Arguments are encoded when command() is called, so they need only live
  // until it returns, not until the reply.
  //
  // g++ 12 rejects a braced list inside a co_await expression ("array used as
  // initializer"), so prefer the variadic form over command({...}) there.
  template <CommandArg... Args>
  boost::asio::awaitable<Result<Reply>> command(const Args&... args) {
    static_assert(sizeof...(Args) > 0, "a Redis command needs at least its name");
    using Argv = std::array<std::string_view, sizeof...(Args)>;
    const Argv argv{std::string_view(args)...};
    return send(encode_command(argv), route_of(argv));
  }
  boost::asio::awaitable<Result<Reply>> command(const std::vector<std::string>& args);
  // The same, with the origin of the reply.
  boost::asio::awaitable<Result<Served>> command_served(const std::vector<std::string>& args);

  // EVALSHA, falling back to EVAL with the source on a NOSCRIPT error reply
  // (first use on this server, SCRIPT FLUSH, a restart). `script` must outlive
  // the await. read_only uses EVALSHA_RO / EVAL_RO (Redis 7): the script may
  // not write, and in exchange it still runs while writes are paused (CLIENT
  // PAUSE WRITE). Routed by the first key.
  boost::asio::awaitable<Result<Reply>> eval(const Script& script, std::vector<std::string> keys,
                                             std::vector<std::string> args,
                                             ScriptMode mode = ScriptMode::read_write);
  boost::asio::awaitable<Result<Served>> eval_served(const Script& script,
                                                     std::vector<std::string> keys,
                                                     std::vector<std::string> args,
                                                     ScriptMode mode = ScriptMode::read_write);

 protected:
  // Where a command goes: the slot of its first key, when routing by slot
  // and it names one.
  using Route = std::optional<std::uint16_t>;

  // `command` is empty when it could not be encoded.
  virtual boost::asio::awaitable<Result<Reply>> send(Result<EncodedCommand> command,
                                                     Route route) = 0;
  virtual boost::asio::awaitable<Result<Served>> send_served(Result<EncodedCommand> command,
                                                             Route route) = 0;

  Route route_of(std::span<const std::string_view> argv) const noexcept;
};

// The origin named by an `INFO server` reply: the first 12 hex digits of
// its run_id, enough to tell processes apart; empty if it has none.
std::string origin_from_info(std::string_view info);

// What each shard is given: one of the two, by configuration.
using CommandsPtr = std::shared_ptr<Commands>;

}  // namespace betsdb::redis

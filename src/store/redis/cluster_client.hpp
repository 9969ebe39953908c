// ClusterClient: a Redis Cluster as one Commands (commands.hpp), following
// the Redis Cluster specification's client rules.
//
// - The slot map comes from CLUSTER SLOTS: loaded at start, again after a
//   MOVED reply, after a connection to a node is lost, and whenever a slot's
//   master is unknown or unreachable. Loads run one at a time in the
//   background; a burst of requests for a new map costs one load.
// - Each command goes to the master of its first key's slot (slots.hpp),
//   through that node's Client: one pipelined connection per node per shard,
//   so each caller's replies come back in order.
// - MOVED: the slot's new master is recorded at once, the map is reloaded,
//   and the command goes there. ASK: the command goes to the named node after
//   ASKING, in one batch, and the map is left alone.
// - TRYAGAIN and CLUSTERDOWN, or a slot whose master is unknown or not
//   connected (a command that was never sent): retried with a growing pause
//   (10 ms doubling to 200 ms) for at most ClusterConfig::retry_budget, then
//   service_unavailable. A command whose connection broke after it was sent
//   is not sent again (it may have run): it fails at once.
// - Scripts go by EVALSHA and are loaded on each node by the NOSCRIPT
//   fallback (Commands::eval).
// - A node that a loaded map no longer names, as master or replica, and that
//   its client has failed to reach (a crashed master after its failover, a
//   node removed from the cluster) is retired: its client stops, so the
//   shard stops trying to connect to it, and its statistics say so. Seeds
//   are never retired. A later map that makes it a master, or a MOVED or ASK
//   naming it, gives it a new client.
//
// Only masters are used: replicas serve no reads, so every read sees every
// write its master acknowledged.
//
// With ClusterConfig::tracked_prefixes, the client also tracks every node
// that each loaded map names, masters and replicas
// (InvalidationTracker::create_for_cluster()), and loads the map at least
// every InvalidationTracker::kMapRecheck while readers use kept values.
//
// Thread-safety: as Client (one shard's thread). Lifetime: create() only.
#pragma once

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "store/redis/commands.hpp"
#include "store/redis/invalidation_tracker.hpp"
#include "store/redis/redis_client.hpp"
#include "store/redis/redis_config.hpp"

namespace betsdb::redis {

class ClusterClient final : public Commands, public std::enable_shared_from_this<ClusterClient> {
 public:
  static std::shared_ptr<ClusterClient> create(boost::asio::any_io_executor executor,
                                               ClusterConfig config);

  ClusterClient(const ClusterClient&) = delete;
  ClusterClient& operator=(const ClusterClient&) = delete;

  void start() override;
  void stop() override;
  // The slot map is loaded and every master in it is connected.
  bool connected() const noexcept override;
  boost::asio::awaitable<Status> wait_connected(std::chrono::milliseconds timeout) override;
  Stats stats() const override;
  std::string last_error() const override { return last_error_; }
  const boost::asio::any_io_executor& executor() const noexcept override { return executor_; }
  bool cluster() const noexcept override { return true; }
  bool reachable(std::string_view key) const noexcept override;
  InvalidationTracker* tracker() noexcept override { return tracker_.get(); }
  bool writers_wait() const noexcept override { return config_.writers_wait; }

  // Asks for the slot map to be loaded again (it also is by itself).
  void request_refresh();
  // host:port of the master of `slot` in the current map, empty if unknown.
  std::string master_of(std::uint16_t slot) const;

 protected:
  boost::asio::awaitable<Result<Reply>> send(Result<EncodedCommand> command, Route route) override;
  boost::asio::awaitable<Result<Served>> send_served(Result<EncodedCommand> command,
                                                     Route route) override;

 private:
  struct Node {
    std::string name;  // host:port
    std::string host;
    std::uint16_t port = 0;
    std::shared_ptr<Client> client;
    Stats carried;  // the counters of the clients it had before this one
    std::uint64_t moved = 0;
    std::uint64_t ask = 0;
    bool retired = false;  // client stopped: no longer in the map
  };
  static constexpr std::int16_t kNoNode = -1;

  ClusterClient(boost::asio::any_io_executor executor, ClusterConfig config);

  std::int16_t node_index(const std::string& host, std::uint16_t port);  // found or added
  std::shared_ptr<Client> node_client(const std::string& host, std::uint16_t port);
  // Stops the clients of nodes that are neither named in the map, nor seeds,
  // nor connected, and have failed to connect.
  void retire_departed(const std::vector<std::string>& named);
  bool seed(const Node& node) const;
  Node* master_for(Route route);  // null when unknown
  boost::asio::awaitable<Result<Served>> route(EncodedCommand command, Route route);
  boost::asio::awaitable<Result<Reply>> ask(Node& node, const EncodedCommand& command);
  boost::asio::awaitable<void> refresh_loop(std::shared_ptr<ClusterClient> self);
  boost::asio::awaitable<Status> load_slots();
  // Whether some node's connection has been made or has failed (start-up is over).
  bool any_node_tried() const;
  // `asked_at`: when CLUSTER SLOTS was sent, from which the map's age counts.
  Status apply_slots(const Reply& slots, const std::string& asked_host,
                     std::chrono::steady_clock::time_point asked_at);
  // Hands the tracker every node a map names: per master, the master first,
  // then its replicas.
  void track(const std::vector<std::vector<std::pair<std::string, std::uint16_t>>>& groups,
             std::chrono::steady_clock::time_point asked_at);

  boost::asio::any_io_executor executor_;
  ClusterConfig config_;
  std::vector<std::unique_ptr<Node>> nodes_;  // stable addresses; retired, never removed
  std::array<std::int16_t, kClusterSlots> owner_{};
  // When each slot's owner in this map last changed (Served::origin_since).
  std::array<std::chrono::steady_clock::time_point, kClusterSlots> owner_since_{};
  std::vector<std::int16_t> masters_;  // nodes owning at least one slot
  boost::asio::steady_timer refresh_wakeup_;
  Stats counters_;  // the cluster's own: moved, ask, retries, slot_refreshes
  std::string last_error_;
  std::shared_ptr<InvalidationTracker> tracker_;  // with config_.tracked_prefixes only
  bool map_loaded_ = false;
  bool refresh_requested_ = false;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace betsdb::redis

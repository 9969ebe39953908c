#include "store/redis/cluster_client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <optional>
#include <utility>

namespace betsdb::redis {

namespace asio = boost::asio;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// Pauses between retries of a command whose slot is unreachable: short
// first (a MOVED map loads in about a millisecond), never long (the budget
// is two seconds).
constexpr std::chrono::milliseconds kFirstRetryDelay{10};
constexpr std::chrono::milliseconds kMaxRetryDelay{200};
// A command follows at most this many MOVED/ASK in a row; more means the
// cluster is changing faster than its map can be read, and the retry path
// takes over.
constexpr int kMaxRedirects = 5;
// Pauses between attempts to load a map that could not be loaded, and the
// least time between two loads (a burst of MOVED during resharding asks for
// many; one every few milliseconds is plenty).
constexpr std::chrono::milliseconds kFirstLoadRetry{50};
constexpr std::chrono::milliseconds kMaxLoadRetry{1000};
constexpr std::chrono::milliseconds kMinLoadInterval{5};
// While loads keep finding the map they already had (a master is down and no
// replica has taken over yet: every command for its slots asks for a load),
// the least time between two grows to this, so that a cluster at its weakest
// is not sent CLUSTER SLOTS a few hundred times a second per shard; a
// failover then shows within a quarter of a second.
constexpr std::chrono::milliseconds kMaxUnchangedLoadInterval{250};
// wait_connected() polling step; only start-up and tests use it.
constexpr std::chrono::milliseconds kConnectedPollInterval{10};

struct Redirect {
  bool ask = false;
  std::uint16_t slot = 0;
  std::string host;
  std::uint16_t port = 0;
};

// "MOVED 3999 127.0.0.1:6381" or "ASK 3999 127.0.0.1:6381".
std::optional<Redirect> redirect_of(const Reply& reply) {
  if (!reply.is_error()) return std::nullopt;
  std::string_view text = reply.as_string();
  Redirect r;
  if (text.starts_with("MOVED ")) {
    text.remove_prefix(6);
  } else if (text.starts_with("ASK ")) {
    r.ask = true;
    text.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto [slot_end, slot_ec] = std::from_chars(text.data(), text.data() + space, r.slot);
  if (slot_ec != std::errc{} || r.slot >= kClusterSlots) return std::nullopt;
  const std::string_view address = text.substr(space + 1);
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto [port_end, port_ec] =
      std::from_chars(address.data() + colon + 1, address.data() + address.size(), r.port);
  if (port_ec != std::errc{} || r.port == 0) return std::nullopt;
  r.host = std::string(address.substr(0, colon));
  return r;
}

bool retry_later(const Reply& reply) {
  return reply.has_error_code("TRYAGAIN") || reply.has_error_code("CLUSTERDOWN");
}

// Adds a connection's counters (those a node's Client keeps) to `into`.
void add_client_counters(Commands::Stats& into, const Commands::Stats& from) {
  into.commands_sent += from.commands_sent;
  into.commands_rejected += from.commands_rejected;
  into.writes += from.writes;
  into.transport_errors += from.transport_errors;
  into.timeouts += from.timeouts;
  into.reconnects += from.reconnects;
}

using Address = std::pair<std::string, std::uint16_t>;

// The host and port of a CLUSTER SLOTS node entry [ip, port, ...].
std::optional<Address> node_address(const Reply& node, const std::string& asked_host) {
  if (!node.is_array() || node.elements().size() < 2) return std::nullopt;
  std::string host = node.elements()[0].as_string();
  if (host.empty() || host == "?") host = asked_host;
  const std::int64_t port = node.elements()[1].as_integer();
  if (port <= 0 || port > 65535) return std::nullopt;
  return Address{std::move(host), static_cast<std::uint16_t>(port)};
}

}  // namespace

std::shared_ptr<ClusterClient> ClusterClient::create(asio::any_io_executor executor,
                                                     ClusterConfig config) {
  auto client =
      std::shared_ptr<ClusterClient>(new ClusterClient(std::move(executor), std::move(config)));
  if (!client->config_.tracked_prefixes.empty()) {
    // Weak: the tracker lives as long as this client and must not keep it alive.
    client->tracker_ = InvalidationTracker::create_for_cluster(
        client->executor_, client->config_.tracked_prefixes, [weak = client->weak_from_this()] {
          if (auto self = weak.lock()) self->request_refresh();
        });
  }
  return client;
}

ClusterClient::ClusterClient(asio::any_io_executor executor, ClusterConfig config)
    : executor_(std::move(executor)), config_(std::move(config)), refresh_wakeup_(executor_) {
  owner_.fill(kNoNode);
}

void ClusterClient::start() {
  if (started_ || stopped_) return;
  started_ = true;
  for (const auto& seed : config_.seeds) node_index(seed.host, seed.port);
  refresh_requested_ = true;
  asio::co_spawn(executor_, refresh_loop(shared_from_this()), asio::detached);
  if (tracker_) tracker_->start();
}

void ClusterClient::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& node : nodes_) node->client->stop();
  if (tracker_) tracker_->stop();
  refresh_wakeup_.cancel();
}

bool ClusterClient::connected() const noexcept {
  if (!map_loaded_ || stopped_) return false;
  return std::all_of(masters_.begin(), masters_.end(), [this](std::int16_t i) {
    return nodes_[static_cast<std::size_t>(i)]->client->connected();
  });
}

asio::awaitable<Status> ClusterClient::wait_connected(std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer poll(executor_);
  while (!connected()) {
    if (stopped_) co_return Error::unavailable("Redis Cluster client is stopped");
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      co_return Error::unavailable("not connected to every master of the Redis Cluster" +
                                   (last_error_.empty() ? std::string() : ": " + last_error_));
    }
    poll.expires_after(
        std::min<std::chrono::steady_clock::duration>(kConnectedPollInterval, deadline - now));
    co_await poll.async_wait(kAwait);
  }
  co_return Status{};
}

Commands::Stats ClusterClient::stats() const {
  Stats out = counters_;
  for (const auto& node : nodes_) {
    // A retired node's counters stay in the totals, which only grow.
    Stats s = node->client->stats();
    add_client_counters(s, node->carried);
    add_client_counters(out, s);
    out.nodes.push_back(NodeStats{node->name, node->client->connected(), s.commands_sent,
                                  s.transport_errors, node->moved, node->ask, node->retired});
  }
  if (tracker_) tracker_->report(out);
  return out;
}

std::string ClusterClient::master_of(std::uint16_t slot) const {
  const std::int16_t i = owner_[slot % kClusterSlots];
  return i == kNoNode ? std::string() : nodes_[static_cast<std::size_t>(i)]->name;
}

std::int16_t ClusterClient::node_index(const std::string& host, std::uint16_t port) {
  const std::string name = host + ":" + std::to_string(port);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    Node& node = *nodes_[i];
    if (node.name != name) continue;
    if (node.retired) {
      // Named again (failed back, or re-added): a stopped client does not
      // start again, so it gets a new one.
      add_client_counters(node.carried, node.client->stats());
      node.client = node_client(host, port);
      node.retired = false;
      spdlog::info("Redis Cluster node {} is named again; connecting to it", name);
    }
    return static_cast<std::int16_t>(i);
  }
  auto node = std::make_unique<Node>();
  node->name = name;
  node->host = host;
  node->port = port;
  node->client = node_client(host, port);
  nodes_.push_back(std::move(node));
  return static_cast<std::int16_t>(nodes_.size() - 1);
}

std::shared_ptr<Client> ClusterClient::node_client(const std::string& host, std::uint16_t port) {
  auto client = Client::create(executor_, config_.node(host, port));
  // A lost node may have been failed over: read the map again. Weak, since
  // the node clients live as long as this client and must not keep it alive.
  client->on_connection_lost([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->request_refresh();
  });
  if (started_ && !stopped_) client->start();
  return client;
}

bool ClusterClient::seed(const Node& node) const {
  return std::any_of(config_.seeds.begin(), config_.seeds.end(),
                     [&](const auto& s) { return s.host == node.host && s.port == node.port; });
}

// Only a node whose client has failed to reach it: one that is connected
// (an empty master a slot is being migrated to, which CLUSTER SLOTS does not
// list) may have commands in flight, and one still connecting may be the
// target a MOVED or ASK has just named. A connection's loss asks for a new
// map, which retires the node then.
void ClusterClient::retire_departed(const std::vector<std::string>& named) {
  for (auto& node : nodes_) {
    if (node->retired || seed(*node) || node->client->connected()) continue;
    if (node->client->stats().transport_errors == 0) continue;
    if (std::find(named.begin(), named.end(), node->name) != named.end()) continue;
    node->client->stop();
    node->retired = true;
    spdlog::info("Redis Cluster node {} is no longer in the slot map; not connecting to it",
                 node->name);
  }
}

ClusterClient::Node* ClusterClient::master_for(Route route) {
  std::int16_t i = kNoNode;
  if (route) {
    i = owner_[*route];
  } else {
    // A command without a key: any connected master will do.
    for (std::int16_t m : masters_) {
      if (nodes_[static_cast<std::size_t>(m)]->client->connected()) {
        i = m;
        break;
      }
    }
  }
  return i == kNoNode ? nullptr : nodes_[static_cast<std::size_t>(i)].get();
}

bool ClusterClient::reachable(std::string_view key) const noexcept {
  const std::int16_t i = owner_[key_slot(key)];
  return i != kNoNode && nodes_[static_cast<std::size_t>(i)]->client->connected();
}

// --- Commands -------------------------------------------------------------

asio::awaitable<Result<Reply>> ClusterClient::send(Result<EncodedCommand> command, Route route) {
  auto served = co_await send_served(std::move(command), route);
  if (!served.ok()) co_return std::move(served).error();
  co_return std::move(served->reply);
}

asio::awaitable<Result<Served>> ClusterClient::send_served(Result<EncodedCommand> command,
                                                           Route route_to) {
  if (!command.ok() || command->empty()) {
    co_return Error::internal("Redis command has no arguments");
  }
  co_return co_await route(std::move(command).value(), route_to);
}

asio::awaitable<Result<Reply>> ClusterClient::ask(Node& node, const EncodedCommand& command) {
  Batch asking;
  asking.add("ASKING").add_encoded(command.view());
  auto replies = co_await node.client->batch(std::move(asking));
  if (!replies.ok()) co_return std::move(replies).error();
  if (replies->size() != 2) co_return Error::internal("unexpected reply to ASKING");
  co_return std::move((*replies)[1]);
}

asio::awaitable<Result<Served>> ClusterClient::route(EncodedCommand command, Route slot) {
  const auto deadline = std::chrono::steady_clock::now() + config_.retry_budget;
  auto delay = kFirstRetryDelay;
  asio::steady_timer pause(executor_);
  Node* asking = nullptr;
  int redirects = 0;
  int attempts = 0;  // sends and waits
  std::string problem;
  while (!stopped_) {
    ++attempts;
    Node* node = asking ? asking : master_for(slot);
    if (node != nullptr && node->client->connected()) {
      // Read before the send, which picks the connection without suspending.
      std::string origin = node->client->server_id();
      // Since when that process has both been reached and, by this map,
      // owned the slot; an ASK target only now (it takes the slot over).
      const auto origin_since = asking ? std::chrono::steady_clock::now()
                                : slot ? std::max(node->client->connected_at(), owner_since_[*slot])
                                       : node->client->connected_at();
      Result<Reply> reply = Error::internal("not sent");
      if (asking) {
        reply = co_await ask(*node, command);
      } else {
        reply = co_await node->client->send_encoded(command);
      }
      asking = nullptr;
      if (!reply.ok()) {
        // Sent, and the connection broke under it: it may have run, so it
        // is not sent again. The node may be gone: read the map again.
        request_refresh();
        co_return std::move(reply).error();
      }
      auto redirect = redirect_of(*reply);
      // A redirect is followed only within the budget: each hop may wait for
      // a slow node, and a chain of them must not outlast the request.
      const bool in_budget = std::chrono::steady_clock::now() < deadline;
      if (redirect && redirects < kMaxRedirects && in_budget) {
        ++redirects;
        // An empty host means the node that answered (the specification).
        const std::string host =
            redirect->host.empty() ? node->client->config().host : redirect->host;
        const std::int16_t target = node_index(host, redirect->port);
        if (redirect->ask) {
          ++node->ask;
          ++counters_.ask;
          asking = nodes_[static_cast<std::size_t>(target)].get();
        } else {
          ++node->moved;
          ++counters_.moved;
          if (owner_[redirect->slot] != target) {
            owner_[redirect->slot] = target;
            owner_since_[redirect->slot] = std::chrono::steady_clock::now();
          }
          request_refresh();
        }
        continue;
      }
      if (redirect) {
        // Redirected more than kMaxRedirects times in a row (the cluster
        // changes faster than its map can be read: wait, then start over),
        // or out of budget.
        request_refresh();
        redirects = 0;
        problem = (in_budget ? "too many redirects, the last " : "out of time at a redirect, ") +
                  reply->as_string();
      } else if (!retry_later(*reply)) {
        co_return Served{std::move(reply).value(), std::move(origin), origin_since, attempts == 1};
      } else {
        // Also from an ASK target (a multi-key command while its slot
        // migrates): the next attempt goes to the slot's master, which asks again.
        problem = reply->as_string();
      }
    } else {
      // Not sent: the slot's master is unknown or not connected (down, or
      // replaced by a failover the map does not show yet).
      request_refresh();
      problem = node == nullptr ? "no master known for the slot"
                                : "master " + node->name + " not connected";
      // An ASK target that a map load retired meanwhile: the slot's master
      // names the target again, if it still is one.
      if (asking != nullptr && asking->retired) asking = nullptr;
    }
    if (std::chrono::steady_clock::now() + delay >= deadline) break;
    ++counters_.retries;
    pause.expires_after(delay);
    co_await pause.async_wait(kAwait);
    delay = std::min(delay * 2, kMaxRetryDelay);
  }
  if (stopped_) co_return Error::unavailable("Redis Cluster client is stopped");
  co_return Error::unavailable("Redis Cluster slot unavailable: " + problem);
}

// --- The slot map -----------------------------------------------------------

bool ClusterClient::any_node_tried() const {
  return std::any_of(nodes_.begin(), nodes_.end(), [](const auto& node) {
    return node->client->connected() || node->client->stats().transport_errors > 0;
  });
}

void ClusterClient::request_refresh() {
  if (stopped_) return;
  refresh_requested_ = true;
  refresh_wakeup_.cancel();
}

asio::awaitable<void> ClusterClient::refresh_loop(
    [[maybe_unused]] std::shared_ptr<ClusterClient> self) {
  auto retry = kFirstLoadRetry;
  auto interval = kMinLoadInterval;
  asio::steady_timer pause(executor_);
  while (!stopped_) {
    if (!refresh_requested_) {
      refresh_wakeup_.expires_at(std::chrono::steady_clock::time_point::max());
      co_await refresh_wakeup_.async_wait(kAwait);
      continue;
    }
    refresh_requested_ = false;
    const auto owners_before = owner_;
    const auto masters_before = masters_;
    Status loaded = co_await load_slots();
    if (stopped_) break;
    if (loaded.ok()) {
      retry = kFirstLoadRetry;
      last_error_.clear();
      const bool unchanged = owner_ == owners_before && masters_ == masters_before;
      interval = unchanged ? std::min(interval * 2, kMaxUnchangedLoadInterval) : kMinLoadInterval;
      pause.expires_after(interval);
    } else if (!map_loaded_ && !any_node_tried()) {
      // Start-up: the seeds' connections are still being made. Not a
      // failure yet; look again soon.
      refresh_requested_ = true;
      pause.expires_after(kConnectedPollInterval);
    } else {
      if (last_error_ != loaded.error().detail) {
        spdlog::warn("Redis Cluster slot map not loaded: {}", loaded.error().detail);
      }
      last_error_ = loaded.error().detail;
      refresh_requested_ = true;
      pause.expires_after(retry);
      retry = std::min(retry * 2, kMaxLoadRetry);
    }
    co_await pause.async_wait(kAwait);
  }
}

asio::awaitable<Status> ClusterClient::load_slots() {
  // Masters first (they know the newest map), then any other node.
  std::vector<std::int16_t> order = masters_;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const auto index = static_cast<std::int16_t>(i);
    if (std::find(order.begin(), order.end(), index) == order.end()) order.push_back(index);
  }
  std::string why = "no node of the cluster is connected";
  for (std::int16_t i : order) {
    Node& node = *nodes_[static_cast<std::size_t>(i)];
    if (!node.client->connected()) continue;
    const std::string host = node.client->config().host;
    const auto asked_at = std::chrono::steady_clock::now();
    auto reply = co_await node.client->command("CLUSTER", "SLOTS");
    if (stopped_) co_return Error::unavailable("Redis Cluster client is stopped");
    if (!reply.ok()) {
      why = reply.error().detail;
      continue;
    }
    if (reply->is_error()) {
      why = node.name + " answered CLUSTER SLOTS with " + reply->as_string();
      continue;
    }
    if (auto applied = apply_slots(*reply, host, asked_at); !applied.ok()) {
      why = applied.error().detail;
      continue;
    }
    co_return Status{};
  }
  co_return Error::unavailable(why);
}

// CLUSTER SLOTS: one entry per range, [start, end, master, replicas...],
// each node [ip, port, id, ...]. An empty ip means "the address you asked".
Status ClusterClient::apply_slots(const Reply& slots, const std::string& asked_host,
                                  std::chrono::steady_clock::time_point asked_at) {
  if (!slots.is_array()) return Error::unavailable("unexpected CLUSTER SLOTS reply");
  std::array<std::int16_t, kClusterSlots> owners{};
  owners.fill(kNoNode);
  std::vector<std::int16_t> masters;
  std::vector<std::string> named;  // masters and replicas
  // The same, by master: the master first, then its replicas.
  std::vector<std::vector<Address>> groups;
  for (const Reply& range : slots.elements()) {
    const auto& parts = range.elements();
    if (parts.size() < 3 || !parts[2].is_array() || parts[2].elements().size() < 2) {
      return Error::unavailable("unexpected CLUSTER SLOTS range: " + range.describe());
    }
    const std::int64_t first = parts[0].as_integer();
    const std::int64_t last = parts[1].as_integer();
    const auto& master = parts[2].elements();
    const std::int64_t port = master[1].as_integer();
    if (first < 0 || last < first || last >= kClusterSlots || port <= 0 || port > 65535) {
      return Error::unavailable("unexpected CLUSTER SLOTS range: " + range.describe());
    }
    std::string host = master[0].as_string();
    if (host.empty() || host == "?") host = asked_host;
    const std::int16_t index = node_index(host, static_cast<std::uint16_t>(port));
    std::fill(owners.begin() + first, owners.begin() + last + 1, index);
    if (std::find(masters.begin(), masters.end(), index) == masters.end()) {
      masters.push_back(index);
    }
    named.push_back(nodes_[static_cast<std::size_t>(index)]->name);
    const Address master_address{host, static_cast<std::uint16_t>(port)};
    auto group = std::find_if(groups.begin(), groups.end(),
                              [&](const auto& g) { return g.front() == master_address; });
    if (group == groups.end()) group = groups.insert(groups.end(), {master_address});
    for (std::size_t replica = 3; replica < parts.size(); ++replica) {
      auto address = node_address(parts[replica], asked_host);
      if (!address) continue;
      named.push_back(address->first + ":" + std::to_string(address->second));
      if (std::find(group->begin(), group->end(), *address) == group->end()) {
        group->push_back(std::move(*address));
      }
    }
  }
  const bool changed = !map_loaded_ || owners != owner_;
  const auto now = std::chrono::steady_clock::now();
  for (std::size_t slot = 0; slot < owners.size(); ++slot) {
    if (!map_loaded_ || owners[slot] != owner_[slot]) owner_since_[slot] = now;
  }
  owner_ = owners;
  masters_ = std::move(masters);
  map_loaded_ = true;
  ++counters_.slot_refreshes;
  retire_departed(named);
  track(groups, asked_at);
  if (changed) {
    spdlog::info("Redis Cluster slot map loaded: {} masters", masters_.size());
  }
  return {};
}

void ClusterClient::track(
    const std::vector<std::vector<std::pair<std::string, std::uint16_t>>>& groups,
    std::chrono::steady_clock::time_point asked_at) {
  if (!tracker_) return;
  std::vector<std::vector<Config>> nodes;
  nodes.reserve(groups.size());
  for (const auto& group : groups) {
    auto& configs = nodes.emplace_back();
    for (const auto& [host, port] : group) configs.push_back(config_.node(host, port));
  }
  tracker_->set_nodes(std::move(nodes), asked_at);
}

}  // namespace betsdb::redis

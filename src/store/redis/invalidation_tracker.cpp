#include "store/redis/invalidation_tracker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <exception>
#include <utility>

#include "store/redis/commands.hpp"
#include "store/redis/resp.hpp"

namespace betsdb::redis {

namespace asio = boost::asio;

namespace {

constexpr auto kTrackerAwait = asio::as_tuple(asio::use_awaitable);

constexpr std::chrono::milliseconds kTrackerFirstRetryDelay{50};
constexpr std::chrono::milliseconds kTrackerMaxRetryDelay{1000};
// Bounds memory (beside kMaxKept), per generation of the invalidated keys'
// map (two are held): a read is refused a keep only if more invalidations
// than this came while it waited.
constexpr std::size_t kInvalidatedKeysPerGeneration = 4096;

constexpr std::string_view kInvalidationChannel = "__redis__:invalidate";

// One set-up command. Not a coroutine, and the connection by reference: a
// lambda holding a shared_ptr inside a co_await expression is destroyed
// twice by g++ 12 (the connection was freed while still in use). The caller
// keeps the connection alive until the reply.
template <class Range>
asio::awaitable<Result<Reply>> ask_tracking(detail::Connection& connection, const Range& args) {
  auto encoded = encode_command(args);
  EncodedCommand wire = encoded.ok() ? std::move(encoded).value() : EncodedCommand();
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Result<Reply>)>(
      [&connection](auto handler, EncodedCommand wire) {
        // Only an empty command fails to encode; a closed connection fails it.
        if (wire.empty()) connection.close("an empty command on the tracking connection");
        connection.send(wire.view(), detail::ReplyHandler(std::move(handler)));
      },
      asio::use_awaitable, std::move(wire));
}

Status tracking_refused(detail::Connection& connection, std::string_view what,
                        const Result<Reply>& reply) {
  if (!reply.ok()) return reply.error();
  connection.close("Redis refused " + std::string(what) +
                   " on the tracking connection: " + reply->describe());
  return Error::unavailable(connection.close_reason());
}

bool is_tracking_pong(const Reply& reply) {
  if (reply.is_status()) return reply.as_string() == "PONG";
  return reply.is_array() && !reply.elements().empty() &&
         reply.elements().front().as_string() == "pong";
}

}  // namespace

struct InvalidationTracker::Round {
  explicit Round(asio::any_io_executor executor)
      : done(executor, asio::steady_timer::time_point::max()) {}
  asio::steady_timer done;  // cancelled when the round ends
  bool finished = false;
  bool ok = false;
};

struct InvalidationTracker::Node {
  Node(asio::any_io_executor executor, Config settings)
      : config(std::move(settings)),
        name(config.host + ":" + std::to_string(config.port)),
        retry_timer(std::move(executor)) {}
  Config config;
  std::string name;  // host:port
  std::shared_ptr<detail::Connection> connection;
  std::string origin;  // the process reached; empty unless live
  bool live = false;
  bool stopped = false;
  bool ever_live = false;
  Clock::time_point live_since{};
  std::uint64_t generation = 0;  // one per connection made live
  asio::steady_timer retry_timer;
  std::string group;                 // its master's host:port (itself for a master)
  Clock::time_point asked_at{};      // when a reader last wanted it fresh
  std::shared_ptr<Round> in_flight;  // the last PING sent, until its PONG
  std::shared_ptr<Round> next;       // its waiters came after that PING went
  Clock::time_point fenced_at{};     // when the last answered PING was sent
  // When each PING whose PONG is not read yet was sent, oldest first: a
  // connection answers in order.
  std::deque<Clock::time_point> pings_sent;
  Clock::time_point last_ping_at{};  // the last PING sent
  Clock::time_point caught_up_at{};  // the last catch_up() read
};

std::shared_ptr<InvalidationTracker> InvalidationTracker::create(
    asio::any_io_executor executor, Config config, std::vector<std::string> prefixes) {
  auto tracker = std::shared_ptr<InvalidationTracker>(
      new InvalidationTracker(executor, std::move(prefixes), false, nullptr));
  tracker->nodes_.push_back(std::make_shared<Node>(std::move(executor), std::move(config)));
  return tracker;
}

std::shared_ptr<InvalidationTracker> InvalidationTracker::create_for_cluster(
    asio::any_io_executor executor, std::vector<std::string> prefixes,
    std::function<void()> want_map) {
  return std::shared_ptr<InvalidationTracker>(
      new InvalidationTracker(std::move(executor), std::move(prefixes), true, std::move(want_map)));
}

InvalidationTracker::InvalidationTracker(asio::any_io_executor executor,
                                         std::vector<std::string> prefixes, bool cluster,
                                         std::function<void()> want_map)
    : executor_(std::move(executor)),
      prefixes_(std::move(prefixes)),
      cluster_(cluster),
      want_map_(std::move(want_map)),
      ping_timer_(executor_) {}

void InvalidationTracker::start() {
  if (started_ || stopped_) return;
  started_ = true;
  for (const auto& node : nodes_) start_node(node);
}

void InvalidationTracker::start_node(const std::shared_ptr<Node>& node) {
  asio::co_spawn(executor_, run(shared_from_this(), node),
                 [self = shared_from_this()](std::exception_ptr e) {
                   if (e) self->stop();  // only an allocation failure throws in there
                 });
}

void InvalidationTracker::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (const auto& node : nodes_) stop_node(*node);
  forget_all();
  ping_timer_.cancel();
}

void InvalidationTracker::stop_node(Node& node) {
  node.stopped = true;
  node.live = false;
  if (node.connection) node.connection->close("the tracking connection is stopped");
  node.retry_timer.cancel();
  node_lost(node);
}

void InvalidationTracker::set_nodes(std::vector<std::vector<Config>> groups,
                                    Clock::time_point asked_at) {
  if (!cluster_ || stopped_) return;
  map_loaded_at_ = std::max(map_loaded_at_, asked_at);
  std::vector<std::shared_ptr<Node>> kept_nodes;
  bool changed = false;
  for (auto& group : groups) {
    if (group.empty()) continue;
    const std::string master = group.front().host + ":" + std::to_string(group.front().port);
    for (auto& config : group) {
      const std::string name = config.host + ":" + std::to_string(config.port);
      auto same = [&name](const auto& node) { return node->name == name; };
      if (std::any_of(kept_nodes.begin(), kept_nodes.end(), same)) continue;  // named twice
      auto it = std::find_if(nodes_.begin(), nodes_.end(), same);
      if (it != nodes_.end()) {
        // A replica moved to another master: the one it may now replace
        // had its PINGs checked without it.
        if ((*it)->group != master) changed = true;
        (*it)->group = master;
        kept_nodes.push_back(*it);
        continue;
      }
      auto node = std::make_shared<Node>(executor_, std::move(config));
      node->group = master;
      kept_nodes.push_back(node);
      changed = true;
      if (started_) start_node(node);
    }
  }
  for (const auto& node : nodes_) {
    if (std::find(kept_nodes.begin(), kept_nodes.end(), node) != kept_nodes.end()) continue;
    stop_node(*node);
    changed = true;
  }
  nodes_ = std::move(kept_nodes);
  if (changed) forget_all();
}

bool InvalidationTracker::live() const noexcept {
  return !nodes_.empty() &&
         std::all_of(nodes_.begin(), nodes_.end(), [](const auto& node) { return node->live; });
}

InvalidationTracker::Clock::time_point InvalidationTracker::live_since() const noexcept {
  Clock::time_point since{};
  for (const auto& node : nodes_) since = std::max(since, node->live_since);
  return since;
}

bool InvalidationTracker::map_recent(Clock::time_point now) const noexcept {
  return !cluster_ || now - map_loaded_at_ < kMapTrustedFor;
}

bool InvalidationTracker::fenced(Clock::time_point now) const noexcept {
  return map_recent(now) && std::all_of(nodes_.begin(), nodes_.end(), [now](const auto& node) {
           return now - node->fenced_at < kWritersWait;
         });
}

void InvalidationTracker::ask(Node& node, Clock::time_point now) {
  node.asked_at = now;
  if (!pinging_) {
    pinging_ = true;
    asio::co_spawn(executor_, keep_fresh(shared_from_this()), asio::detached);
  }
}

bool InvalidationTracker::fresh() {
  if (!live()) return false;
  const auto now = Clock::now();
  for (const auto& node : nodes_) ask(*node, now);
  return fenced(now);
}

bool InvalidationTracker::fresh_for(std::string_view origin) {
  if (!cluster_) return fresh();
  if (!live() || origin.empty()) return false;
  auto from = std::find_if(nodes_.begin(), nodes_.end(),
                           [origin](const auto& node) { return node->origin == origin; });
  if (from == nodes_.end()) return false;
  const std::string& group = (*from)->group;
  const auto now = Clock::now();
  bool fenced = map_recent(now);
  for (const auto& node : nodes_) {
    if (node->group != group) continue;
    ask(*node, now);
    fenced = fenced && now - node->fenced_at < kWritersWait;
  }
  return fenced;
}

bool InvalidationTracker::fresh_without_asking() const noexcept {
  return live() && fenced(Clock::now());
}

void InvalidationTracker::catch_up() {
  if (!live()) return;
  const auto now = Clock::now();
  const auto ping_every = cluster_ ? kClusterPingEvery : kPingEvery;
  for (const auto& node : nodes_) {
    if (now - node->asked_at >= kIdleAfter || now - node->fenced_at < kCatchUpAfter ||
        now - node->caught_up_at < kCatchUpEvery || !node->connection) {
      continue;
    }
    node->caught_up_at = now;
    node->connection->read_now();
    if (now - node->last_ping_at >= ping_every) {
      send_ping(node, node->next ? std::exchange(node->next, nullptr)
                                 : std::make_shared<Round>(executor_));
      if (node->connection) node->connection->flush_now();
    }
  }
}

// A PING every kPingEvery on each connection while readers ask, whether or
// not the last one is back: a loop that is slow to read one PONG must not
// delay the next PING too, or freshness would lapse twice as often under load.
asio::awaitable<void> InvalidationTracker::keep_fresh(
    [[maybe_unused]] std::shared_ptr<InvalidationTracker> self) {
  for (;;) {
    const auto now = Clock::now();
    const auto wanted = [now](const auto& node) { return now - node->asked_at < kIdleAfter; };
    if (stopped_ || !live() || std::none_of(nodes_.begin(), nodes_.end(), wanted)) break;
    for (const auto& node : nodes_) {
      if (!wanted(node)) continue;
      // Fence waiters ride on it: it goes after they came. Left for the
      // PONG of the PING in flight, they would starve while each next PING
      // replaces it before its PONG is back.
      send_ping(node, node->next ? std::exchange(node->next, nullptr)
                                 : std::make_shared<Round>(executor_));
    }
    if (cluster_ && want_map_ && Clock::now() - map_requested_at_ >= kMapRecheck) {
      map_requested_at_ = Clock::now();
      want_map_();
    }
    ping_timer_.expires_after(cluster_ ? kClusterPingEvery : kPingEvery);
    co_await ping_timer_.async_wait(kTrackerAwait);
  }
  pinging_ = false;
}

asio::awaitable<void> InvalidationTracker::wait_for_readers() {
  asio::steady_timer timer(co_await asio::this_coro::executor, kWritersWait);
  co_await timer.async_wait(kTrackerAwait);
}

std::optional<InvalidationTracker::Mark> InvalidationTracker::mark() const noexcept {
  if (!live()) return std::nullopt;
  return Mark{epoch_, seen_};
}

void InvalidationTracker::report(Commands::Stats& into) const {
  into.tracking = live();
  into.tracking_kept_reads = stats_.kept_reads;
  into.tracking_pings = stats_.pings;
  into.tracking_invalidations = stats_.invalidations;
  into.tracking_reconnects = stats_.reconnects;
  into.tracking_leases = stats_.leases;
  into.tracking_writer_waits = stats_.writer_waits;
}

bool InvalidationTracker::tracked_origin(std::string_view origin) const noexcept {
  if (origin.empty()) return false;
  return std::any_of(nodes_.begin(), nodes_.end(),
                     [origin](const auto& node) { return node->live && node->origin == origin; });
}

void InvalidationTracker::keep(const std::string& key, std::string value, Mark mark,
                               std::string_view origin, std::uint64_t lease_term) {
  if (!live() || mark.epoch != epoch_ || !tracked_origin(origin)) return;
  if (mark.seen < floor_) return;
  const std::size_t hash = key_hash(key);
  for (const auto* invalidated : {&invalidated_at_, &invalidated_before_}) {
    auto it = invalidated->find(hash);
    if (it != invalidated->end() && it->second > mark.seen) return;
  }
  // A value read under a lease that lapsed since is kept without one: it
  // still shows that the key is read (leases_wanted), but is not used.
  auto& kept = lease_term == kNoLeaseNeeded ? kept_marks_ : kept_;
  if (lease_term != kNoLeaseNeeded && lease_term != this->lease_term(key)) lease_term = 0;
  if (kept.size() >= kMaxKept && !kept.contains(key)) kept.clear();
  kept.insert_or_assign(key, KeptValue{std::move(value), lease_term, interned_origin(origin)});
}

std::string_view InvalidationTracker::interned_origin(std::string_view origin) {
  auto it = origins_.find(origin);
  if (it == origins_.end()) it = origins_.emplace(origin).first;
  return *it;
}

bool InvalidationTracker::tracks(std::string_view key) const noexcept {
  return std::any_of(prefixes_.begin(), prefixes_.end(),
                     [key](const std::string& prefix) { return key.starts_with(prefix); });
}

const std::string* InvalidationTracker::kept(const std::string& key) const {
  if (!live()) return nullptr;
  auto it = kept_.find(key);
  if (it == kept_.end()) {
    it = kept_marks_.find(key);
    if (it == kept_marks_.end()) return nullptr;
  }
  const std::uint64_t term = it->second.lease_term;
  if (term == 0 || (term != kNoLeaseNeeded && term != lease_term(key))) return nullptr;
  return &it->second.value;
}

std::string_view InvalidationTracker::kept_origin(const std::string& key) const {
  if (auto it = kept_.find(key); it != kept_.end()) return it->second.origin;
  if (auto it = kept_marks_.find(key); it != kept_marks_.end()) return it->second.origin;
  return {};
}

std::uint64_t InvalidationTracker::lease_term(const std::string& key) const {
  auto it = leases_.find(key);
  if (it == leases_.end() || Clock::now() >= it->second.until) return 0;
  return it->second.term;
}

std::vector<std::string> InvalidationTracker::leases_wanted(std::span<const std::string> keys) {
  std::vector<std::string> wanted;
  if (!live()) return wanted;
  const auto now = Clock::now();
  for (const auto& key : keys) {
    // Only counters read before: one read once costs no lease.
    if (leases_asked_.contains(key) || !(kept_.contains(key) || leases_.contains(key))) continue;
    auto it = leases_.find(key);
    if (it != leases_.end() && it->second.until - now > kRenewBelow) continue;
    leases_asked_.insert(key);
    wanted.push_back(key);
  }
  return wanted;
}

void InvalidationTracker::leased(const std::vector<std::string>& keys, Clock::time_point sent,
                                 Clock::time_point answered, std::string_view origin,
                                 bool granted) {
  for (const auto& key : keys) leases_asked_.erase(key);
  // A lease from a Redis process not tracked (a restart in between) binds
  // no writer of one that is.
  if (!granted || !live() || !tracked_origin(origin)) return;
  const auto until = sent + kLeaseLength - kLeaseMargin;
  for (const auto& key : keys) {
    ++stats_.leases;
    auto [it, fresh] = leases_.try_emplace(key);
    Lease& lease = it->second;
    // Redis ran the renewal before `answered`: if that is before the lease
    // in force ran out, writers never stopped waiting, and the term goes on.
    if (fresh || answered >= lease.until) lease.term = next_lease_term_++;
    lease.until = std::max(lease.until, until);
  }
  if (leases_.size() > kMaxKept) {
    const auto now = Clock::now();
    std::erase_if(leases_, [now](const auto& entry) { return entry.second.until <= now; });
    if (leases_.size() > kMaxKept) leases_.clear();
  }
}

asio::awaitable<bool> InvalidationTracker::fence() {
  if (!live()) co_return false;
  // Keeps this tracker alive while its readers wait.
  auto self = shared_from_this();
  const auto nodes = nodes_;
  bool ok = true;
  for (const auto& node : nodes) {
    const bool node_ok = co_await fence_node(node);
    ok = ok && node_ok;
  }
  co_return ok;
}

asio::awaitable<bool> InvalidationTracker::fence_node(std::shared_ptr<Node> node) {
  if (!node->live) co_return false;
  std::shared_ptr<Round> round;
  if (!node->in_flight) {
    round = std::make_shared<Round>(executor_);
    send_ping(node, round);
  } else {
    // The PING in flight may have gone before this reader's request came.
    if (!node->next) node->next = std::make_shared<Round>(executor_);
    round = node->next;
  }
  if (!round->finished) co_await round->done.async_wait(kTrackerAwait);
  co_return round->ok;
}

void InvalidationTracker::send_ping(const std::shared_ptr<Node>& node,
                                    std::shared_ptr<Round> round) {
  if (!node->live || !node->connection) {
    finish(round, false);
    return;
  }
  node->in_flight = round;
  ++stats_.pings;
  const auto sent_at = Clock::now();
  node->pings_sent.push_back(sent_at);
  node->last_ping_at = sent_at;
  static const EncodedCommand kPing = [] {
    const std::array<std::string_view, 1> ping{"PING"};
    return std::move(encode_command(ping)).value();
  }();
  node->connection->send(kPing.view(), detail::ReplyHandler([self = shared_from_this(), node, round,
                                                             generation = node->generation,
                                                             sent_at](Result<Reply> reply) {
                           // The handler is posted after the read loop handed the PONG over,
                           // so every message before it is applied (on_reply fenced already).
                           const bool ok = reply.ok() && is_tracking_pong(*reply) && node->live &&
                                           node->generation == generation;
                           if (ok) node->fenced_at = std::max(node->fenced_at, sent_at);
                           if (node->in_flight == round) node->in_flight.reset();
                           self->finish(round, ok);
                           if (node->next && !node->in_flight) {
                             auto next = std::move(node->next);
                             node->next.reset();
                             self->send_ping(node, std::move(next));
                           }
                         }));
}

void InvalidationTracker::finish(const std::shared_ptr<Round>& round, bool ok) {
  round->finished = true;
  round->ok = ok;
  round->done.cancel();
}

bool InvalidationTracker::on_reply(Node& node, const Reply& reply) {
  if (!is_tracking_pong(reply)) return on_push(reply);
  if (!node.pings_sent.empty()) {
    if (node.live) node.fenced_at = std::max(node.fenced_at, node.pings_sent.front());
    node.pings_sent.pop_front();
  }
  return false;  // its waiter still gets it
}

bool InvalidationTracker::on_push(const Reply& reply) {
  // A message is ["message", channel, payload]; replies to SUBSCRIBE and
  // PING are arrays too, but start otherwise and go to their waiters.
  if (!reply.is_array()) return false;
  const auto& parts = reply.elements();
  if (parts.size() != 3 || parts[0].as_string() != "message") return false;
  if (parts[1].as_string() != kInvalidationChannel) return true;
  if (!parts[2].is_array()) {
    // A FLUSHALL / FLUSHDB, a replica's full resynchronisation, or a payload
    // not understood: forget everything, and count every key as
    // invalidated now.
    ++stats_.invalidations;
    ++seen_;
    forget_all();
    return true;
  }
  for (const Reply& key : parts[2].elements()) invalidate(key.as_string());
  return true;
}

void InvalidationTracker::invalidate(const std::string& key) {
  ++stats_.invalidations;
  ++seen_;
  kept_.erase(key);
  kept_marks_.erase(key);
  if (invalidated_at_.size() >= kInvalidatedKeysPerGeneration) {
    // The older generation goes, and with it what reads sent before the
    // newer one began could be checked against.
    invalidated_before_ = std::move(invalidated_at_);
    invalidated_at_.clear();
    invalidated_at_.reserve(kInvalidatedKeysPerGeneration);
    floor_ = generation_since_;
    generation_since_ = seen_ - 1;
  }
  invalidated_at_.insert_or_assign(key_hash(key), seen_);
}

void InvalidationTracker::forget_all() {
  ++epoch_;
  kept_.clear();
  kept_marks_.clear();
  origins_.clear();
  // The leases were granted by processes reached until now: the next may
  // be another, which never saw them.
  leases_.clear();
  invalidated_at_.clear();
  invalidated_before_.clear();
  floor_ = seen_;
  generation_since_ = seen_;
}

void InvalidationTracker::node_lost(Node& node) {
  node.live = false;
  node.fenced_at = {};
  node.pings_sent.clear();  // their PONGs will never come
  node.origin.clear();
  // Readers waiting on a PING of the lost connection are told it failed by
  // its close (every waiter of a closed Connection completes with an error);
  // those queued behind it never had a PING sent.
  if (node.next) {
    auto next = std::move(node.next);
    node.next.reset();
    finish(next, false);
  }
}

asio::awaitable<void> InvalidationTracker::run(std::shared_ptr<InvalidationTracker> self,
                                               std::shared_ptr<Node> node) {
  auto retry_delay = kTrackerFirstRetryDelay;
  while (!stopped_ && !node->stopped) {
    auto connection = std::make_shared<detail::Connection>(executor_, node->config.command_timeout);
    connection->enable_read_now();
    std::weak_ptr<InvalidationTracker> weak = self;
    std::weak_ptr<Node> weak_node = node;
    connection->set_push_sink([weak, weak_node](const Reply& reply) {
      auto tracker = weak.lock();
      auto tracked = weak_node.lock();
      return tracker && tracked && tracker->on_reply(*tracked, reply);
    });
    node->connection = connection;
    Status setup = co_await set_up(*node, connection);
    if (stopped_ || node->stopped) {
      connection->close("the tracking connection is stopped");
      break;
    }
    if (setup.ok()) {
      if (node->ever_live) ++stats_.reconnects;
      node->ever_live = true;
      ++node->generation;
      node->pings_sent.clear();  // none went on this connection
      // What was read before this connection could report nothing to it.
      forget_all();
      node->live = true;
      node->live_since = Clock::now();
      retry_delay = kTrackerFirstRetryDelay;
      co_await connection->wait_closed();
      // Stopped on purpose: stop() and set_nodes() forgot what was kept.
      if (stopped_ || node->stopped) break;
      spdlog::debug("Redis tracking connection to {} lost: {}", node->name,
                    connection->close_reason());
      node_lost(*node);
      forget_all();
    } else {
      node_lost(*node);
      connection->close(setup.error().detail);
    }
    node->connection.reset();
    node->retry_timer.expires_after(retry_delay);
    co_await node->retry_timer.async_wait(kTrackerAwait);
    retry_delay = std::min(retry_delay * 2, kTrackerMaxRetryDelay);
  }
  node->connection.reset();
}

// g++ 12 at -O2 with ASan: the same false positive as Client::handshake.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<Status> InvalidationTracker::set_up(
    Node& node, std::shared_ptr<detail::Connection> connection) {
  const Config& config = node.config;
  asio::steady_timer deadline(executor_, config.connect_timeout);
  deadline.async_wait(
      [weak = std::weak_ptr<detail::Connection>(connection)](const boost::system::error_code& ec) {
        if (ec) return;
        if (auto c = weak.lock()) c->close("setting up the Redis tracking connection timed out");
      });
  Status status = co_await connection->open(config.host, config.port);
  if (status.ok() && !config.password.empty()) {
    std::vector<std::string_view> auth{"AUTH"};
    if (!config.username.empty()) auth.push_back(config.username);
    auth.push_back(config.password);
    auto reply = co_await ask_tracking(*connection, auth);
    if (!reply.ok() || !reply->is_ok()) status = tracking_refused(*connection, "AUTH", reply);
  }
  std::string origin;
  if (status.ok()) {
    const std::array<std::string_view, 2> info{"INFO", "server"};
    auto reply = co_await ask_tracking(*connection, info);
    if (reply.ok() && reply->is_string()) origin = origin_from_info(reply->as_string());
    if (origin.empty()) status = tracking_refused(*connection, "INFO server", reply);
  }
  std::string id;
  if (status.ok()) {
    const std::array<std::string_view, 2> client_id{"CLIENT", "ID"};
    auto reply = co_await ask_tracking(*connection, client_id);
    if (reply.ok() && reply->is_integer()) id = std::to_string(reply->as_integer());
    if (id.empty()) status = tracking_refused(*connection, "CLIENT ID", reply);
  }
  if (status.ok()) {
    std::vector<std::string_view> tracking{"CLIENT", "TRACKING", "ON", "REDIRECT", id, "BCAST"};
    for (const auto& prefix : prefixes_) {
      tracking.push_back("PREFIX");
      tracking.push_back(prefix);
    }
    auto reply = co_await ask_tracking(*connection, tracking);
    if (!reply.ok() || !reply->is_ok())
      status = tracking_refused(*connection, "CLIENT TRACKING", reply);
  }
  if (status.ok()) {
    const std::array<std::string_view, 2> subscribe{"SUBSCRIBE", kInvalidationChannel};
    auto reply = co_await ask_tracking(*connection, subscribe);
    if (!reply.ok() || !reply->is_array())
      status = tracking_refused(*connection, "SUBSCRIBE", reply);
  }
  deadline.cancel();
  if (status.ok() && !connection->is_open())
    status = Error::unavailable(connection->close_reason());
  if (status.ok()) node.origin = std::move(origin);
  co_return status;
}
#pragma GCC diagnostic pop

}  // namespace betsdb::redis

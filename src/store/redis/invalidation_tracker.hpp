// What a shard may know of some Redis keys without asking: the read cache's
// generation counters and the tokens' revocation marks, kept from earlier
// reads while Redis's client-side caching (CLIENT TRACKING, BCAST mode) says
// nobody changed them. A hit can then skip its round trip for the counters
// (store/redis/cache.hpp) and a request its revocation check
// (access_store.hpp).
//
// One connection per shard and Redis node, RESP2, subscribed to
// __redis__:invalidate, with tracking redirected to itself for the prefixes
// given. Redis then writes to it the name of every key under those prefixes
// that any client changes (or that expires or is evicted), and a nil for a
// FLUSHALL or a replica's full resynchronisation.
//
// Read-your-writes (docs/architecture.md, "Kept counters"). A value is kept
// only when no invalidation of its key was read between the moment its read
// was sent (mark()) and its reply, and dropped when one is read later. That
// alone leaves a window: a write's invalidation may still be on its way when
// a reader starts right after the write answered. Two rules close it:
// - while readers use kept values, the tracker sends a PING every
//   kPingEvery on each node's connection and notes when the last one whose
//   PONG came back was sent. Redis answers one connection in order and
//   wrote the invalidation of every write it ran before that PING ahead of
//   the PONG, so every write that node answered before that moment has been
//   applied here;
// - a writer waits kWritersWait after Redis answered its change before it
//   answers its own client (wait_for_readers()).
// A kept value is used only while fresh(): on every node tracked, the last
// answered PING was sent less than kWritersWait ago. A read that begins after
// a write answered begins at least kWritersWait after a node ran the write,
// so that node's PING was sent after the write ran, and the write's
// invalidation was applied before the read. A PONG fences as it is read
// (on_reply), and a reader that finds one overdue reads the connection
// itself (catch_up()): a busy loop reaches it late. When still not fresh,
// readers ask Redis as they would without tracking.
//
// Leases: a writer waits only when some process may be using a kept value
// of what it changed. A counter's kept value is usable only under a lease:
// "lease:<counter>" in Redis, holding the Redis time (ms) until which
// writers of the counter must wait, taken by the reader before the read
// whose value it keeps (Cache asks for it in the background once a shard
// read the counter twice, and renews it while the counter is read). The
// bump's script reports whether a lease is in force; without one the writer
// answers at once. The shard uses a lease until kLeaseLength - kLeaseMargin
// after it sent the request, by its own clock: the margin covers Redis's
// clock running up to an eighth fast. A lease renewed before it ran out
// carries on (same term); one that lapsed starts a new term, and values
// kept under the old one are not used (a writer in the gap did not wait).
// Revocation marks need none: their writers always wait (kNoLeaseNeeded).
//
// Losing a node's connection drops every kept value; so does a reconnect to
// another Redis process (origin), as a restart can roll counters back. A
// value is kept only from a process a live connection tracks.
//
// A Redis Cluster (create_for_cluster(); docs/architecture.md, "Kept
// counters on a Redis Cluster"): the cluster client names every node of each
// slot map it loads, masters and replicas, by master (set_nodes()). Every
// one is tracked, so whichever node runs a write (a master, a replica
// promoted meanwhile, a slot's new owner) reports it, and a replica reports
// the writes it applies from its master too. A value read from a master is
// used while that master and its replicas answered recent PINGs
// (fresh_for()): only they can run its slot's writes, short of a MIGRATE,
// which deletes the key on the master and so is reported. A map that names
// a node not tracked before, no longer names one, or puts a replica under
// another master, drops every kept value: that node may have run writes
// nobody reported, or been promoted without its PINGs checked. What no tracked node
// can report is a key that appears on a node not known yet (a slot given to
// a new master), so on a cluster a kept absence is trusted only beside a
// present value of its slot that every such change goes through first (a
// revocation mark's sign-out count, access_store.cpp), and kept values are
// used only while the last map is less than kMapTrustedFor old (the tracker
// asks for one every kMapRecheck while readers use them).
//
// Thread-safety: none; one per shard, on its thread. Lifetime: create()
// only; background work holds shared_from_this() until stop().
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/redis/commands.hpp"
#include "store/redis/connection.hpp"
#include "store/redis/redis_config.hpp"

namespace betsdb::redis {

class InvalidationTracker final : public std::enable_shared_from_this<InvalidationTracker> {
 public:
  // When a read was sent, as the tracker counts time: its connection and how
  // many invalidations it had read by then.
  struct Mark {
    std::uint64_t epoch = 0;
    std::uint64_t seen = 0;
  };
  struct Stats {
    std::uint64_t kept_reads = 0;     // reads answered from kept values
    std::uint64_t pings = 0;          // PINGs sent to keep them fresh
    std::uint64_t invalidations = 0;  // keys Redis said were changed
    std::uint64_t reconnects = 0;     // connections established after the first
    std::uint64_t leases = 0;         // leases granted (taken or renewed)
    std::uint64_t writer_waits = 0;   // bumps of this process that found a lease
  };
  using Clock = std::chrono::steady_clock;

  // How long a writer waits after Redis took its change, and so how long
  // after its PING was sent an answered PING keeps kept values usable.
  static constexpr std::chrono::milliseconds kWritersWait{2};
  // How often PINGs go out while kept values are in use; with the round
  // trip, well under kWritersWait, so a shard that keeps up stays fresh.
  static constexpr std::chrono::microseconds kPingEvery{500};
  // On a cluster, where a shard may ping six nodes, half as often: a PONG
  // then comes back within kWritersWait as long as the round trip is under
  // 1 ms, and the PINGs cost the nodes half the CPU.
  static constexpr std::chrono::microseconds kClusterPingEvery{1000};
  // PINGs stop after this long without a reader asking for kept values.
  static constexpr std::chrono::milliseconds kIdleAfter{200};
  // catch_up(): a wanted node's last answered PING older than this is read
  // for at once, at most every kCatchUpEvery per node.
  static constexpr std::chrono::microseconds kCatchUpAfter{1000};
  static constexpr std::chrono::microseconds kCatchUpEvery{100};
  // How long a lease asks Redis to make writers wait, the part of it a
  // shard does not use, and the time left below which a read renews it.
  // Renewals cost a script per counter read and shard every couple of
  // seconds (a user's list is a counter: thousands under load); a lease
  // outlives its last read by up to kLeaseLength, during which writes wait.
  static constexpr std::chrono::milliseconds kLeaseLength{5000};
  static constexpr std::chrono::milliseconds kLeaseMargin{625};
  static constexpr std::chrono::milliseconds kRenewBelow{2500};
  // The lease term of a value whose writers always wait.
  static constexpr std::uint64_t kNoLeaseNeeded = ~std::uint64_t{0};
  // Bounds memory, a few MB a shard: past it, every value of its kind is
  // forgotten (the next reads ask Redis, as they would without tracking). A
  // bet invalidates its bettor's counter, so under load the invalidated keys
  // are as many as the bettors. Counters and revocation marks are bounded
  // apart: a mark is kept for every token that signs a request, and 40,000
  // bettors would otherwise clear the hot counters (the matches', the
  // summary's) every 20,000 requests. Also bounds the leases held.
  static constexpr std::size_t kMaxKept = 20'000;
  // A cluster: how old the last slot map may be for kept values to be used,
  // and how often the tracker asks for one while they are.
  static constexpr std::chrono::milliseconds kMapTrustedFor{1000};
  static constexpr std::chrono::milliseconds kMapRecheck{400};

  // One Redis, named by `config`.
  static std::shared_ptr<InvalidationTracker> create(boost::asio::any_io_executor executor,
                                                     Config config,
                                                     std::vector<std::string> prefixes);
  // A Redis Cluster: no node until set_nodes(). `want_map` asks the cluster
  // client to load the slot map again (it must not call back into this).
  static std::shared_ptr<InvalidationTracker> create_for_cluster(
      boost::asio::any_io_executor executor, std::vector<std::string> prefixes,
      std::function<void()> want_map);
  InvalidationTracker(const InvalidationTracker&) = delete;
  InvalidationTracker& operator=(const InvalidationTracker&) = delete;

  void start();
  void stop();

  // A cluster: the nodes of the slot map just loaded, one group per master,
  // the master first and then its replicas (each with the credentials and
  // timeouts to reach it). Starts tracking those not tracked yet, stops
  // those no longer named, and forgets every kept value if a node came, went
  // or changed groups. Called after every load, changed or not; the map's
  // age counts from `asked_at`, when it was asked for.
  void set_nodes(std::vector<std::vector<Config>> groups,
                 Clock::time_point asked_at = Clock::now());

  // Subscribed and tracking, on every node.
  bool live() const noexcept;
  // Kept values may be used now (see above): every node is fresh. Asking
  // also keeps the PINGs going (they stop when nobody asked for kIdleAfter),
  // so the first reads after a quiet spell ask Redis.
  bool fresh();
  // The same for values read from `origin` (kept_origin()): the node that
  // answered them and the rest of its group (its replicas, one of which a
  // failover may promote to run the slot's writes) are fresh. Only that
  // group's PINGs are kept going: a shard that reads one slot pings its
  // master and replicas, not the whole cluster. On one Redis, fresh().
  bool fresh_for(std::string_view origin);
  // The same, without asking for PINGs: for uses too cheap to pay for them
  // alone (a revocation check rides on the PINGs cache hits keep going).
  bool fresh_without_asking() const noexcept;
  // A loop busy with ready requests reaches the tracking connections late:
  // a PONG back from Redis in 50 µs can wait there for milliseconds, longer
  // than kWritersWait, so the kept values would go unused exactly under the
  // load they save most in. For each node readers want whose last answered
  // PING is over kCatchUpAfter old, this reads its connection at once (a
  // PONG fences as it is read, every message before it applied) and sends a
  // PING at once if the timer's is late. Called by readers before they look
  // anything up: the messages it reads may drop kept values.
  void catch_up();
  // For the callers of fresh() that then answer from kept values.
  void count_kept_read() noexcept { ++stats_.kept_reads; }
  // When the last of the tracking connections went live: kept values are
  // from processes reached since.
  Clock::time_point live_since() const noexcept;

  // To be taken just before a read is sent; nullopt unless live.
  std::optional<Mark> mark() const noexcept;
  // Keeps what a read sent at `mark` found at `key` in process `origin`,
  // unless the key was invalidated since `mark`, or the connection or the
  // process changed. `lease_term` is lease_term(key) when the read was sent
  // (kNoLeaseNeeded for a key whose writers always wait): the value is used
  // only while that term lasts.
  void keep(const std::string& key, std::string value, Mark mark, std::string_view origin,
            std::uint64_t lease_term);
  // Whether `key` is under one of the tracked prefixes: only such keys may
  // be kept (Redis reports changes to no other).
  bool tracks(std::string_view key) const noexcept;
  // The value kept for `key`, if its lease is in force; null otherwise.
  // Valid until the next suspension. Only trustworthy while fresh().
  const std::string* kept(const std::string& key) const;
  // The Redis process that `key`'s kept value was read from; empty if none.
  std::string_view kept_origin(const std::string& key) const;

  // The term of the lease on `key` in force now; 0 when none.
  std::uint64_t lease_term(const std::string& key) const;
  // Of `keys`, those a lease should be asked for now (and are then counted
  // as asked): read before (kept, or leased once) with no lease or one
  // ending within kRenewBelow, and not asked already. Empty unless live.
  // Asked before the read's value is kept, so that a counter read once
  // costs no lease.
  std::vector<std::string> leases_wanted(std::span<const std::string> keys);
  // The answer to a lease on `keys` requested at `sent`: granted by Redis
  // process `origin` (answered at `answered`), or not (granted false).
  void leased(const std::vector<std::string>& keys, Clock::time_point sent,
              Clock::time_point answered, std::string_view origin, bool granted);
  // For the writers of this process: a bump found a lease and waited.
  void count_writer_wait() noexcept { ++stats_.writer_waits; }

  // True once every invalidation each node wrote before it ran a PING sent
  // after this call has been read (and applied); false if a connection failed
  // first, or the tracker is not live. For tests, and for tools that must
  // see a change this instant.
  boost::asio::awaitable<bool> fence();

  // What every writer of a tracked key awaits after Redis answered its
  // change and before it answers its client: kWritersWait. Whether or not
  // this process tracks anything, another may: every process on a Redis
  // where any tracks does it (Config::writers_wait).
  static boost::asio::awaitable<void> wait_for_readers();

  const Stats& stats() const noexcept { return stats_; }
  // Fills the tracking fields of a client's statistics (commands.hpp).
  void report(Commands::Stats& into) const;
  std::size_t kept_count() const noexcept { return kept_.size() + kept_marks_.size(); }
  std::size_t lease_count() const noexcept { return leases_.size(); }

 private:
  struct Round;
  struct Node;

  InvalidationTracker(boost::asio::any_io_executor executor, std::vector<std::string> prefixes,
                      bool cluster, std::function<void()> want_map);

  void start_node(const std::shared_ptr<Node>& node);
  void stop_node(Node& node);
  boost::asio::awaitable<void> run(std::shared_ptr<InvalidationTracker> self,
                                   std::shared_ptr<Node> node);
  boost::asio::awaitable<Status> set_up(Node& node, std::shared_ptr<detail::Connection> connection);
  // Sees every reply of `node`'s connection first, in the read itself
  // (connection.hpp, "Pushes"): fences on a PONG, and takes pub/sub messages.
  bool on_reply(Node& node, const Reply& reply);
  bool on_push(const Reply& reply);
  void invalidate(const std::string& key);
  // Drops every kept value and lease, and refuses what reads sent before
  // would keep (a new epoch).
  void forget_all();
  // `origin` as stored in origins_.
  std::string_view interned_origin(std::string_view origin);
  // A node's connection is gone: its PINGs' waiters are told.
  void node_lost(Node& node);
  bool tracked_origin(std::string_view origin) const noexcept;
  bool fenced(Clock::time_point now) const noexcept;
  bool map_recent(Clock::time_point now) const noexcept;
  // Marks `node` as wanted by readers, and starts the PINGs if they stopped.
  void ask(Node& node, Clock::time_point now);
  void send_ping(const std::shared_ptr<Node>& node, std::shared_ptr<Round> round);
  void finish(const std::shared_ptr<Round>& round, bool ok);
  boost::asio::awaitable<bool> fence_node(std::shared_ptr<Node> node);
  boost::asio::awaitable<void> keep_fresh(std::shared_ptr<InvalidationTracker> self);

  boost::asio::any_io_executor executor_;
  std::vector<std::string> prefixes_;
  const bool cluster_;
  std::function<void()> want_map_;
  std::vector<std::shared_ptr<Node>> nodes_;
  bool started_ = false;
  bool stopped_ = false;
  Clock::time_point map_loaded_at_{};     // a cluster: when the newest map was asked for
  Clock::time_point map_requested_at_{};  // a cluster: the last want_map_()

  // One per change that makes earlier reads' values unsafe to keep: a node
  // went live or was lost, the set of nodes changed, a flush.
  std::uint64_t epoch_ = 0;
  std::uint64_t seen_ = 0;  // invalidations read, on every connection
  struct KeptValue {
    std::string value;
    std::uint64_t lease_term = 0;
    std::string_view origin;  // one of origins_
  };
  struct Lease {
    Clock::time_point until;
    std::uint64_t term = 0;
  };
  std::unordered_map<std::string, KeptValue> kept_;        // counters
  std::unordered_map<std::string, KeptValue> kept_marks_;  // revocation marks (kNoLeaseNeeded)
  // The Redis processes the kept values were read from, each id stored once
  // rather than in every one of up to 2 x kMaxKept values. A set of its own,
  // not a view of Node::origin: a node may be destroyed (set_nodes) before
  // forget_all() runs. keep() takes only tracked nodes' ids, and a
  // node's new connection or loss forgets all, this too: it never holds
  // more ids than there are nodes.
  std::set<std::string, std::less<>> origins_;
  std::unordered_map<std::string, Lease> leases_;
  std::unordered_set<std::string> leases_asked_;  // requests in flight
  std::uint64_t next_lease_term_ = 1;             // never reused
  // When each key was last invalidated (in `seen_`), by the key's hash: keys
  // that share a hash share the later time, which can only refuse a keep,
  // never allow one, and an invalidation costs no copy of its key. Below
  // `floor_`, every key counts as invalidated (the map is bounded and starts
  // over). Two generations of it, the newer since `generation_since_`.
  static std::size_t key_hash(std::string_view key) noexcept {
    return std::hash<std::string_view>{}(key);
  }
  std::unordered_map<std::size_t, std::uint64_t> invalidated_at_;
  std::unordered_map<std::size_t, std::uint64_t> invalidated_before_;
  std::uint64_t floor_ = 0;
  std::uint64_t generation_since_ = 0;

  boost::asio::steady_timer ping_timer_;
  bool pinging_ = false;
  Stats stats_;
};

}  // namespace betsdb::redis

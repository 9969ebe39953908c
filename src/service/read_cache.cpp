#include "service/read_cache.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "service/context.hpp"
#include "service/errors.hpp"
#include "service/key_text.hpp"
#include "util/single_flight.hpp"

namespace betsdb::service {

namespace asio = boost::asio;

namespace {

// Shards remember at most this many emails (a few MB) before starting over.
constexpr std::size_t kMaxRememberedEmails = 100'000;
// Pause between attempts to bump generations while Redis stalls.
constexpr std::chrono::milliseconds kBumpRetryDelay{50};
// Pause between background attempts once a bump is overdue.
constexpr std::chrono::milliseconds kBackgroundBumpDelay{200};

// The key layout (docs/operations.md, "Redis keys"). Each namespace's
// entries carry its counter's hash tag, so on a Redis Cluster a read (one
// MGET, or one script) touches one slot; the namespaces themselves spread
// over the cluster, one user's lists on the slot of their email.
const std::string kMatchesGeneration = "gen:{matches}";
const std::string kBetsGeneration = "gen:{bets}";
const std::string kSummaryGeneration = "gen:{summary}";
const std::string kUserBetsGenerationPrefix = "gen:bets_by_email:";

std::string user_bets_tag(const std::string& email) {
  std::string tag = "{";
  append_key_text(tag, email);
  tag += '}';
  return tag;
}
std::string user_bets_generation(const std::string& email) {
  return kUserBetsGenerationPrefix + user_bets_tag(email);
}

SingleFlight& single_flight() {
  static SingleFlight flights;
  return flights;
}

// Generation counters whose bump is overdue: this process reads their
// namespaces from PostgreSQL until the bump lands. The count is checked
// first so the common case costs one relaxed load, not a lock.
class DirtyGenerations final {
 public:
  void mark(const std::vector<std::string>& keys) {
    std::lock_guard lock(mutex_);
    for (const auto& k : keys) ++marks_[k];
    count_.store(marks_.size(), std::memory_order_release);
  }
  void clear(const std::vector<std::string>& keys) {
    std::lock_guard lock(mutex_);
    for (const auto& k : keys) {
      auto it = marks_.find(k);
      if (it != marks_.end() && --it->second == 0) marks_.erase(it);
    }
    count_.store(marks_.size(), std::memory_order_release);
  }
  bool any_of(const std::vector<std::string>& keys) const {
    if (count_.load(std::memory_order_acquire) == 0) return false;
    std::lock_guard lock(mutex_);
    for (const auto& k : keys) {
      if (marks_.contains(k)) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, int> marks_;
  std::atomic<std::size_t> count_{0};
};

DirtyGenerations& dirty() {
  static DirtyGenerations generations;
  return generations;
}

// Runs the cache read in its own coroutine and waits for it at most `limit`.
// A late reply is simply dropped, so the shared Redis connection is never
// reset for one slow read.
asio::awaitable<Result<CacheRead>> read_within(std::shared_ptr<ReadCache> owner, CacheNamespace ns,
                                               std::string query, std::chrono::milliseconds limit) {
  struct State {
    explicit State(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    std::optional<Result<CacheRead>> result;
  };
  auto executor = co_await asio::this_coro::executor;
  auto state = std::make_shared<State>(executor);
  state->timer.expires_after(limit);
  asio::co_spawn(
      executor,
      [state, owner, ns = std::move(ns), query = std::move(query)]() -> asio::awaitable<void> {
        auto r = co_await owner->store().read(ns, query);
        state->result.emplace(std::move(r));
        state->timer.cancel();
      },
      asio::detached);
  co_await state->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (state->result) co_return std::move(*state->result);
  co_return Error::unavailable("the cache did not answer in time");
}

CacheArea area_of(const std::string& generation_key) {
  if (generation_key == kMatchesGeneration) return CacheArea::matches;
  if (generation_key == kBetsGeneration) return CacheArea::bets;
  if (generation_key == kSummaryGeneration) return CacheArea::summary;
  return CacheArea::user_bets;
}

// Overdue bumps. A write whose bump could not land adds its counters to its
// shard's Owed (owe()); one background task per shard (drain_owed()) bumps
// what is owed every kBackgroundBumpDelay until all of it has landed, each
// time only the counters whose Redis is reachable (on a cluster, those on
// the masters that are up). A counter is paid only by a bump sent after the
// last write that owed it: one sent earlier may have run before that
// write's commit, and a reader could have cached the write's absence under
// the generation it made.
asio::awaitable<void> drain_owed(std::shared_ptr<ReadCache> owner) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  ReadCache::Owed& owed = owner->owed();
  while (!owed.keys.empty()) {
    const std::uint64_t round = owed.round;
    const std::optional<std::uint64_t> position =
        owed.position_unknown ? std::nullopt : owed.position;
    std::vector<std::string> batch;
    for (const auto& [key, owed_in] : owed.keys) {
      if (owner->store().reachable(key)) batch.push_back(key);
    }
    if (!batch.empty()) {
      auto bumped = co_await owner->store().bump(batch, position);
      if (bumped.ok()) {
        std::vector<std::string> paid;
        for (const auto& key : batch) {
          auto it = owed.keys.find(key);
          if (it != owed.keys.end() && it->second <= round) {
            paid.push_back(key);
            owed.keys.erase(it);
          }
        }
        dirty().clear(paid);
        if (owed.keys.empty()) {
          owed.position.reset();
          owed.position_unknown = false;
        }
        if (!paid.empty())
          spdlog::info("overdue cache invalidation landed ({} counters)", paid.size());
        continue;
      }
    }
    timer.expires_after(kBackgroundBumpDelay);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  owed.draining = false;
}

void owe(std::shared_ptr<ReadCache> owner, const std::vector<std::string>& keys,
         std::optional<std::uint64_t> position, const asio::any_io_executor& executor) {
  ReadCache::Owed& owed = owner->owed();
  const std::uint64_t round = ++owed.round;
  std::vector<std::string> newly;
  for (const auto& key : keys) {
    if (owed.keys.insert_or_assign(key, round).second) newly.push_back(key);
  }
  // Marked once while owed, cleared once when paid.
  dirty().mark(newly);
  if (!position) {
    owed.position_unknown = true;
  } else if (!owed.position || *owed.position < *position) {
    owed.position = position;
  }
  if (owed.draining) return;
  owed.draining = true;
  asio::co_spawn(executor, drain_owed(std::move(owner)), asio::detached);
}

// Where the write just committed ends in the WAL, for the standby's readers;
// nullopt without a standby (the bump then forgets the namespaces' recorded
// positions, so that an instance with a standby never trusts one this write
// outdated) or when the primary cannot say.
asio::awaitable<std::optional<std::uint64_t>> written_position(Context& ctx) {
  if (!ctx.replica) co_return std::nullopt;
  auto position = co_await ctx.replica->primary_position();
  if (position.ok()) co_return *position;
  count(ctx.counters->written_position_unknown);
  spdlog::warn(
      "WAL position after a write unknown ({}); its lists read the primary until the next write",
      position.error().detail);
  co_return std::nullopt;
}

asio::awaitable<void> invalidate(Context& ctx, std::vector<std::string> keys) {
  if (!ctx.cache) co_return;
  for (const auto& k : keys) count(ctx.counters->of(area_of(k)).invalidations);
  const std::optional<std::uint64_t> position = co_await written_position(ctx);
  CacheStore& store = ctx.cache->store();
  const auto deadline = std::chrono::steady_clock::now() + kInvalidationBound;
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  // Only a connected-but-stalled Redis is worth waiting for; the counters of
  // an unreachable one (on a cluster, a master that is down) go straight to
  // the dirty path below, and the others are still bumped before the write
  // answers.
  std::vector<std::string> overdue;
  std::erase_if(keys, [&](const std::string& key) {
    if (store.reachable(key)) return false;
    overdue.push_back(key);
    return true;
  });
  const auto all_reachable = [&] {
    return std::all_of(keys.begin(), keys.end(),
                       [&](const std::string& key) { return store.reachable(key); });
  };
  bool bumped_now = keys.empty();
  while (!bumped_now && all_reachable()) {
    auto bumped = co_await store.bump(keys, position);
    if (bumped.ok()) {
      bumped_now = true;
      break;
    }
    if (std::chrono::steady_clock::now() + kBumpRetryDelay >= deadline) break;
    timer.expires_after(kBumpRetryDelay);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    // A reset connection takes a moment to come back; keep trying until the bound.
    while (!all_reachable() && std::chrono::steady_clock::now() + kBumpRetryDelay < deadline) {
      timer.expires_after(kBumpRetryDelay);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  if (!bumped_now) overdue.insert(overdue.end(), keys.begin(), keys.end());
  if (overdue.empty()) co_return;
  keys = std::move(overdue);
  spdlog::warn(
      "cache invalidation overdue (Redis unreachable or stalled); "
      "reading the affected lists from PostgreSQL until it lands");
  ctx.cache->count_overdue();
  // A tool that is about to exit reports the overdue count instead.
  if (!ctx.cache->retries_in_background()) co_return;
  owe(ctx.cache, keys, position, executor);
}

}  // namespace

ReadCache::ReadCache(std::shared_ptr<CacheStore> store, bool retry_in_background)
    : store_(std::move(store)), retry_in_background_(retry_in_background) {}

CacheNamespace ReadCache::matches() {
  return {"matches:list:{matches}", {kMatchesGeneration}};
}
CacheNamespace ReadCache::bets() {
  return {"bets:list:{bets}", {kBetsGeneration}};
}
CacheNamespace ReadCache::summary() {
  return {"bets_summary:{summary}", {kSummaryGeneration}};
}
CacheNamespace ReadCache::user_bets(const std::string& email) {
  return {"bets_by_email:" + user_bets_tag(email), {user_bets_generation(email)}};
}

const std::string* ReadCache::email_of(std::int64_t user_id) const {
  auto it = emails_.find(user_id);
  return it == emails_.end() ? nullptr : &it->second;
}

void ReadCache::remember_email(std::int64_t user_id, std::string email) {
  if (emails_.size() >= kMaxRememberedEmails) emails_.clear();
  emails_.insert_or_assign(user_id, std::move(email));
}

MatchStore& match_reader(Context& ctx, ReadSource source) {
  if (source == ReadSource::replica && ctx.replica) return ctx.replica->matches();
  return *ctx.matches;
}

BetStore& bet_reader(Context& ctx, ReadSource source) {
  if (source == ReadSource::replica && ctx.replica) return ctx.replica->bets();
  return *ctx.bets;
}

namespace {

// Loads from where route_read() sends it; a standby's answer counts only if
// no new standby connection (a restarted standby, maybe behind) may have
// served it, else the primary is asked.
asio::awaitable<Result<std::string>> load_routed(Context& ctx, const Loader& load,
                                                 std::optional<std::uint64_t> written) {
  if (!ctx.replica) co_return co_await load(ReadSource::primary);
  const ReplicaView view = ctx.replica->view();
  const ReadRoute route = route_read(true, written, view);
  if (route.source == ReadSource::replica) {
    auto value = co_await load(ReadSource::replica);
    if (value.ok() && ctx.replica->still_valid(view.epoch)) {
      count(ctx.counters->of(RouteReason::caught_up));
      co_return value;
    }
    // A failed standby read is retried on the primary, rather than answer 503.
    count(ctx.counters->of(value.ok() ? RouteReason::replica_replaced : RouteReason::replica_down));
    co_return co_await load(ReadSource::primary);
  }
  count(ctx.counters->of(route.reason));
  co_return co_await load(ReadSource::primary);
}

}  // namespace

asio::awaitable<Result<std::string>> cached(Context& ctx, CacheArea area, CacheNamespace ns,
                                            std::string query, Loader load) {
  auto& counters = ctx.counters->of(area);
  auto load_counted = [&ctx, &counters, &load](std::optional<std::uint64_t> written) {
    count(counters.loads);
    return load_routed(ctx, load, written);
  };
  // Past the cache, no written position is known: the primary.
  if (!ctx.cache || dirty().any_of(ns.generations)) co_return co_await load_counted(std::nullopt);
  // Declared before the if, not in it: with it in the condition, g++ 12 -O2
  // built this coroutine so that destroying its frame hit an illegal
  // instruction (every matches read crashed once Redis was down).
  std::optional<std::string> kept = ctx.cache->store().read_kept(ns, query);
  if (kept) {
    count(counters.hits);
    co_return std::move(*kept);
  }

  // A counter whose Redis is down (a cluster's master until its replica
  // takes over) is not asked: the read would wait its time-out and leave
  // behind a command that the cluster client retries for its whole budget,
  // one per request, while the answer comes from PostgreSQL anyway.
  const bool reachable =
      std::all_of(ns.generations.begin(), ns.generations.end(),
                  [&](const std::string& key) { return ctx.cache->store().reachable(key); });
  if (!reachable) {
    count(counters.errors);
    co_return co_await load_counted(std::nullopt);
  }
  auto read = co_await read_within(ctx.cache, ns, query, kCacheReadTimeout);
  if (!read.ok()) {
    count(counters.errors);
    co_return co_await load_counted(std::nullopt);
  }
  if (read->value) {
    count(counters.hits);
    co_return std::move(*read->value);
  }
  count(counters.misses);
  // The generations are part of the flight's key: a reader that starts after
  // a write sees new generations and never joins a load begun before it. So
  // is the Redis process that answered: one that lost the write's bump (a
  // restart, a failover) shows the old generations again, and its reader
  // must not join a load begun before the write under the lost process.
  const std::string flight = ns.prefix + ":" + read->origin + ":" + read->generations + ":" + query;
  // Named, not a temporary in the co_await: g++ 12 destroys such temporaries twice.
  // Loads sharing a flight share the generations, hence the written position.
  SingleFlight::Load shared_load = [&]() { return load_counted(read->written_position); };
  auto value = co_await single_flight().run(flight, std::move(shared_load));
  if (value.ok()) ctx.cache->store().store(ns, *read, query, *value);
  co_return value;
}

asio::awaitable<Result<std::string>> user_email(Context& ctx, std::int64_t user_id) {
  if (ctx.cache) {
    if (const std::string* known = ctx.cache->email_of(user_id)) co_return *known;
  }
  auto user = co_await ctx.users->find(user_id);
  if (!user.ok()) co_return std::move(user).error();
  if (!*user) co_return user_not_found(user_id);
  if (ctx.cache) ctx.cache->remember_email(user_id, (*user)->email);
  co_return (*user)->email;
}

asio::awaitable<void> after_bets_placed(Context& ctx, std::int64_t user_id,
                                        std::string user_email) {
  if (!ctx.cache) co_return;
  std::vector<std::string> keys{kBetsGeneration, kSummaryGeneration};
  if (user_email.empty()) {
    auto email = co_await service::user_email(ctx, user_id);
    if (email.ok()) {
      user_email = std::move(*email);
    } else {
      // Only after a duplicate_bet (placements return the email): the
      // user's lists then wait for their TTL.
      spdlog::warn("lists of user {} not invalidated: {}", user_id, email.error().detail);
    }
  }
  // Not remembered here: a bettor who never reads their list would hold a
  // map entry on every shard (about 90 bytes each, 11 MB of the peak heap
  // for 80,000 bettors), and the first read remembers it anyway.
  if (!user_email.empty()) keys.push_back(user_bets_generation(user_email));
  co_await invalidate(ctx, std::move(keys));
}

asio::awaitable<void> after_match_changed(Context& ctx) {
  std::vector<std::string> keys{kMatchesGeneration};
  co_await invalidate(ctx, std::move(keys));
  // After the invalidation: a client that refetches on the event reads the change.
  if (ctx.match_changed) ctx.match_changed();
}

const std::string& matches_generation_key() {
  return kMatchesGeneration;
}

asio::awaitable<Result<std::string>> matches_generation(Context& ctx) {
  if (!ctx.cache) co_return std::string("0");
  co_return co_await ctx.cache->store().generation(kMatchesGeneration);
}

bool matches_invalidation_overdue() {
  static const std::vector<std::string> keys{kMatchesGeneration};
  return dirty().any_of(keys);
}

asio::awaitable<void> after_bettors_changed(Context& ctx, const std::vector<std::string>& emails) {
  std::vector<std::string> keys;
  keys.reserve(emails.size());
  for (const auto& email : emails) keys.push_back(user_bets_generation(email));
  if (!keys.empty()) co_await invalidate(ctx, std::move(keys));
}

asio::awaitable<void> after_settlement(Context& ctx, const std::vector<std::string>& bettors) {
  std::vector<std::string> keys{kMatchesGeneration, kBetsGeneration, kSummaryGeneration};
  keys.reserve(keys.size() + bettors.size());
  for (const auto& email : bettors) keys.push_back(user_bets_generation(email));
  co_await invalidate(ctx, std::move(keys));
  if (ctx.match_changed) ctx.match_changed();
}

}  // namespace betsdb::service

#include <boost/asio/co_spawn.hpp>

#include "service/adapters/adapters.hpp"
#include "store/pg/pool.hpp"
#include "store/redis/access_store.hpp"
#include "store/redis/cache.hpp"
#include "store/redis/cart_store.hpp"
#include "store/redis/idempotency_store.hpp"
#include "store/redis/lock.hpp"
#include "store/redis/match_stream.hpp"

namespace betsdb::service::adapters {

namespace asio = boost::asio;

namespace {

class RedisCarts final : public CartStore {
 public:
  explicit RedisCarts(std::shared_ptr<redis::Commands> redis) : redis_(std::move(redis)) {}

  Async<domain::CartContents> read(std::int64_t user_id) override {
    return redis::read_cart(*redis_, user_id);
  }
  Async<std::optional<domain::CartItem>> find_item(std::int64_t user_id,
                                                   std::int64_t item_id) override {
    return redis::find_cart_item(*redis_, user_id, item_id);
  }
  Async<std::optional<domain::CartItem>> add(std::int64_t user_id, const domain::NewCartItem& item,
                                             const KeyHolds* precondition) override {
    if (!precondition) return redis::add_cart_item_if(redis_, user_id, item, nullptr);
    return add_if(user_id, item, redis::KeyHolds{precondition->key, precondition->value});
  }
  Async<domain::CartItem> change(std::int64_t user_id, std::int64_t item_id,
                                 const domain::CartItemChange& change) override {
    return redis::change_cart_item(*redis_, user_id, item_id, change);
  }
  Async<void> remove(std::int64_t user_id, std::int64_t item_id) override {
    return redis::remove_cart_item(*redis_, user_id, item_id);
  }
  Async<void> clear(std::int64_t user_id) override { return redis::clear_cart(*redis_, user_id); }
  Async<void> close_for_pause(std::int64_t user_id, domain::Timestamp until) override {
    return redis::close_cart_for_pause(*redis_, user_id, until);
  }
  Async<std::size_t> remove_checked_out(std::int64_t user_id,
                                        std::span<const domain::CartItem> items) override {
    return redis::remove_checked_out(*redis_, user_id, items);
  }
  Async<void> touch(std::int64_t user_id) override { return redis::touch_cart(*redis_, user_id); }

 private:
  // A coroutine of its own, so the store's precondition lives until the write.
  Async<std::optional<domain::CartItem>> add_if(std::int64_t user_id, domain::NewCartItem item,
                                                redis::KeyHolds precondition) {
    co_return co_await redis::add_cart_item_if(redis_, user_id, item, &precondition);
  }

  std::shared_ptr<redis::Commands> redis_;
};

class RedisAccess final : public AccessLimits {
 public:
  explicit RedisAccess(std::shared_ptr<redis::Commands> redis) : redis_(std::move(redis)) {}

  Async<WindowCount> count(std::string key, std::chrono::milliseconds window) override {
    co_return to_window(co_await redis::count_event(*redis_, std::move(key), window));
  }
  Async<TakenAttempt> take(std::string key, std::int64_t limit,
                           std::chrono::milliseconds window) override {
    auto taken = co_await redis::take_event(*redis_, std::move(key), limit, window);
    if (!taken.ok()) co_return std::move(taken).error();
    co_return TakenAttempt{taken->taken, {taken->window.count, taken->window.remaining}};
  }
  Async<void> give_back(std::string key) override {
    return redis::give_back_event(*redis_, std::move(key));
  }
  Async<void> mark_revoked(const std::string& account, const Digest& token,
                           std::chrono::seconds ttl) override {
    return redis::mark_revoked(*redis_, account, token, ttl);
  }
  Async<RevocationCheck> revoked(const std::string& account, const Digest& token) override {
    auto check = co_await redis::is_marked_revoked(*redis_, account, token);
    if (!check.ok()) co_return std::move(check).error();
    co_return RevocationCheck{check->revoked, check->answerer_since};
  }

 private:
  static Result<WindowCount> to_window(Result<redis::WindowCount> counted) {
    if (!counted.ok()) return std::move(counted).error();
    return WindowCount{counted->count, counted->remaining};
  }

  std::shared_ptr<redis::Commands> redis_;
};

class RedisLocks final : public Locks {
 public:
  explicit RedisLocks(std::shared_ptr<redis::Commands> redis) : redis_(std::move(redis)) {}

  Async<bool> try_lock(const LockToken& lock, std::chrono::milliseconds ttl) override {
    // Copied: as for unlock.
    const redis::LockToken token{lock.key, lock.token};
    co_return co_await redis::try_lock(*redis_, token, ttl);
  }
  Async<bool> unlock(const LockToken& lock) override {
    // Copied: the caller's token may be gone before the release runs. Named,
    // not a temporary in the co_await: g++ 12 destroys such temporaries twice.
    const redis::LockToken token{lock.key, lock.token};
    co_return co_await redis::unlock(*redis_, token);
  }
  asio::any_io_executor executor() const override { return redis_->executor(); }

 private:
  std::shared_ptr<redis::Commands> redis_;
};

class RedisIdempotency final : public IdempotencyStore {
 public:
  explicit RedisIdempotency(std::shared_ptr<redis::Commands> redis) : redis_(std::move(redis)) {}

  Async<std::optional<std::string>> claim(const std::string& key, const std::string& claim,
                                          std::chrono::milliseconds ttl) override {
    return redis::claim_record(*redis_, key, claim, ttl);
  }
  Async<bool> answer(const std::string& key, const std::string& claim, const std::string& answer,
                     std::chrono::milliseconds retention) override {
    return redis::answer_record(*redis_, key, claim, answer, retention);
  }

 private:
  std::shared_ptr<redis::Commands> redis_;
};

class RedisQuotes final : public QuoteStore {
 public:
  explicit RedisQuotes(std::shared_ptr<redis::Commands> redis) : redis_(std::move(redis)) {}

  Async<void> put(const std::string& quote_id, const std::string& quote,
                  std::chrono::milliseconds ttl) override {
    const std::string key = key_of(quote_id);
    const std::string ms = std::to_string(ttl.count());
    auto reply = co_await redis_->command("SET", key, quote, "PX", ms);
    if (!reply.ok()) co_return std::move(reply).error();
    if (!reply->is_ok()) co_return Error::unavailable("Redis refused a cash-out quote");
    co_return Status{};
  }
  Async<std::optional<std::string>> get(const std::string& quote_id) override {
    const std::string key = key_of(quote_id);
    auto reply = co_await redis_->command("GET", key);
    if (!reply.ok()) co_return std::move(reply).error();
    if (reply->is_nil()) co_return std::optional<std::string>{};
    if (!reply->is_string()) co_return Error::unavailable("Redis refused a cash-out quote");
    co_return std::optional<std::string>{std::move(*reply).as_string()};
  }

 private:
  static std::string key_of(const std::string& quote_id) { return "cashout:" + quote_id; }

  std::shared_ptr<redis::Commands> redis_;
};

class RedisCache final : public CacheStore {
 public:
  RedisCache(std::shared_ptr<redis::Commands> redis, std::chrono::seconds ttl)
      : cache_(std::move(redis), ttl) {}

  std::optional<std::string> read_kept(const CacheNamespace& ns,
                                       const std::string& query) override {
    return cache_.read_kept(ns.prefix, ns.generations, redis::short_query_key(query));
  }
  Async<CacheRead> read(const CacheNamespace& ns, std::string query) override {
    redis::CacheNamespace redis_ns{ns.prefix, ns.generations};
    std::string key = redis::short_query_key(query);
    co_return co_await read_as(std::move(redis_ns), std::move(key));
  }
  void store(const CacheNamespace& ns, const CacheRead& read, const std::string& query,
             std::string json) override {
    const redis::CacheRead as_read{read.generations, std::nullopt, read.origin};
    cache_.store(redis::CacheNamespace{ns.prefix, ns.generations}, as_read,
                 redis::short_query_key(query), std::move(json));
  }
  Async<void> bump(std::vector<std::string> generation_keys,
                   std::optional<std::uint64_t> written_position) override {
    return cache_.bump(std::move(generation_keys), written_position);
  }
  Async<std::string> generation(std::string key) override {
    return cache_.generation(std::move(key));
  }
  bool connected() const override { return cache_.client()->connected(); }
  bool reachable(const std::string& key) const override { return cache_.client()->reachable(key); }

 private:
  Async<CacheRead> read_as(redis::CacheNamespace ns, std::string query) {
    auto read = co_await cache_.read(ns, std::move(query));
    if (!read.ok()) co_return std::move(read).error();
    co_return CacheRead{std::move(read->generations), std::move(read->value),
                        std::move(read->origin), read->written_position};
  }

  redis::Cache cache_;
};

class Probe final : public DependencyProbe {
 public:
  Probe(std::shared_ptr<pg::Pool> db, std::shared_ptr<redis::Commands> redis)
      : db_(std::move(db)), redis_(std::move(redis)) {}

  Async<void> database() override {
    static const pg::Statement kPing{"ping", "SELECT 1"};
    const pg::Params no_params;
    auto rows = co_await db_->execute(kPing, no_params);
    if (!rows.ok()) co_return std::move(rows).error();
    co_return Status{};
  }
  Async<void> redis() override {
    auto reply = co_await redis_->command("PING");
    if (!reply.ok()) co_return std::move(reply).error();
    if (reply->is_error()) co_return Error::unavailable("Redis: " + reply->as_string());
    co_return Status{};
  }

 private:
  std::shared_ptr<pg::Pool> db_;
  std::shared_ptr<redis::Commands> redis_;
};

}  // namespace

std::shared_ptr<AccessLimits> redis_access(std::shared_ptr<redis::Commands> redis) {
  return std::make_shared<RedisAccess>(std::move(redis));
}
std::shared_ptr<CartStore> redis_carts(std::shared_ptr<redis::Commands> redis) {
  return std::make_shared<RedisCarts>(std::move(redis));
}
std::shared_ptr<Locks> redis_locks(std::shared_ptr<redis::Commands> redis) {
  return std::make_shared<RedisLocks>(std::move(redis));
}
std::shared_ptr<IdempotencyStore> redis_idempotency(std::shared_ptr<redis::Commands> redis) {
  return std::make_shared<RedisIdempotency>(std::move(redis));
}
class RedisMatchStream final : public MatchEventStream {
 public:
  RedisMatchStream(std::shared_ptr<redis::Commands> redis, std::size_t keep)
      : redis_(std::move(redis)), keep_(keep) {}

  Async<std::size_t> append(std::span<const StreamEntry> entries) override {
    std::vector<redis::StreamAppend> appends;
    appends.reserve(entries.size());
    for (const auto& e : entries) {
      appends.push_back({e.outbox_id, e.publish_key, e.match_id, e.data});
    }
    const std::span<const redis::StreamAppend> view(appends);
    auto appended = co_await redis::append_match_events(*redis_, view, keep_);
    co_return appended;
  }
  Async<std::vector<domain::MatchEvent>> from(domain::EventId from, std::size_t count) override {
    return redis::match_events_from(*redis_, from, count);
  }
  Async<std::optional<domain::EventId>> newest() override {
    return redis::newest_match_event(*redis_);
  }

 private:
  std::shared_ptr<redis::Commands> redis_;
  std::size_t keep_;
};

std::shared_ptr<MatchEventStream> redis_match_stream(std::shared_ptr<redis::Commands> redis,
                                                     std::size_t keep) {
  return std::make_shared<RedisMatchStream>(std::move(redis), keep);
}

std::shared_ptr<QuoteStore> redis_quotes(std::shared_ptr<redis::Commands> redis) {
  return std::make_shared<RedisQuotes>(std::move(redis));
}
std::shared_ptr<CacheStore> redis_cache(std::shared_ptr<redis::Commands> redis,
                                        std::chrono::seconds ttl) {
  return std::make_shared<RedisCache>(std::move(redis), ttl);
}
std::shared_ptr<DependencyProbe> probe(std::shared_ptr<pg::Pool> db,
                                       std::shared_ptr<redis::Commands> redis) {
  return std::make_shared<Probe>(std::move(db), std::move(redis));
}

}  // namespace betsdb::service::adapters

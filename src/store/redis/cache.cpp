#include "store/redis/cache.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>

#include "util/token.hpp"

namespace betsdb::redis {

namespace asio = boost::asio;

namespace {

// Queries longer than this are replaced by their digest in keys.
constexpr std::size_t kMaxInlineQuery = 64;
// A user's lists are a namespace each: bound the generations remembered.
constexpr std::size_t kMaxRememberedNamespaces = 100'000;
// SCAN's COUNT hint: keys examined per round trip by invalidate_pattern.
constexpr std::string_view kScanBatch = "500";

const Script& read_script() {
  // KEYS: the generation counters. ARGV: prefix, query.
  static const Script script(R"lua(
local gens = {}
for i, k in ipairs(KEYS) do gens[i] = redis.call('GET', k) or '0' end
local g = table.concat(gens, '.')
return {g, redis.call('GET', ARGV[1] .. ':' .. g .. ':' .. ARGV[2])})lua");
  return script;
}

// Generations must never repeat, or an entry stored under one would be read
// as current again. Counters that go missing (Redis restarted without its
// data, a FLUSH, an eviction) would restart from 1 and repeat earlier values,
// and a slow reader that read one before the loss could then store old rows
// under what is current after it. So a counter that does not exist is created
// from the server's clock in microseconds, which is past any value handed out
// before (a counter gains one per write, far fewer than one per microsecond).
// An absent counter reads as "0", a value no counter ever takes, and nothing
// is stored under it: readers then load from the database until a write or
// the first store creates the counter.
#define BETSDB_NEW_GENERATION                                     \
  "local function new_generation() local t = redis.call('TIME') " \
  "return t[1] .. string.format('%06d', tonumber(t[2])) end\n"

const Script& bump_script() {
  // KEYS: the generation counters.
  static const Script script(BETSDB_NEW_GENERATION R"lua(
for _, k in ipairs(KEYS) do
  if redis.call('INCR', k) == 1 then redis.call('SET', k, new_generation()) end
end
return 'OK')lua");
  return script;
}

const Script& store_script() {
  // KEYS: the generation counters. ARGV: prefix, generations read before the
  // load, query, JSON, TTL in seconds. Stores only while those generations are
  // current: an entry under older ones would never be read anyway.
  static const Script script(BETSDB_NEW_GENERATION R"lua(
local gens = {}
local created = false
for i, k in ipairs(KEYS) do
  local g = redis.call('GET', k)
  if not g then
    g = new_generation()
    redis.call('SET', k, g)
    created = true
  end
  gens[i] = g
end
local g = table.concat(gens, '.')
if created or g ~= ARGV[2] then return 0 end
redis.call('SET', ARGV[1] .. ':' .. g .. ':' .. ARGV[3], ARGV[4], 'EX', ARGV[5])
return 1)lua");
  return script;
}

Status expect_no_error(const Result<Reply>& reply) {
  if (!reply.ok()) return reply.error();
  if (reply->is_error()) return Error::unavailable("Redis error: " + reply->as_string());
  return {};
}

Status expect_no_error(const Reply& reply) {
  if (reply.is_error()) return Error::unavailable("Redis error: " + reply.as_string());
  return {};
}

constexpr char kOriginSeparator = '|';

// The JSON of a stored entry if `origin` stored it; nothing otherwise (an
// entry from before a restart or failover, or not written by this cache).
std::optional<std::string> entry_from(std::string stored, const std::string& origin) {
  if (origin.empty() || stored.size() <= origin.size() ||
      stored.compare(0, origin.size(), origin) != 0 || stored[origin.size()] != kOriginSeparator) {
    return std::nullopt;
  }
  stored.erase(0, origin.size() + 1);
  return stored;
}

}  // namespace

std::chrono::seconds ttl_with_jitter(std::chrono::seconds base, std::mt19937_64& random) {
  std::uniform_int_distribution<std::int64_t> jitter(0, kMaxTtlJitter.count());
  return base + std::chrono::seconds(jitter(random));
}

std::string short_query_key(std::string_view canonical_query) {
  if (canonical_query.size() <= kMaxInlineQuery) return std::string(canonical_query);
  // Built by appending: g++ 12 warns (falsely) about `"h" + ....substr()` at -O3.
  const std::string digest = to_hex(sha256(canonical_query));
  std::string key = "h";
  key.append(digest, 0, 32);
  return key;
}

Cache::Cache(std::shared_ptr<Commands> client, std::chrono::seconds ttl)
    : client_(std::move(client)), ttl_(ttl), random_(std::random_device{}()) {}

asio::awaitable<Result<std::optional<std::string>>> Cache::get_json(std::string key) {
  auto reply = co_await client_->command("GET", key);
  if (auto s = expect_no_error(reply); !s.ok()) co_return s.error();
  if (reply->is_nil()) co_return std::optional<std::string>{};
  co_return std::optional<std::string>{std::move(*reply).as_string()};
}

asio::awaitable<Status> Cache::set_json(std::string key, std::string json,
                                        std::chrono::seconds ttl) {
  const std::string seconds = std::to_string(ttl_with_jitter(ttl, random_).count());
  auto reply = co_await client_->command("SET", key, json, "EX", seconds);
  co_return expect_no_error(reply);
}

asio::awaitable<Status> Cache::invalidate(std::vector<std::string> keys) {
  if (keys.empty()) co_return Status{};
  keys.insert(keys.begin(), "UNLINK");
  auto reply = co_await client_->command(std::move(keys));
  co_return expect_no_error(reply);
}

asio::awaitable<Result<std::int64_t>> Cache::invalidate_pattern(std::string pattern) {
  std::string cursor = "0";
  std::int64_t removed = 0;
  do {
    auto page = co_await client_->command("SCAN", cursor, "MATCH", pattern, "COUNT", kScanBatch);
    if (auto s = expect_no_error(page); !s.ok()) co_return s.error();
    const auto& parts = page->elements();
    if (parts.size() != 2) co_return Error::unavailable("unexpected SCAN reply");
    cursor = parts[0].as_string();
    std::vector<std::string> keys;
    for (const auto& k : parts[1].elements()) keys.push_back(k.as_string());
    if (!keys.empty()) {
      const auto count = static_cast<std::int64_t>(keys.size());
      if (auto s = co_await invalidate(std::move(keys)); !s.ok()) co_return s.error();
      removed += count;
    }
  } while (cursor != "0");
  co_return removed;
}

asio::awaitable<Result<CacheRead>> Cache::read(const CacheNamespace& ns, std::string query) {
  auto seen = seen_generations_.find(ns.prefix);
  if (seen == seen_generations_.end()) co_return co_await read_by_script(ns, std::move(query));

  // A copy: other reads of this shard may update the remembered generations
  // while this one waits, and the entry read is the one under these.
  const std::string guessed = seen->second;
  std::vector<std::string> command;
  command.reserve(ns.generations.size() + 2);
  command.emplace_back("MGET");
  command.insert(command.end(), ns.generations.begin(), ns.generations.end());
  command.push_back(ns.prefix + ':' + guessed + ':' + query);
  auto served = co_await client_->command_served(command);
  if (!served.ok()) co_return std::move(served).error();
  if (auto s = expect_no_error(served->reply); !s.ok()) co_return s.error();
  auto parts = std::move(served->reply).elements();
  if (parts.size() != ns.generations.size() + 1) {
    co_return Error::unavailable("unexpected MGET reply for a cache read");
  }
  std::string generations;
  for (std::size_t i = 0; i < ns.generations.size(); ++i) {
    if (i > 0) generations += '.';
    generations += parts[i].is_string() ? parts[i].as_string() : std::string("0");
  }
  if (generations != guessed) co_return co_await read_by_script(ns, std::move(query));
  CacheRead out;
  out.generations = std::move(generations);
  out.origin = std::move(served->origin);
  if (parts.back().is_string())
    out.value = entry_from(std::move(parts.back()).as_string(), out.origin);
  co_return out;
}

asio::awaitable<Result<CacheRead>> Cache::read_by_script(const CacheNamespace& ns,
                                                         std::string query) {
  std::vector<std::string> keys = ns.generations;
  std::vector<std::string> args{ns.prefix, std::move(query)};
  auto served = co_await client_->eval_served(read_script(), std::move(keys), std::move(args),
                                              Commands::ScriptMode::read_only);
  if (!served.ok()) co_return std::move(served).error();
  if (auto s = expect_no_error(served->reply); !s.ok()) co_return s.error();
  auto parts = std::move(served->reply).elements();
  if (parts.empty()) co_return Error::unavailable("unexpected cache script reply");
  CacheRead out;
  out.generations = std::move(parts[0]).as_string();
  out.origin = std::move(served->origin);
  if (parts.size() > 1 && parts[1].is_string()) {
    out.value = entry_from(std::move(parts[1]).as_string(), out.origin);
  }
  if (seen_generations_.size() >= kMaxRememberedNamespaces) seen_generations_.clear();
  seen_generations_.insert_or_assign(ns.prefix, out.generations);
  co_return out;
}

void Cache::store(const CacheNamespace& ns, const CacheRead& read, const std::string& query,
                  std::string json) {
  // A process that does not say who it is cannot vouch for its counters.
  if (read.origin.empty()) return;
  std::string entry = read.origin;
  entry += kOriginSeparator;
  entry += json;
  std::vector<std::string> args{ns.prefix, read.generations, query, std::move(entry),
                                std::to_string(ttl_with_jitter(ttl_, random_).count())};
  asio::co_spawn(
      client_->executor(),
      [client = client_, keys = ns.generations,
       args = std::move(args)]() mutable -> asio::awaitable<void> {
        // Best effort: an entry Redis did not take is a later cache miss, no more.
        (void)co_await client->eval(store_script(), std::move(keys), std::move(args));
      },
      asio::detached);
}

asio::awaitable<Status> Cache::bump(std::vector<std::string> generation_keys) {
  if (generation_keys.empty()) co_return Status{};
  std::vector<std::string> no_args;
  if (!client_->cluster()) {
    auto reply =
        co_await client_->eval(bump_script(), std::move(generation_keys), std::move(no_args));
    co_return expect_no_error(reply);
  }
  // A script may touch one slot only: one per slot, all sent at once (each
  // node pipelines its share), then waited for together.
  std::map<std::uint16_t, std::vector<std::string>> by_slot;
  for (auto& key : generation_keys) by_slot[key_slot(key)].push_back(std::move(key));
  if (by_slot.size() == 1) {
    auto reply = co_await client_->eval(bump_script(), std::move(by_slot.begin()->second),
                                        std::move(no_args));
    co_return expect_no_error(reply);
  }
  struct Join {
    explicit Join(asio::any_io_executor ex) : done(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer done;
    std::size_t pending = 0;
    Status status;
  };
  auto executor = co_await asio::this_coro::executor;
  auto join = std::make_shared<Join>(executor);
  join->pending = by_slot.size();
  for (auto& [slot, keys] : by_slot) {
    asio::co_spawn(
        executor,
        [client = client_, join, keys = std::move(keys)]() mutable -> asio::awaitable<void> {
          std::vector<std::string> none;
          auto reply = co_await client->eval(bump_script(), std::move(keys), std::move(none));
          if (auto s = expect_no_error(reply); !s.ok() && join->status.ok()) join->status = s;
          if (--join->pending == 0) join->done.cancel();
        },
        asio::detached);
  }
  co_await join->done.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return join->status;
}

}  // namespace betsdb::redis

#include "store/redis/cache.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <iterator>
#include <map>
#include <span>

#include "store/redis/invalidation_tracker.hpp"
#include "util/token.hpp"

namespace betsdb::redis {

namespace asio = boost::asio;

namespace {

// Queries longer than this are replaced by their digest in keys.
constexpr std::size_t kMaxInlineQuery = 64;
// A user's lists are a namespace each: bound the generations remembered.
constexpr std::size_t kMaxRememberedNamespaces = 100'000;
// A shard's copies of entries (local_entries.hpp): some hundreds of lists.
constexpr std::size_t kLocalCopyBytes = 4 * 1024 * 1024;
// SCAN's COUNT hint: keys examined per round trip by invalidate_pattern.
constexpr std::string_view kScanBatch = "500";

const Script& read_entry_script() {
  // KEYS: the generation counters. ARGV: prefix, query. Returns the
  // generations, the entry, then each counter's written position.
  static const Script script(R"lua(
local gens = {}
for i, k in ipairs(KEYS) do gens[i] = redis.call('GET', k) or '0' end
local g = table.concat(gens, '.')
local out = {g, redis.call('GET', ARGV[1] .. ':' .. g .. ':' .. ARGV[2])}
for _, k in ipairs(KEYS) do out[#out + 1] = redis.call('GET', 'lsn:' .. k) end
return out)lua");
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
// the first store creates the counter. One script reads the clock once: the
// counters it creates may share a value, as each only needs to pass its own
// past (a settlement's bump creates thousands).
#define BETSDB_NEW_GENERATION                                              \
  "local fresh_generation\n"                                               \
  "local function new_generation()\n"                                      \
  "  if not fresh_generation then local t = redis.call('TIME') "           \
  "fresh_generation = t[1] .. string.format('%06d', tonumber(t[2])) end\n" \
  "  return fresh_generation\n"                                            \
  "end\n"

// Leases (invalidation_tracker.hpp): "lease:<counter>" holds the Redis time
// in milliseconds until which writers of the counter wait for readers, and
// expires then. Outside the tracked prefixes, so that renewing a lease is not
// broadcast to every shard as an invalidation.
#define BETSDB_REDIS_MS                                                  \
  "local function redis_ms()\n"                                          \
  "  local t = redis.call('TIME')\n"                                     \
  "  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n" \
  "end\n"

const Script& bump_script() {
  // KEYS: the generation counters. ARGV: the writer's origin, its written
  // position as 16 hex digits, or two empty strings to forget the positions;
  // then "1" to report leases (readers may keep counters), a lease's
  // length in ms, and kLostLeasesKey (lost_leases_key() of the slot on a
  // cluster). A position is compared as two 32-bit halves: Lua's numbers
  // are doubles. Returns 1 when a reader's lease is in
  // force on some counter, or on all of them (kLostLeasesKey), 0 otherwise.
  static const Script script(BETSDB_NEW_GENERATION BETSDB_REDIS_MS R"lua(
local prefix = ARGV[1] .. '|'
local function halves(h)
  return tonumber(string.sub(h, 1, 8), 16), tonumber(string.sub(h, 9, 16), 16)
end
local hi, lo = halves(ARGV[2])
local leases = ARGV[3] == '1'
local leased = 0
local now
if leases then
  now = redis_ms()
  local all = redis.call('GET', ARGV[5])
  if not all then
    all = string.format('%.0f', now + tonumber(ARGV[4]))
    redis.call('SET', ARGV[5], all)
  end
  if tonumber(all) > now then leased = 1 end
end
for _, k in ipairs(KEYS) do
  if redis.call('INCR', k) == 1 then redis.call('SET', k, new_generation()) end
  if leased == 0 and leases then
    local l = redis.call('GET', 'lease:' .. k)
    if l and tonumber(l) > now then leased = 1 end
  end
  local pk = 'lsn:' .. k
  if ARGV[1] == '' or ARGV[2] == '' then
    redis.call('DEL', pk)
  else
    local cur = redis.call('GET', pk)
    local keep = false
    if cur and #cur == #prefix + 16 and string.sub(cur, 1, #prefix) == prefix then
      local ch, cl = halves(string.sub(cur, #prefix + 1))
      keep = ch ~= nil and cl ~= nil and (ch > hi or (ch == hi and cl >= lo))
    end
    if not keep then redis.call('SET', pk, prefix .. ARGV[2]) end
  end
end
return leased)lua");
  return script;
}

const Script& lease_script() {
  // KEYS: generation counters. ARGV: the lease's length in ms. Extends each
  // counter's lease to at least that long from now; it expires when it ends.
  static const Script script(BETSDB_REDIS_MS R"lua(
local untilms = redis_ms() + tonumber(ARGV[1])
for _, k in ipairs(KEYS) do
  local lk = 'lease:' .. k
  local cur = tonumber(redis.call('GET', lk) or '0') or 0
  if cur < untilms then
    redis.call('SET', lk, string.format('%.0f', untilms), 'PXAT', string.format('%.0f', untilms))
  end
end
return 1)lua");
  return script;
}

std::string lease_length_ms() {
  return std::to_string(InvalidationTracker::kLeaseLength.count());
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

const Script& generation_script() {
  // KEYS: one generation counter. Its value, created as a store creates it.
  static const Script script(BETSDB_NEW_GENERATION R"lua(
local g = redis.call('GET', KEYS[1])
if not g then
  g = new_generation()
  redis.call('SET', KEYS[1], g)
end
return g)lua");
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

// The key of namespace `ns`'s entry for `query` under `generations`, as the
// scripts build it too: "{prefix}:{generations}:{query}".
std::string entry_key_of(std::string_view prefix, std::string_view generations,
                         std::string_view query) {
  std::string key(prefix);
  key += ':';
  key += generations;
  key += ':';
  key += query;
  return key;
}
std::string entry_key_of(const CacheNamespace& ns, std::string_view generations,
                         std::string_view query) {
  return entry_key_of(ns.prefix, generations, query);
}

// Whether every counter of `generations` ("3" or "2.7") existed when read: a
// missing one reads as "0", which may come back (the counter lost again),
// so nothing is kept under it (see store()).
bool counters_exist(std::string_view generations) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = generations.find('.', start);
    if (generations.substr(start, dot - start) == "0") return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// The counters' values as kept by the tracker, joined like a read's
// generations, and the Redis process they were read from; nullopt unless
// every one is kept, from the same process.
struct KeptGenerations {
  std::string generations;
  std::string_view origin;
};
std::optional<KeptGenerations> kept_generations(const InvalidationTracker& tracker,
                                                const std::vector<std::string>& counters) {
  KeptGenerations kept;
  for (std::size_t i = 0; i < counters.size(); ++i) {
    const std::string* value = tracker.kept(counters[i]);
    if (value == nullptr) return std::nullopt;
    const std::string_view origin = tracker.kept_origin(counters[i]);
    if (i == 0) kept.origin = origin;
    if (origin.empty() || origin != kept.origin) return std::nullopt;
    if (i > 0) kept.generations += '.';
    kept.generations += *value;
  }
  return kept;
}

// When a read was sent: the tracker's mark, and the lease term of each
// counter then.
struct ReadSent {
  std::optional<InvalidationTracker::Mark> mark;
  std::vector<std::uint64_t> lease_terms;
};

ReadSent read_sent(const InvalidationTracker* tracker, const CacheNamespace& ns) {
  ReadSent sent;
  if (tracker == nullptr) return sent;
  sent.mark = tracker->mark();
  sent.lease_terms.reserve(ns.generations.size());
  for (const auto& key : ns.generations) sent.lease_terms.push_back(tracker->lease_term(key));
  return sent;
}

// Offers the tracker the counters' values a read sent at `sent` found.
void keep_counters(InvalidationTracker* tracker, const ReadSent& sent, const CacheNamespace& ns,
                   std::string_view generations, std::string_view origin) {
  if (tracker == nullptr || !sent.mark || !counters_exist(generations)) return;
  std::size_t start = 0;
  for (std::size_t i = 0; i < ns.generations.size(); ++i) {
    const std::size_t dot = generations.find('.', start);
    tracker->keep(ns.generations[i], std::string(generations.substr(start, dot - start)),
                  *sent.mark, origin, sent.lease_terms[i]);
    if (dot == std::string_view::npos) return;
    start = dot + 1;
  }
}

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

std::string position_hex(std::uint64_t position) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, position >>= 4)
    out[static_cast<std::size_t>(i)] = kHex[position & 0xf];
  return out;
}

// A written position record, if `origin` stamped it.
std::optional<std::uint64_t> position_from(const Reply& stored, const std::string& origin) {
  if (!stored.is_string() || origin.empty()) return std::nullopt;
  const std::string text = stored.as_string();
  if (text.size() != origin.size() + 1 + 16 || text.compare(0, origin.size(), origin) != 0 ||
      text[origin.size()] != kOriginSeparator) {
    return std::nullopt;
  }
  std::uint64_t position = 0;
  const char* first = text.data() + origin.size() + 1;
  const char* last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(first, last, position, 16);
  if (ec != std::errc() || end != last) return std::nullopt;
  return position;
}

// The namespace's written position: the highest of its counters', unknown
// if any is unknown.
std::optional<std::uint64_t> namespace_position(std::span<const Reply> records,
                                                const std::string& origin) {
  std::optional<std::uint64_t> highest;
  for (const Reply& record : records) {
    auto position = position_from(record, origin);
    if (!position) return std::nullopt;
    highest = std::max(highest.value_or(0), *position);
  }
  return highest;
}

// Asks Redis, in the background, for the leases the tracker wants on
// `counters` (invalidation_tracker.hpp, "Leases").
void lease_if_wanted(const std::shared_ptr<Commands>& client,
                     std::span<const std::string> counters) {
  InvalidationTracker* tracker = client->tracker();
  if (tracker == nullptr) return;
  auto wanted = tracker->leases_wanted(counters);
  if (wanted.empty()) return;
  asio::co_spawn(
      client->executor(),
      [client, keys = std::move(wanted)]() mutable -> asio::awaitable<void> {
        const auto sent = InvalidationTracker::Clock::now();
        std::vector<std::string> args{lease_length_ms()};
        auto copy = keys;
        auto served =
            co_await client->eval_served(lease_script(), std::move(copy), std::move(args));
        const bool granted = served.ok() && !served->reply.is_error();
        // The client owns its tracker: alive as long as `client` is.
        if (InvalidationTracker* t = client->tracker()) {
          std::string origin = granted ? served->origin : std::string();
          t->leased(keys, sent, InvalidationTracker::Clock::now(), origin, granted);
        }
      },
      asio::detached);
}

}  // namespace

std::string lost_leases_key(std::uint16_t slot) {
  std::string key(kLostLeasesKey);
  key += ":{";
  key += slot_tag(slot);
  key += '}';
  return key;
}

std::string written_position_key(const std::string& generation_key) {
  return "lsn:" + generation_key;
}

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
    : client_(std::move(client)),
      ttl_(ttl),
      random_(std::random_device{}()),
      local_(kLocalCopyBytes) {}

asio::awaitable<Result<std::optional<std::string>>> Cache::get_json(std::string key) {
  auto reply = co_await client_->command("GET", key);
  if (auto s = expect_no_error(reply); !s.ok()) co_return s.error();
  if (reply->is_nil()) co_return std::optional<std::string>{};
  co_return std::optional<std::string>{std::move(*reply).as_string()};
}

asio::awaitable<Result<std::string>> Cache::generation(std::string key) {
  std::vector<std::string> keys{std::move(key)};
  auto reply = co_await client_->eval(generation_script(), std::move(keys), {});
  if (auto s = expect_no_error(reply); !s.ok()) co_return s.error();
  if (!reply->is_string()) co_return Error::unavailable("unexpected generation reply");
  co_return std::move(*reply).as_string();
}

asio::awaitable<Result<std::optional<std::string>>> read_counter(std::shared_ptr<Commands> client,
                                                                 std::string key) {
  InvalidationTracker* tracker = client->tracker();
  if (tracker != nullptr && !tracker->tracks(key)) tracker = nullptr;
  if (tracker != nullptr) {
    tracker->catch_up();  // before any look-up: what it reads may drop kept values
    const std::string* kept = tracker->kept(key);
    const std::string_view origin = kept ? tracker->kept_origin(key) : std::string_view();
    // Under a lease in force: a counter's value is kept under one, and a
    // revocation mark's kept absence (same tracker) never is.
    if (kept && tracker->lease_term(key) != 0 && !origin.empty() && tracker->fresh_for(origin)) {
      std::optional<std::string> value = *kept;  // valid until the next suspension
      tracker->count_kept_read();
      lease_if_wanted(client, std::span<const std::string>(&key, 1));
      co_return value;
    }
  }
  const std::optional<InvalidationTracker::Mark> mark =
      tracker ? tracker->mark() : std::optional<InvalidationTracker::Mark>();
  const std::uint64_t lease_term = tracker ? tracker->lease_term(key) : 0;
  std::vector<std::string> command{"GET", key};
  auto served = co_await client->command_served(command);
  if (!served.ok()) co_return std::move(served).error();
  if (auto s = expect_no_error(served->reply); !s.ok()) co_return s.error();
  if (served->reply.is_nil()) co_return std::optional<std::string>{};
  if (!served->reply.is_string())
    co_return Error::unavailable("unexpected GET reply for a counter");
  std::optional<std::string> value = std::move(served->reply).as_string();
  if (mark) {
    // Asked before the value is kept: a counter read once costs no lease.
    lease_if_wanted(client, std::span<const std::string>(&key, 1));
    tracker->keep(key, *value, *mark, served->origin, lease_term);
  }
  co_return value;
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
  if (seen == seen_generations_.end() || ns.generations.empty()) {
    co_return co_await read_by_script(ns, std::move(query));
  }

  // A copy: other reads of this shard may update the remembered generations
  // while this one waits, and the entry read is the one under these.
  const std::string guessed = seen->second;
  const std::string entry_key = entry_key_of(ns, guessed, query);
  // With a copy of that entry from the process that answers for the slot,
  // only the generations are asked for (local_entries.hpp).
  const bool have_copy =
      local_.find(entry_key, origin_for(ns.generations.front()), Clock::now()) != nullptr;
  const std::size_t counters = ns.generations.size();
  const std::size_t entries = have_copy ? 0 : 1;
  std::vector<std::string> command;
  command.reserve(2 * counters + 2);
  command.emplace_back("MGET");
  command.insert(command.end(), ns.generations.begin(), ns.generations.end());
  if (!have_copy) command.push_back(entry_key);
  for (const auto& g : ns.generations) command.push_back(written_position_key(g));
  InvalidationTracker* tracker = client_->tracker();
  const ReadSent sent = read_sent(tracker, ns);
  auto served = co_await client_->command_served(command);
  if (!served.ok()) co_return std::move(served).error();
  if (auto s = expect_no_error(served->reply); !s.ok()) co_return s.error();
  auto parts = std::move(served->reply).elements();
  if (parts.size() != 2 * counters + entries) {
    co_return Error::unavailable("unexpected MGET reply for a cache read");
  }
  if (!served->origin.empty()) origin_for(ns.generations.front()) = served->origin;
  std::string generations;
  for (std::size_t i = 0; i < ns.generations.size(); ++i) {
    if (i > 0) generations += '.';
    generations += parts[i].is_string() ? parts[i].as_string() : std::string("0");
  }
  if (generations != guessed) co_return co_await read_by_script(ns, std::move(query));
  lease_if_wanted(client_, ns.generations);
  keep_counters(tracker, sent, ns, generations, served->origin);
  CacheRead out;
  out.generations = std::move(generations);
  out.origin = std::move(served->origin);
  out.written_position =
      namespace_position(std::span(parts).subspan(counters + entries, counters), out.origin);
  if (have_copy) {
    // Looked up again: the copies may have changed while this read waited,
    // and the copy must be from the process that just answered.
    const std::string* copy = local_.find(entry_key, out.origin, Clock::now());
    if (!copy) co_return co_await read_by_script(ns, std::move(query));
    out.value = *copy;
  } else if (parts[counters].is_string()) {
    out.value = entry_from(std::move(parts[counters]).as_string(), out.origin);
    co_await take_copy(entry_key, out);
  }
  co_return out;
}

// Checked, and answered, without a suspension: a kept counter is only
// trustworthy while the tracker is fresh (invalidation_tracker.hpp).
std::optional<std::string> Cache::read_kept(std::string_view prefix,
                                            const std::vector<std::string>& counters,
                                            std::string_view query) {
  InvalidationTracker* tracker = client_->tracker();
  if (tracker == nullptr || counters.empty()) return std::nullopt;
  tracker->catch_up();  // before any look-up: what it reads may drop kept values
  const auto kept = kept_generations(*tracker, counters);
  // Asked even when nothing is kept: on one Redis, the asking keeps the
  // PINGs going that the revocation checks' kept absences ride on.
  const bool fresh = tracker->fresh_for(kept ? kept->origin : std::string_view());
  if (!kept || !fresh) return std::nullopt;
  // The copy must be from the process the counters were read from: the
  // tracker keeps values only from processes it tracks, and forgets them
  // all when it loses one (a restart or a failover may roll counters back).
  const std::string* copy =
      local_.find(entry_key_of(prefix, kept->generations, query), kept->origin, Clock::now());
  if (copy == nullptr) return std::nullopt;
  tracker->count_kept_read();
  lease_if_wanted(client_, counters);
  return *copy;
}

// Once per entry, shard and TTL: one more round trip, for the entry's
// remaining life, so that the copy ends with it (local_entries.hpp).
asio::awaitable<void> Cache::take_copy(std::string entry_key, const CacheRead& read) {
  if (!read.value || !counters_exist(read.generations)) co_return;
  const auto asked = Clock::now();
  auto left = co_await client_->command("PTTL", entry_key);
  // Gone already, kept without a TTL (not by this cache), or no answer: no copy.
  if (!left.ok() || !left->is_integer() || left->as_integer() <= 0) co_return;
  const auto lifetime =
      std::min<Clock::duration>(std::chrono::milliseconds(left->as_integer()), ttl_);
  local_.remember(entry_key, read.origin, *read.value, asked + lifetime);
}

asio::awaitable<Result<CacheRead>> Cache::read_by_script(const CacheNamespace& ns,
                                                         std::string query) {
  std::vector<std::string> keys = ns.generations;
  std::vector<std::string> args{ns.prefix, query};
  InvalidationTracker* tracker = client_->tracker();
  const ReadSent sent = read_sent(tracker, ns);
  auto served = co_await client_->eval_served(read_entry_script(), std::move(keys), std::move(args),
                                              Commands::ScriptMode::read_only);
  if (!served.ok()) co_return std::move(served).error();
  if (auto s = expect_no_error(served->reply); !s.ok()) co_return s.error();
  auto parts = std::move(served->reply).elements();
  const std::size_t counters = ns.generations.size();
  if (parts.size() != counters + 2) co_return Error::unavailable("unexpected cache script reply");
  if (!served->origin.empty() && !ns.generations.empty()) {
    origin_for(ns.generations.front()) = served->origin;
  }
  CacheRead out;
  out.generations = std::move(parts[0]).as_string();
  out.origin = std::move(served->origin);
  lease_if_wanted(client_, ns.generations);
  keep_counters(tracker, sent, ns, out.generations, out.origin);
  out.written_position = namespace_position(std::span(parts).subspan(2, counters), out.origin);
  if (parts[1].is_string()) {
    out.value = entry_from(std::move(parts[1]).as_string(), out.origin);
    // Named, not a temporary in the co_await: g++ 12 destroys such temporaries twice.
    std::string key = entry_key_of(ns, out.generations, query);
    co_await take_copy(std::move(key), out);
  }
  if (seen_generations_.size() >= kMaxRememberedNamespaces) seen_generations_.clear();
  seen_generations_.insert_or_assign(ns.prefix, out.generations);
  co_return out;
}

void Cache::store(const CacheNamespace& ns, const CacheRead& read, const std::string& query,
                  std::string json) {
  // A process that does not say who it is cannot vouch for its counters.
  if (read.origin.empty()) return;
  // The answer is this read's whether or not Redis takes it: the copy is
  // served only while the generations it was loaded under are current.
  // It ends no later than Redis's entry, whose TTL is at least ttl_ (Redis
  // may refuse the entry: the copy is as sound without it).
  if (counters_exist(read.generations)) {
    local_.remember(entry_key_of(ns, read.generations, query), read.origin, json,
                    Clock::now() + ttl_);
  }
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

std::string& Cache::origin_for(const std::string& key) {
  if (!client_->cluster()) return origin_;
  return origins_[key_slot(key)];
}

asio::awaitable<Result<bool>> Cache::bump_slot(std::vector<std::string> keys,
                                               std::optional<std::uint64_t> written_position) {
  // The origin this cache last saw answer for the slot: if another process
  // serves it by now, readers there take the record as unknown (the safe way).
  std::string& origin = origin_for(keys.front());
  std::vector<std::string> args{"", ""};
  if (written_position && !origin.empty()) args = {origin, position_hex(*written_position)};
  args.emplace_back(client_->writers_wait() ? "1" : "0");
  args.push_back(lease_length_ms());
  args.push_back(client_->cluster() ? lost_leases_key(key_slot(keys.front()))
                                    : std::string(kLostLeasesKey));
  auto served = co_await client_->eval_served(bump_script(), std::move(keys), std::move(args));
  if (!served.ok()) co_return std::move(served).error();
  if (!served->origin.empty()) origin = served->origin;
  if (auto s = expect_no_error(served->reply); !s.ok()) co_return s.error();
  co_return served->reply.is_integer() && served->reply.as_integer() == 1;
}

namespace {

// A settlement bumps one counter per bettor: tens of thousands. One script
// with them all would keep Redis from everyone else for its whole run
// (120-400 ms for 50,000 keys); scripts of this many keys are pipelined
// instead, and others' commands run between them.
constexpr std::size_t kMaxKeysPerBump = 1000;

// The bump's scripts: a script may touch one slot only, so on a cluster one
// group per slot; then groups of at most kMaxKeysPerBump keys.
std::vector<std::vector<std::string>> bump_groups(std::vector<std::string> keys, bool cluster) {
  std::vector<std::vector<std::string>> by_slot;
  if (cluster) {
    std::map<std::uint16_t, std::vector<std::string>> slots;
    for (auto& key : keys) slots[key_slot(key)].push_back(std::move(key));
    for (auto& [slot, slot_keys] : slots) by_slot.push_back(std::move(slot_keys));
  } else {
    by_slot.push_back(std::move(keys));
  }
  std::vector<std::vector<std::string>> groups;
  for (auto& slot_keys : by_slot) {
    if (slot_keys.size() <= kMaxKeysPerBump) {
      groups.push_back(std::move(slot_keys));
      continue;
    }
    for (std::size_t i = 0; i < slot_keys.size(); i += kMaxKeysPerBump) {
      const std::size_t end = std::min(slot_keys.size(), i + kMaxKeysPerBump);
      groups.emplace_back(
          std::make_move_iterator(slot_keys.begin() + static_cast<std::ptrdiff_t>(i)),
          std::make_move_iterator(slot_keys.begin() + static_cast<std::ptrdiff_t>(end)));
    }
  }
  return groups;
}

}  // namespace

asio::awaitable<Status> Cache::bump(std::vector<std::string> generation_keys,
                                    std::optional<std::uint64_t> written_position) {
  if (generation_keys.empty()) co_return Status{};
  auto groups = bump_groups(std::move(generation_keys), client_->cluster());
  Result<bool> leased = false;
  if (groups.size() == 1) {
    leased = co_await bump_slot(std::move(groups.front()), written_position);
  } else {
    leased = co_await bump_groups_together(std::move(groups), written_position);
  }
  // Until then, a reader holding a lease may still trust the counters it kept.
  // A bump that failed may still have landed, whole or in part (a script that
  // stopped at its second counter, a reply lost with its connection), so it
  // waits too: its caller may answer its client next.
  if ((!leased.ok() || *leased) && client_->writers_wait()) {
    if (auto* tracker = client_->tracker()) tracker->count_writer_wait();
    co_await InvalidationTracker::wait_for_readers();
  }
  if (!leased.ok()) co_return std::move(leased).error();
  co_return Status{};
}

asio::awaitable<Result<bool>> Cache::bump_groups_together(
    std::vector<std::vector<std::string>> groups, std::optional<std::uint64_t> written_position) {
  // All sent at once (each connection pipelines its share), then waited for
  // together.
  struct Join {
    explicit Join(asio::any_io_executor ex) : done(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer done;
    std::size_t pending = 0;
    Status status;
    bool leased = false;
  };
  auto executor = co_await asio::this_coro::executor;
  auto join = std::make_shared<Join>(executor);
  join->pending = groups.size();
  for (auto& keys : groups) {
    // `this` outlives the spawned bumps: this coroutine waits for them all.
    asio::co_spawn(
        executor,
        [this, join, keys = std::move(keys), written_position]() mutable -> asio::awaitable<void> {
          auto leased = co_await bump_slot(std::move(keys), written_position);
          if (!leased.ok() && join->status.ok()) join->status = std::move(leased).error();
          if (leased.ok() && *leased) join->leased = true;
          if (--join->pending == 0) join->done.cancel();
        },
        asio::detached);
  }
  co_await join->done.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!join->status.ok()) co_return join->status.error();
  co_return join->leased;
}

}  // namespace betsdb::redis

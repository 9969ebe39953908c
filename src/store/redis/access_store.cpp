#include "store/redis/access_store.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "store/redis/invalidation_tracker.hpp"

namespace betsdb::redis {

namespace asio = boost::asio;

namespace {

// INCR and the expiry in one step, so a window can never be left without one
// (a counter that never expires would lock an email out for good).
const Script& count_script() {
  static const Script script(R"lua(
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl})lua");
  return script;
}

// An attempt taken while the window holds fewer than ARGV[2] events: counted
// at once, so that attempts made side by side cannot all pass a check that
// read the count before any was counted. -> {count, ttl, taken 0|1}
const Script& take_script() {
  static const Script script(R"lua(
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[2]) then return {n, redis.call('PTTL', KEYS[1]), 0} end
n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl, 1})lua");
  return script;
}

// A window left with no event is closed, so the next one opens a new window.
const Script& give_back_script() {
  static const Script script(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = redis.call('DECR', KEYS[1])
if n <= 0 then redis.call('DEL', KEYS[1]) end
return n)lua");
  return script;
}

// {count, ttl} and then `more` fields.
Result<WindowCount> window_from(const Result<Reply>& reply, std::size_t more = 0) {
  if (!reply.ok()) return reply.error();
  if (reply->is_error())
    return Error::unavailable("Redis refused a rate count: " + reply->as_string());
  const auto& parts = reply->elements();
  if (parts.size() != 2 + more) return Error::internal("unexpected reply to a rate count");
  WindowCount out;
  out.count = parts[0].as_integer();
  out.remaining = std::chrono::milliseconds{std::max<std::int64_t>(0, parts[1].as_integer())};
  return out;
}

// The account's sign-out count: "auth:revoked:{<account>}", in its marks'
// slot, under the tracked prefix. Present (created by the first check that
// finds it missing, raised by every sign-out on a cluster), so a shard on a
// cluster may keep it: see is_marked_revoked().
std::string sign_out_count_key(const std::string& account) {
  std::string key(kRevocationKeyPrefix);
  key += '{';
  key += account;
  key += '}';
  return key;
}

std::string revoked_key(const std::string& account, const Digest& token) {
  std::string key(kRevocationKeyPrefix);
  key += '{';
  key += account;
  key += "}:";
  key += to_hex(token);
  return key;
}

// What a tracker keeps for a mark that does not exist.
constexpr std::string_view kAbsent = "0";

// True when the tracker may be trusted now and knows the mark is absent.
// Checks alone do not start the tracker's PINGs: on a stream of bets with
// no cached reads, they would cost more than the EXISTS they save.
bool known_absent(InvalidationTracker& tracker, const std::string& key) {
  tracker.catch_up();
  if (!tracker.fresh_without_asking()) return false;
  const std::string* kept = tracker.kept(key);
  if (kept == nullptr || *kept != kAbsent) return false;
  tracker.count_kept_read();
  return true;
}

// What a shard on a cluster keeps for a mark found absent: kAbsent, '@', and
// the account's sign-out count read just before it.
std::string absent_under(std::string_view count) {
  std::string value(kAbsent);
  value += '@';
  value += count;
  return value;
}

// The same on a cluster, where an absence alone proves nothing (the mark may
// be set on a node nobody tracks yet: a slot's new owner, or the target of a
// slot being moved): the mark was absent after the account's sign-out count,
// from the same node, held the value still kept. A sign-out raises the count
// on the node that holds it before it sets the mark, and a slot's move
// deletes the count there: either is reported, and drops the kept count.
// Unlike known_absent(), it asks for its group's PINGs: a user's marks and
// lists sit in different slots, whose groups the hits alone may not ping.
bool known_absent_on_cluster(InvalidationTracker& tracker, const std::string& key,
                             const std::string& count_key) {
  tracker.catch_up();  // before any look-up: what it reads may drop kept values
  const std::string* kept = tracker.kept(key);
  const std::string* count = tracker.kept(count_key);
  if (kept == nullptr || count == nullptr || *kept != absent_under(*count)) return false;
  const std::string_view origin = tracker.kept_origin(key);
  if (origin != tracker.kept_origin(count_key) || !tracker.fresh_for(origin)) return false;
  tracker.count_kept_read();
  return true;
}

}  // namespace

boost::asio::awaitable<Result<WindowCount>> count_event(Commands& redis, std::string key,
                                                        std::chrono::milliseconds window) {
  std::vector<std::string> keys{std::move(key)};
  std::vector<std::string> args{std::to_string(window.count())};
  auto reply = co_await redis.eval(count_script(), std::move(keys), std::move(args));
  co_return window_from(reply);
}

boost::asio::awaitable<Result<TakenEvent>> take_event(Commands& redis, std::string key,
                                                      std::int64_t limit,
                                                      std::chrono::milliseconds window) {
  std::vector<std::string> keys{std::move(key)};
  std::vector<std::string> args{std::to_string(window.count()), std::to_string(limit)};
  auto reply = co_await redis.eval(take_script(), std::move(keys), std::move(args));
  auto counted = window_from(reply, 1);
  if (!counted.ok()) co_return std::move(counted).error();
  co_return TakenEvent{reply->elements()[2].as_integer() == 1, *counted};
}

boost::asio::awaitable<Status> give_back_event(Commands& redis, std::string key) {
  std::vector<std::string> keys{std::move(key)};
  auto reply = co_await redis.eval(give_back_script(), std::move(keys), {});
  if (!reply.ok()) co_return std::move(reply).error();
  if (reply->is_error()) co_return Error::unavailable("Redis refused to give a rate count back");
  co_return Status{};
}

boost::asio::awaitable<Status> mark_revoked(Commands& redis, const std::string& account,
                                            const Digest& token, std::chrono::seconds ttl) {
  const std::string key = revoked_key(account, token);
  const std::string seconds = std::to_string(ttl.count());
  if (redis.cluster()) {
    // First, so that a shard that kept the mark's absence under the count
    // hears of it even if the mark goes to a node it does not track (a slot
    // being moved). Two commands, not a script: a script's keys must all
    // sit on one node while their slot moves.
    const std::string count_key = sign_out_count_key(account);
    auto counted = co_await redis.command("INCR", count_key);
    if (!counted.ok()) co_return std::move(counted).error();
    if (counted->is_error()) co_return Error::unavailable("Redis refused a sign-out count");
  }
  auto reply = co_await redis.command("SET", key, "1", "EX", seconds);
  if (!reply.ok()) co_return std::move(reply).error();
  if (reply->is_error()) co_return Error::unavailable("Redis refused a revocation mark");
  // Until then, another process may still trust the mark's kept absence.
  if (redis.writers_wait()) co_await InvalidationTracker::wait_for_readers();
  co_return Status{};
}

namespace {

// A cluster with kept values: the account's sign-out count, then the mark,
// each alone (a command of two keys is refused with TRYAGAIN for as long as
// their slot moves, when they may sit on two nodes), sent together: one round
// trip, and the node runs them in the order sent on the connection they
// share. The mark's absence is kept only under the count read before it,
// from the same node, each on its first send (a redirect or a retry may run
// one after the other); a sign-out in between raised the count first, and
// its report drops the count.
boost::asio::awaitable<Result<RevocationCheck>> is_marked_revoked_on_cluster(
    Commands& redis, InvalidationTracker& tracker, std::string key, std::string count_key) {
  using namespace asio::experimental::awaitable_operators;
  if (known_absent_on_cluster(tracker, key, count_key)) {
    co_return RevocationCheck{false, tracker.live_since()};
  }
  const auto mark = tracker.mark();
  // Named, not temporaries inside the co_await: g++ 12 destroys those twice.
  std::vector<std::string> get_count{"GET", count_key};
  std::vector<std::string> exists{"EXISTS", key};
  auto read_count = redis.command_served(get_count);
  auto read_mark = redis.command_served(exists);
  auto [count, served] = co_await (std::move(read_count) && std::move(read_mark));
  if (!count.ok()) co_return std::move(count).error();
  if (count->reply.is_error()) co_return Error::unavailable("Redis refused a sign-out count");
  if (!served.ok()) co_return std::move(served).error();
  if (served->reply.is_error()) co_return Error::unavailable("Redis refused a revocation check");
  const bool revoked = served->reply.as_integer() == 1;
  if (!count->reply.is_string()) {
    // Once per account: later checks find it, and may keep it.
    (void)co_await redis.command("SET", count_key, "0", "NX");
  } else if (!revoked && mark && count->origin == served->origin && count->first_send &&
             served->first_send) {
    // Sign-outs always wait (mark_revoked): no lease needed.
    const std::string value = count->reply.as_string();
    tracker.keep(count_key, value, *mark, count->origin, InvalidationTracker::kNoLeaseNeeded);
    tracker.keep(key, absent_under(value), *mark, served->origin,
                 InvalidationTracker::kNoLeaseNeeded);
  }
  const auto since =
      served->origin.empty() ? std::chrono::steady_clock::now() : served->origin_since;
  co_return RevocationCheck{revoked, since};
}

}  // namespace

boost::asio::awaitable<Result<RevocationCheck>> is_marked_revoked(Commands& redis,
                                                                  const std::string& account,
                                                                  const Digest& token) {
  const std::string key = revoked_key(account, token);
  // A node that is down would hold the request for the cluster's retry
  // budget, and then the route's own command for another: the caller asks
  // PostgreSQL instead, at once.
  if (!redis.reachable(key)) co_return Error::unavailable("the revocation mark's Redis is down");
  InvalidationTracker* tracker = redis.tracker();
  if (tracker != nullptr && redis.cluster()) {
    // Named: g++ 12 destroys a temporary inside a co_await expression twice.
    std::string count_key = sign_out_count_key(account);
    co_return co_await is_marked_revoked_on_cluster(redis, *tracker, key, std::move(count_key));
  }
  if (tracker != nullptr && known_absent(*tracker, key)) {
    // Kept from the tracked process only, and forgotten when its connection
    // drops: that process has been reached since the tracker went live.
    co_return RevocationCheck{false, tracker->live_since()};
  }
  const auto mark = tracker ? tracker->mark() : std::nullopt;
  std::vector<std::string> exists{"EXISTS", key};
  auto served = co_await redis.command_served(exists);
  if (!served.ok()) co_return std::move(served).error();
  if (served->reply.is_error()) co_return Error::unavailable("Redis refused a revocation check");
  const bool revoked = served->reply.as_integer() == 1;
  // A mark's writer always waits (mark_revoked): no lease needed.
  if (!revoked && mark) {
    tracker->keep(key, std::string(kAbsent), *mark, served->origin,
                  InvalidationTracker::kNoLeaseNeeded);
  }
  const auto since =
      served->origin.empty() ? std::chrono::steady_clock::now() : served->origin_since;
  co_return RevocationCheck{revoked, since};
}

}  // namespace betsdb::redis

#include "store/redis/access_store.hpp"

namespace betsdb::redis {

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

const Script& peek_script() {
  static const Script script(R"lua(
local n = redis.call('GET', KEYS[1])
if not n then return {0, 0} end
return {tonumber(n), redis.call('PTTL', KEYS[1])})lua");
  return script;
}

Result<WindowCount> window_from(const Result<Reply>& reply) {
  if (!reply.ok()) return reply.error();
  if (reply->is_error())
    return Error::unavailable("Redis refused a rate count: " + reply->as_string());
  const auto& parts = reply->elements();
  if (parts.size() != 2) return Error::internal("unexpected reply to a rate count");
  WindowCount out;
  out.count = parts[0].as_integer();
  out.remaining = std::chrono::milliseconds{std::max<std::int64_t>(0, parts[1].as_integer())};
  return out;
}

std::string revoked_key(const std::string& account, const Digest& token) {
  return "auth:revoked:{" + account + "}:" + to_hex(token);
}

}  // namespace

boost::asio::awaitable<Result<WindowCount>> count_event(Commands& redis, std::string key,
                                                        std::chrono::milliseconds window) {
  std::vector<std::string> keys{std::move(key)};
  std::vector<std::string> args{std::to_string(window.count())};
  auto reply = co_await redis.eval(count_script(), std::move(keys), std::move(args));
  co_return window_from(reply);
}

boost::asio::awaitable<Result<WindowCount>> peek_events(Commands& redis, std::string key) {
  std::vector<std::string> keys{std::move(key)};
  auto reply =
      co_await redis.eval(peek_script(), std::move(keys), {}, Commands::ScriptMode::read_only);
  co_return window_from(reply);
}

boost::asio::awaitable<Status> mark_revoked(Commands& redis, const std::string& account,
                                            const Digest& token, std::chrono::seconds ttl) {
  const std::string key = revoked_key(account, token);
  const std::string seconds = std::to_string(ttl.count());
  auto reply = co_await redis.command("SET", key, "1", "EX", seconds);
  if (!reply.ok()) co_return std::move(reply).error();
  if (reply->is_error()) co_return Error::unavailable("Redis refused a revocation mark");
  co_return Status{};
}

boost::asio::awaitable<Result<bool>> is_marked_revoked(Commands& redis, const std::string& account,
                                                       const Digest& token) {
  const std::string key = revoked_key(account, token);
  // A node that is down would hold the request for the cluster's retry
  // budget, and then the route's own command for another: the caller asks
  // PostgreSQL instead, at once.
  if (!redis.reachable(key)) co_return Error::unavailable("the revocation mark's Redis is down");
  auto reply = co_await redis.command("EXISTS", key);
  if (!reply.ok()) co_return std::move(reply).error();
  if (reply->is_error()) co_return Error::unavailable("Redis refused a revocation check");
  co_return reply->as_integer() == 1;
}

}  // namespace betsdb::redis

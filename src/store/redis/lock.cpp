#include "store/redis/lock.hpp"

#include "util/token.hpp"

namespace betsdb::redis {

namespace {
const Script& compare_and_delete() {
  static const Script script(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0)lua");
  return script;
}
}  // namespace

boost::asio::awaitable<Result<bool>> try_lock(Commands& client, const LockToken& lock,
                                              std::chrono::milliseconds ttl) {
  const std::string ms = std::to_string(ttl.count());
  auto reply = co_await client.command("SET", lock.key, lock.token, "NX", "PX", ms);
  if (!reply.ok()) co_return std::move(reply).error();
  if (reply->is_error())
    co_return Error::unavailable("Redis refused the lock: " + reply->as_string());
  co_return reply->is_ok();  // nil: held by someone else
}

boost::asio::awaitable<Result<bool>> unlock(Commands& client, const LockToken& lock) {
  std::vector<std::string> keys{lock.key};
  std::vector<std::string> args{lock.token};
  auto reply = co_await client.eval(compare_and_delete(), std::move(keys), std::move(args));
  if (!reply.ok()) co_return std::move(reply).error();
  if (reply->is_error())
    co_return Error::unavailable("Redis refused the unlock: " + reply->as_string());
  co_return reply->as_integer() == 1;
}

}  // namespace betsdb::redis

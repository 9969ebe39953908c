#include "store/redis/idempotency_store.hpp"

namespace betsdb::redis {

namespace asio = boost::asio;

namespace {

// KEYS: the record. ARGV: claim, ttl in ms. -> the record held, or false.
const Script& claim_script() {
  static const Script script(R"lua(
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false)lua");
  return script;
}

// KEYS: the record. ARGV: claim, answer, retention in ms. -> 1 written, 0 not.
const Script& answer_script() {
  static const Script script(R"lua(
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1)lua");
  return script;
}

Error refused(const Reply& reply) {
  return Error::unavailable("Redis refused an idempotency record: " + reply.as_string());
}

}  // namespace

asio::awaitable<Result<std::optional<std::string>>> claim_record(Commands& client,
                                                                 const std::string& key,
                                                                 const std::string& claim,
                                                                 std::chrono::milliseconds ttl) {
  std::vector<std::string> keys{key};
  std::vector<std::string> args{claim, std::to_string(ttl.count())};
  auto reply = co_await client.eval(claim_script(), std::move(keys), std::move(args));
  if (!reply.ok()) co_return std::move(reply).error();
  if (reply->is_error()) co_return refused(*reply);
  if (reply->is_string()) co_return std::optional<std::string>{std::move(*reply).as_string()};
  co_return std::optional<std::string>{};
}

asio::awaitable<Result<bool>> answer_record(Commands& client, const std::string& key,
                                            const std::string& claim, const std::string& answer,
                                            std::chrono::milliseconds retention) {
  std::vector<std::string> keys{key};
  std::vector<std::string> args{claim, answer, std::to_string(retention.count())};
  auto reply = co_await client.eval(answer_script(), std::move(keys), std::move(args));
  if (!reply.ok()) co_return std::move(reply).error();
  if (reply->is_error()) co_return refused(*reply);
  co_return reply->as_integer() == 1;
}

}  // namespace betsdb::redis

// The Redis a shard or a command uses, by configuration: a Redis Cluster
// when BETSDB_REDIS_CLUSTER names seeds, else the one server of
// BETSDB_REDIS_URL.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include "app/config.hpp"
#include "store/redis/commands.hpp"

namespace betsdb::app {

// What the client is for: a shard serving requests keeps a tracking
// connection when configured to; tools and the stream reader never do (but
// their writes wait for those that do: redis::Config::writers_wait).
enum class RedisUse { tool, requests };

// validation_failed when the URL or the seeds are malformed. Not started.
Result<redis::CommandsPtr> make_redis(boost::asio::any_io_executor executor, const Config& config,
                                      RedisUse use = RedisUse::tool);

// For messages: "Redis at redis://..." or "the Redis Cluster of host:port,...".
std::string describe_redis(const Config& config);

}  // namespace betsdb::app

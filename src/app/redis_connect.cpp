#include "app/redis_connect.hpp"

#include "store/redis/access_store.hpp"
#include "store/redis/cache.hpp"
#include "store/redis/cluster_client.hpp"
#include "store/redis/redis_client.hpp"

namespace betsdb::app {

Result<redis::CommandsPtr> make_redis(boost::asio::any_io_executor executor, const Config& config,
                                      RedisUse use) {
  // Tools and the stream reader keep nothing, but their writes must wait
  // for the shards that do.
  const bool keeps = use == RedisUse::requests && config.redis_tracking;
  const std::vector<std::string> tracked{std::string(redis::kGenerationKeyPrefix),
                                         std::string(redis::kRevocationKeyPrefix)};
  if (!config.redis_cluster.empty()) {
    auto seeds = redis::parse_cluster_seeds(config.redis_cluster);
    if (!seeds.ok()) return std::move(seeds).error();
    // Writers wait for leases whether or not this instance keeps anything.
    seeds->writers_wait = config.redis_tracking;
    if (keeps && config.redis_cluster_tracking) seeds->tracked_prefixes = tracked;
    return redis::CommandsPtr(redis::ClusterClient::create(std::move(executor), std::move(*seeds)));
  }
  auto url = redis::parse_url(config.redis_url);
  if (!url.ok()) return std::move(url).error();
  url->writers_wait = config.redis_tracking;
  if (keeps) url->tracked_prefixes = tracked;
  return redis::CommandsPtr(redis::Client::create(std::move(executor), std::move(*url)));
}

std::string describe_redis(const Config& config) {
  if (!config.redis_cluster.empty()) {
    // Without credentials: the seeds only.
    const auto at = config.redis_cluster.rfind('@');
    return "the Redis Cluster of " +
           (at == std::string::npos ? config.redis_cluster : config.redis_cluster.substr(at + 1));
  }
  return "Redis at " + config.redis_url;
}

}  // namespace betsdb::app

// What a use case may touch: this shard's database pool and Redis client.
// One Context per shard (io_context thread); see docs/architecture.md.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>

#include "domain/timestamp.hpp"
#include "service/match_memory.hpp"
#include "store/pg/pool.hpp"
#include "store/redis/redis_client.hpp"
#include "util/result.hpp"

namespace betsdb::service {

template <class T>
using Async = boost::asio::awaitable<Result<T>>;

class ReadCache;

struct Context {
  std::shared_ptr<pg::Pool> db;
  std::shared_ptr<redis::Client> redis;
  std::shared_ptr<ReadCache> cache;  // null: no caching (reads go to PostgreSQL)
  std::shared_ptr<MatchMemory> matches = std::make_shared<MatchMemory>();

  domain::Timestamp now() const {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
  }
};

}  // namespace betsdb::service

// The production Context of one shard: every port on the shard's PostgreSQL
// pool and Redis client (service/adapters/), and the read cache on Redis.
#pragma once

#include <chrono>
#include <memory>

#include "service/context.hpp"

namespace betsdb::pg {
class Pool;
}
namespace betsdb::redis {
class Client;
}

namespace betsdb::service {

struct Wiring {
  std::shared_ptr<pg::Pool> db;
  std::shared_ptr<redis::Client> redis;
  std::chrono::seconds cache_ttl{60};
  bool cache = true;  // false: reads always go to PostgreSQL (tools)
};

Context connect_context(const Wiring& wiring);

}  // namespace betsdb::service

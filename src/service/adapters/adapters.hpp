// The ports (service/ports/) on the real stores: PostgreSQL through
// store/pg, Redis through store/redis. Each adapter only forwards; what the
// calls mean is the port's contract, how they are done the store's.
#pragma once

#include <chrono>
#include <memory>

#include "service/ports/access_limits.hpp"
#include "service/ports/account_store.hpp"
#include "service/ports/bet_store.hpp"
#include "service/ports/cache_store.hpp"
#include "service/ports/cart_store.hpp"
#include "service/ports/dependency_probe.hpp"
#include "service/ports/idempotency_store.hpp"
#include "service/ports/limits_store.hpp"
#include "service/ports/locks.hpp"
#include "service/ports/match_events.hpp"
#include "service/ports/match_store.hpp"
#include "service/ports/quote_store.hpp"
#include "service/ports/read_replica.hpp"
#include "service/ports/user_store.hpp"

namespace betsdb::pg {
class Pool;
class ReplicaMonitor;
}  // namespace betsdb::pg
namespace betsdb::store {
class PlacementBatcher;
}  // namespace betsdb::store
namespace betsdb::redis {
class Commands;
}

namespace betsdb::service::adapters {

std::shared_ptr<UserStore> pg_users(std::shared_ptr<pg::Pool> db);
std::shared_ptr<LimitsStore> pg_limits(std::shared_ptr<pg::Pool> db);
std::shared_ptr<AccountStore> pg_accounts(std::shared_ptr<pg::Pool> db);
std::shared_ptr<MatchStore> pg_matches(std::shared_ptr<pg::Pool> db);
// Placements go through `placements` (the shard's group commit); null: one of its own.
std::shared_ptr<BetStore> pg_bets(std::shared_ptr<pg::Pool> db,
                                  std::shared_ptr<store::PlacementBatcher> placements = nullptr);
std::shared_ptr<MatchOutbox> pg_outbox(std::shared_ptr<pg::Pool> db);
// The standby behind `standby`'s pool, and the primary `db` for positions.
std::shared_ptr<ReadReplica> pg_replica(std::shared_ptr<pg::Pool> db,
                                        std::shared_ptr<pg::ReplicaMonitor> standby);

std::shared_ptr<AccessLimits> redis_access(std::shared_ptr<redis::Commands> redis);
std::shared_ptr<CartStore> redis_carts(std::shared_ptr<redis::Commands> redis);
std::shared_ptr<Locks> redis_locks(std::shared_ptr<redis::Commands> redis);
std::shared_ptr<IdempotencyStore> redis_idempotency(std::shared_ptr<redis::Commands> redis);
std::shared_ptr<QuoteStore> redis_quotes(std::shared_ptr<redis::Commands> redis);
// `keep`: how many events the stream holds at least.
std::shared_ptr<MatchEventStream> redis_match_stream(std::shared_ptr<redis::Commands> redis,
                                                     std::size_t keep);
std::shared_ptr<CacheStore> redis_cache(std::shared_ptr<redis::Commands> redis,
                                        std::chrono::seconds ttl);

std::shared_ptr<DependencyProbe> probe(std::shared_ptr<pg::Pool> db,
                                       std::shared_ptr<redis::Commands> redis);

}  // namespace betsdb::service::adapters

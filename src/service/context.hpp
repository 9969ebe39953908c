// What a use case may touch: the ports to this shard's stores (PostgreSQL
// and Redis behind them in production, fakes in unit tests), the read cache,
// the shard's memory of matches, its counters and the clock.
//
// One Context per shard (io_context thread); see docs/architecture.md. Build
// the production one with service::connect_context (service/wiring.hpp).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "domain/cash_out.hpp"
#include "domain/timestamp.hpp"
#include "service/counters.hpp"
#include "service/match_memory.hpp"
#include "service/ports/access_limits.hpp"
#include "service/ports/account_store.hpp"
#include "service/ports/async.hpp"
#include "service/ports/bet_store.hpp"
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

namespace betsdb::service {

class ReadCache;
class PasswordPool;

inline domain::Timestamp system_now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

struct Context {
  std::shared_ptr<UserStore> users;
  std::shared_ptr<LimitsStore> limits;  // responsible gambling
  std::shared_ptr<AccountStore> accounts;
  std::shared_ptr<AccessLimits> access;
  // Shared by every shard of the process (its threads are the point).
  std::shared_ptr<PasswordPool> passwords;
  // Sign-ups a client address may make a minute without the admin's rights; 0: no limit.
  std::int64_t signup_rate_limit = 0;
  std::shared_ptr<MatchStore> matches;
  std::shared_ptr<BetStore> bets;
  std::shared_ptr<CartStore> carts;
  std::shared_ptr<Locks> locks;
  std::shared_ptr<IdempotencyStore> idempotency;
  std::shared_ptr<QuoteStore> quotes;  // cash-out quotes
  domain::Margin cash_out_margin;
  std::shared_ptr<DependencyProbe> probe;
  std::shared_ptr<ReadCache> cache;  // null: no caching (reads go to the stores)
  // null: no standby; cache misses read the primary (service/read_routing.hpp).
  std::shared_ptr<ReadReplica> replica;
  std::shared_ptr<MatchMemory> match_memory = std::make_shared<MatchMemory>();
  std::shared_ptr<Counters> counters = std::make_shared<Counters>();
  // The live stream (service/match_events.hpp); null: no stream (tools, unit tests).
  std::shared_ptr<MatchOutbox> outbox;
  std::shared_ptr<MatchEventStream> match_stream;
  // Called after a match change this shard made has committed (the shard's
  // publisher: service/match_event_publisher.hpp). May be empty.
  std::function<void()> match_changed;
  std::function<domain::Timestamp()> clock = system_now;

  domain::Timestamp now() const { return clock(); }
};

}  // namespace betsdb::service

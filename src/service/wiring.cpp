#include "service/wiring.hpp"

#include "service/adapters/adapters.hpp"
#include "service/read_cache.hpp"

namespace betsdb::service {

Context connect_context(const Wiring& wiring) {
  Context ctx;
  ctx.users = adapters::pg_users(wiring.db);
  ctx.limits = adapters::pg_limits(wiring.db);
  ctx.accounts = adapters::pg_accounts(wiring.db);
  ctx.access = adapters::redis_access(wiring.redis);
  ctx.passwords = wiring.passwords;
  ctx.signup_rate_limit = wiring.signup_rate_limit;
  ctx.matches = adapters::pg_matches(wiring.db);
  ctx.bets = adapters::pg_bets(wiring.db, wiring.placements);
  ctx.carts = adapters::redis_carts(wiring.redis);
  ctx.locks = adapters::redis_locks(wiring.redis);
  ctx.idempotency = adapters::redis_idempotency(wiring.redis);
  ctx.quotes = adapters::redis_quotes(wiring.redis);
  ctx.cash_out_margin = wiring.cash_out_margin;
  ctx.probe = adapters::probe(wiring.db, wiring.redis);
  ctx.outbox = adapters::pg_outbox(wiring.db);
  ctx.match_stream = adapters::redis_match_stream(wiring.redis, wiring.stream_keep);
  if (wiring.replica) ctx.replica = adapters::pg_replica(wiring.db, wiring.replica);
  if (wiring.cache) {
    ctx.cache = std::make_shared<ReadCache>(adapters::redis_cache(wiring.redis, wiring.cache_ttl),
                                            wiring.background_retries);
  }
  return ctx;
}

}  // namespace betsdb::service

// SQL for responsible gambling (db/migrations/008_responsible_gambling.sql):
// a bettor's limits and pending changes, self-exclusions and time-outs.
//
// Every write here first updates the user's row, the turn every debit of
// theirs takes (store/pg/bet_store.cpp), so a placement either commits before
// the change or sees it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <span>

#include "domain/limits.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

template <class T>
using Async = boost::asio::awaitable<Result<T>>;

// nullopt when the user does not exist.
Async<std::optional<domain::Limits>> read_limits(pg::Pool& db, std::int64_t user_id);
// Applies the changes in one transaction and reads the limits after them;
// nullopt when the user does not exist.
Async<std::optional<domain::Limits>> change_limits(
    pg::Pool& db, std::int64_t user_id, std::span<const domain::UserLimitChange> changes);

Async<domain::PauseOutcome> start_pause(pg::Pool& db, std::int64_t user_id,
                                        const domain::PauseRequest& pause);

// The end of the self-exclusion or time-out running now (the later one), if any.
Async<std::optional<domain::Timestamp>> betting_paused_until(pg::Pool& db, std::int64_t user_id);

}  // namespace betsdb::store

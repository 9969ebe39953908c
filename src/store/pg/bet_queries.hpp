// The read side of bets: filtered, sorted, paged lists and the summary.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "domain/queries.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

template <class T>
using Async = boost::asio::awaitable<Result<T>>;

Async<domain::ListPage<domain::Bet>> list_bets(pg::Pool& db, const domain::BetFilter& filter,
                                               domain::Page page);

// One aggregation over all bets (void ones included).
Async<domain::BetSummary> bet_summary(pg::Pool& db);

}  // namespace betsdb::store

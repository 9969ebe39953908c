// SQL for cashing out a bet (docs/api.md, "Cash-out"): one transaction that
// locks, in the order every other writer takes them (matches, exposure,
// user, bet), the matches of the bet's legs that were pending at the quote,
// checks the bet is still pending and that none of those legs moved
// (odds_version) or settled since, then marks the bet cashed out, credits
// the amount with a `cash_out` ledger row and, for a single, takes the bet
// out of its match's exposure. So a cash-out and a settlement of the same
// bet never both happen.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "domain/cash_out.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

boost::asio::awaitable<Result<domain::CashedOut>> cash_out(pg::Pool& db,
                                                           const domain::CashOutOrder& order);

}  // namespace betsdb::store

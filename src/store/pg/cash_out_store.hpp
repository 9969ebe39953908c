// SQL for cashing out bets (docs/api.md, "Cash-out"): one statement, and so
// one round trip and one commit, for one cash-out or for a batch of several
// bettors' (group commit: docs/architecture.md, "Placing in batches").
//
// For each order, it locks, in the order every other writer takes them
// (matches, exposure, users, bets), the matches of the legs that were
// pending at the quote, checks the bet is still pending and that none of
// those legs moved (odds_version) or settled since, then marks the bet
// cashed out, credits the amount with a `cash_out` ledger row and, for a
// single, takes the bet out of its match's exposure. So a cash-out and a
// settlement of the same bet never both happen. An order that fails does
// not stop the others.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <span>
#include <vector>

#include "domain/cash_out.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::store {

boost::asio::awaitable<Result<domain::CashedOut>> cash_out(pg::Pool& db,
                                                           const domain::CashOutOrder& order);

// One CashedOut per order, in their order. The orders must name distinct
// bettors (one credit per bettor row).
boost::asio::awaitable<Result<std::vector<domain::CashedOut>>> cash_out_batch(
    pg::Pool& db, std::span<const domain::CashOutOrder* const> orders);

}  // namespace betsdb::store

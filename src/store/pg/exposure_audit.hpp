// The book's exposure, checked over the whole database: every match's
// match_exposure row equals the sums over its pending single bets (the
// placing statement and settlement keep it in step; docs/architecture.md,
// "Trading safety"). For `betsdb check`.
//
// One statement, so it reads one consistent snapshot and may run against a
// live server. It reads every pending bet: meant for operators, not for
// request paths.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <vector>

#include "store/pg/pool.hpp"

namespace betsdb::store {

struct ExposureAudit {
  std::int64_t matches_checked = 0;
  std::vector<std::int64_t> mismatched_matches;  // by id
};

boost::asio::awaitable<Result<ExposureAudit>> audit_exposure(pg::Pool& db);

}  // namespace betsdb::store

// The running totals the responsible-gambling windows are computed from
// (db/migrations/008_responsible_gambling.sql), checked over the whole
// database: each user's stake and deposit ledger rows, in the order they were
// written, carry the running sum of their kind and non-decreasing times, and
// users.stakes_total / deposits_total equal the sums. Together these make a
// window's sum exactly what summing the ledger over it gives. For `betsdb check`.
//
// One statement, so it reads one consistent snapshot and may run against a
// live server.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <vector>

#include "store/pg/pool.hpp"

namespace betsdb::store {

struct LimitWindowAudit {
  std::int64_t users_checked = 0;
  std::vector<std::int64_t> mismatched_users;  // by id
};

boost::asio::awaitable<Result<LimitWindowAudit>> audit_limit_windows(pg::Pool& db);

}  // namespace betsdb::store

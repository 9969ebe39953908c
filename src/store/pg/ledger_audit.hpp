// The ledger invariant, checked over the whole database: every user's
// balance equals the sum of their ledger amounts (API.md, "Users"), and no
// balance is negative. For `betsdb check`.
//
// One statement, so it reads one consistent snapshot and may run against a
// live server. It reads every ledger row: a full scan, meant for operators,
// not for request paths.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "store/pg/pool.hpp"

namespace betsdb::store {

struct LedgerMismatch {
  std::int64_t user_id = 0;
  std::string email;
  std::int64_t balance = 0;
  std::string ledger_sum;  // numeric text: a corrupt ledger may sum past bigint
};

struct LedgerAudit {
  std::int64_t users_checked = 0;
  std::vector<LedgerMismatch> mismatches;  // by user id
};

boost::asio::awaitable<Result<LedgerAudit>> audit_ledger(pg::Pool& db);

}  // namespace betsdb::store

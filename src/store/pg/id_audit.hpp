// The shape the whole-database audits of `betsdb check` share: ONE statement
// (one consistent snapshot) answering rows of (how many were checked, the id
// of one that breaks the rule), at least one row, the id NULL when nothing
// does.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <vector>

#include "store/pg/pool.hpp"
#include "store/pg/statement.hpp"

namespace betsdb::store {

struct IdAudit {
  std::int64_t checked = 0;
  std::vector<std::int64_t> mismatched;  // ids, in the statement's order
};

boost::asio::awaitable<Result<IdAudit>> run_id_audit(pg::Pool& db, const pg::Statement& audit);

}  // namespace betsdb::store

#include "store/pg/errors.hpp"

#include <cstring>

namespace betsdb::pg {

namespace {

constexpr std::string_view kSqlstatePrefix = "SQLSTATE ";
constexpr std::size_t kSqlstateLength = 5;

// libpq messages end with a newline; error details read better without it.
std::string_view trimmed(const char* text) {
  std::string_view s = text ? std::string_view(text) : std::string_view();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

// States meaning "the database cannot serve this right now", not "your SQL is wrong".
bool means_unavailable(std::string_view sqlstate) {
  if (sqlstate.starts_with("08")) return sqlstate != "08P01";  // 08P01: protocol violation, a bug
  return sqlstate == "57014"                                   // query_canceled: statement_timeout
         || sqlstate == "57P01"                                // admin_shutdown
         || sqlstate == "57P02"                                // crash_shutdown
         || sqlstate == "57P03"   // cannot_connect_now (starting up / shutting down)
         || sqlstate == "53300"   // too_many_connections
         || sqlstate == "25006";  // read_only_sql_transaction: a standby after failover
}

}  // namespace

std::string_view sqlstate_of(const Error& error) noexcept {
  std::string_view detail = error.detail;
  if (!detail.starts_with(kSqlstatePrefix)) return {};
  detail.remove_prefix(kSqlstatePrefix.size());
  if (detail.size() < kSqlstateLength) return {};
  return detail.substr(0, kSqlstateLength);
}

Error error_from_result(const PGresult* result, bool connection_lost) {
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  std::string_view message = trimmed(primary ? primary : PQresultErrorMessage(result));
  if (connection_lost)
    return Error::unavailable("PostgreSQL connection lost: " + std::string(message));
  if (!state || std::strlen(state) != kSqlstateLength) {
    return Error::internal("PostgreSQL: " + std::string(message));
  }

  std::string_view sqlstate(state, kSqlstateLength);
  std::string detail;
  detail.reserve(kSqlstatePrefix.size() + kSqlstateLength + 2 + message.size());
  detail.append(kSqlstatePrefix).append(sqlstate).append(": ").append(message);

  if (sqlstate.starts_with("23")) {
    const char* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
    return Error::conflict(constraint ? constraint : "", std::move(detail));
  }
  if (means_unavailable(sqlstate)) return Error::unavailable(std::move(detail));
  return Error::internal(std::move(detail));
}

Error connection_error(const PGconn* conn, std::string_view what) {
  std::string detail(what);
  std::string_view reason = trimmed(conn ? PQerrorMessage(conn) : "out of memory");
  if (!reason.empty()) detail.append(": ").append(reason);
  return Error::unavailable(std::move(detail));
}

}  // namespace betsdb::pg

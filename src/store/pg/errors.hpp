// How PostgreSQL failures become betsdb::Error values.
//
//   server unreachable, connection lost, timed out, shutting down,
//   statement_timeout (57014), too many connections (53300)  -> Errc::service_unavailable
//   SQLSTATE class 23 (integrity: 23505 unique, 23P01 exclusion,
//   23514 check, 23503 foreign key, 23502 not null)          -> Errc::conflict, constraint set
//   anything else (syntax, 40001 serialization failure, ...) -> Errc::internal
//
// Errors that come from the server carry their SQLSTATE at the start of the detail:
// "SQLSTATE 23505: duplicate key value violates unique constraint \"users_email_key\"".
// `sqlstate_of` reads it back so callers can tell, e.g., a serialization failure
// (40001) worth retrying from a genuine bug.
#pragma once

#include <libpq-fe.h>

#include <string>
#include <string_view>

#include "util/error.hpp"

namespace betsdb::pg {

// The 5-character SQLSTATE of a server-reported error, or "" if the error did
// not come from the server (e.g. a lost connection).
std::string_view sqlstate_of(const Error& error) noexcept;

// Classifies a PGRES_FATAL_ERROR result. `connection_lost` is true when libpq
// reports the connection itself as bad; the result is then unavailable.
Error error_from_result(const PGresult* result, bool connection_lost);

// An error describing the connection's last libpq failure (PQerrorMessage).
Error connection_error(const PGconn* conn, std::string_view what);

}  // namespace betsdb::pg

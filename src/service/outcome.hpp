// Writes whose outcome is unknown (Error::outcome_unknown): the database may
// have committed them (the connection broke after the statement left, or the
// commit was not confirmed by the synchronous standby: then it is committed
// on the primary and visible there, but would be lost if that standby were
// promoted now). The writer invalidates as if it had committed, then answers
// 503 with this detail; a retry learns the outcome from the database's
// guards (docs/api.md, "Idempotency").
#pragma once

#include "util/error.hpp"

namespace betsdb::service {

Error unknown_outcome(Error cause);

}  // namespace betsdb::service

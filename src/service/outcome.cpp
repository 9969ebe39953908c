#include "service/outcome.hpp"

#include <spdlog/spdlog.h>

namespace betsdb::service {

Error unknown_outcome(Error cause) {
  spdlog::warn("write outcome unknown: {}", cause.detail);
  Error error = Error::unavailable(
      "The database did not confirm this write (it may or may not have taken effect). Retry "
      "with the same Idempotency-Key, or check before retrying: the database refuses a "
      "duplicate.");
  error.outcome_unknown = true;
  return error;
}

}  // namespace betsdb::service

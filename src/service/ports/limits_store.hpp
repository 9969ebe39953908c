// What the responsible-gambling use cases need of the stored limits and
// pauses (store/pg/limits_store.hpp).
//
// Errors: service_unavailable when the database cannot answer.
// Thread-safety: one shard's thread, like the Context that holds it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "domain/limits.hpp"
#include "service/ports/async.hpp"

namespace betsdb::service {

class LimitsStore {
 public:
  virtual ~LimitsStore() = default;

  // nullopt when the user does not exist.
  virtual Async<std::optional<domain::Limits>> read(std::int64_t user_id) = 0;
  // All or nothing; the limits after the changes, nullopt when the user does not exist.
  virtual Async<std::optional<domain::Limits>> change(
      std::int64_t user_id, std::span<const domain::UserLimitChange> changes) = 0;
  virtual Async<domain::PauseOutcome> pause(std::int64_t user_id,
                                            const domain::PauseRequest& pause) = 0;
  // The end of the pause running now, if any (the later of the two kinds).
  virtual Async<std::optional<domain::Timestamp>> paused_until(std::int64_t user_id) = 0;
};

}  // namespace betsdb::service

// Use cases for responsible gambling (API.md, "Responsible gambling"): a
// bettor's limits, self-exclusion and time-outs, and the check every route
// that adds risk makes first.
#pragma once

#include <cstdint>
#include <span>

#include "domain/limits.hpp"
#include "service/context.hpp"

namespace betsdb::service {

// self_excluded (403) while a self-exclusion or time-out runs. Routes that
// add risk (bets, accumulators, cart writes, checkout, deposits) call it
// before their other checks; the debit statements check again under the
// user's row lock, so a pause that begins meanwhile still holds.
Async<void> require_betting_allowed(Context& ctx, std::int64_t user_id);

// The refusals, for the placements and deposits that find them.
Error betting_paused(domain::Timestamp until);
Error stake_limit_exceeded();
Error deposit_limit_exceeded();

// user_not_found.
Async<domain::Limits> get_limits(Context& ctx, std::int64_t user_id);
// user_not_found. Tighter limits apply at once, looser ones 24 h later.
Async<domain::Limits> change_limits(Context& ctx, std::int64_t user_id,
                                    std::span<const domain::UserLimitChange> changes);
// user_not_found; exclusion_not_shortened when one of the kind runs longer.
// Empties the cart. The new end.
Async<domain::Timestamp> pause_betting(Context& ctx, std::int64_t user_id,
                                       const domain::PauseRequest& pause);

}  // namespace betsdb::service

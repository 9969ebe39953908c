// Cash-out (docs/api.md, "Cash-out"): a quote prices settling a pending bet
// now from the current odds (domain::cash_out_amount); it lives 10 s in the
// quote store, and accepting it settles the bet for the quoted amount unless
// a leg it priced moved or settled since.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "domain/entities.hpp"
#include "service/context.hpp"

namespace betsdb::service {

inline constexpr std::chrono::milliseconds kQuoteLifetime{10'000};

struct CashOutQuote {
  std::string quote_id;
  std::int64_t bet_id = 0;
  domain::Money amount;
  domain::Timestamp expires_at;
};

// bet_not_found, forbidden (another user's bet), cash_out_unavailable (not
// pending, a pending leg's match closed, suspended or no longer offering the
// selection, or worth nothing); service_unavailable when Redis or
// PostgreSQL cannot answer.
Async<CashOutQuote> quote_cash_out(Context& ctx, std::int64_t user_id, std::int64_t bet_id);

// bet_not_found, forbidden, quote_expired (unknown, expired, another bet's),
// already_settled (no longer pending), odds_changed (a quoted leg moved or
// settled); the bet as cashed out.
Async<domain::Bet> accept_cash_out(Context& ctx, std::int64_t user_id, std::int64_t bet_id,
                                   const std::string& quote_id);

}  // namespace betsdb::service

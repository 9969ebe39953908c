// The cached read side of bets (API.md, "Bets"): the admin's list, a user's
// own list, and the summary. Each answers the JSON that `render` makes of the
// store's answer; that JSON is what the read cache keeps (service/read_cache.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "domain/entities.hpp"
#include "domain/paging.hpp"
#include "domain/queries.hpp"
#include "service/context.hpp"
#include "service/read_cache.hpp"

namespace betsdb::service {

using BetPage = domain::ListPage<domain::Bet>;

Async<std::string> list_bets(Context& ctx, const domain::BetFilter& filter, domain::Page page,
                             Render<BetPage> render);
// user_not_found. The filter's user_id is set to `user_id`.
Async<std::string> list_user_bets(Context& ctx, std::int64_t user_id, domain::BetFilter filter,
                                  domain::Page page, Render<BetPage> render);
Async<std::string> bet_summary(Context& ctx, Render<domain::BetSummary> render);

}  // namespace betsdb::service

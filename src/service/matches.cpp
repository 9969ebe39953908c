#include "service/matches.hpp"

#include "service/read_cache.hpp"

namespace betsdb::service {

namespace {
Error match_not_found(std::int64_t id) {
  return Error::make(Errc::match_not_found, "No match with id " + std::to_string(id) + ".");
}
}  // namespace

Async<domain::Match> create_match(Context& ctx, store::NewMatch match) {
  auto created = co_await store::insert_match(*ctx.db, match);
  if (!created.ok() && created.error().is(Errc::conflict) &&
      created.error().constraint == "matches_teams_date_key") {
    co_return Error::make(Errc::duplicate_match,
                          "A match with these teams and this date exists already.");
  }
  if (created.ok()) co_await after_match_changed(ctx);
  co_return created;
}

Async<domain::Match> get_match(Context& ctx, std::int64_t match_id) {
  auto match = co_await store::find_match(*ctx.db, match_id);
  if (!match.ok()) co_return std::move(match).error();
  if (!*match) co_return match_not_found(match_id);
  co_return std::move(**match);
}

Async<domain::ListPage<domain::Match>> list_matches(Context& ctx, const store::MatchFilter& filter,
                                                    domain::Page page) {
  co_return co_await store::list_matches(*ctx.db, filter, page);
}

Async<domain::Match> change_odds(Context& ctx, std::int64_t match_id, const store::OddsChange& change) {
  auto updated = co_await store::update_open_match_odds(*ctx.db, match_id, change);
  if (!updated.ok()) {
    if (updated.error().is(Errc::conflict) && updated.error().constraint == "matches_some_odds") {
      co_return Error::validation("odds", "at least one selection must remain offered");
    }
    co_return std::move(updated).error();
  }
  if (*updated) {
    co_await after_match_changed(ctx);
    co_return std::move(**updated);
  }
  // Nothing updated: either there is no such match or it is closed.
  auto existing = co_await get_match(ctx, match_id);
  if (!existing.ok()) co_return std::move(existing).error();
  co_return Error::make(Errc::match_closed, "The match is closed for betting; its odds are final.");
}

}  // namespace betsdb::service

#include "service/matches.hpp"

#include "service/cache_keys.hpp"
#include "service/outcome.hpp"
#include "service/placing.hpp"

namespace betsdb::service {

namespace asio = boost::asio;

namespace {

Error match_closed_for_odds() {
  return Error::make(Errc::match_closed, "The match is closed for betting; its odds are final.");
}

}  // namespace

Async<domain::Match> create_match(Context& ctx, domain::NewMatch match) {
  auto created = co_await ctx.matches->insert(match);
  if (!created.ok() && created.error().is(Errc::conflict) &&
      (created.error().constraint == kDuplicateMatch ||
       created.error().constraint == kDuplicateImport)) {
    co_return Error::make(Errc::duplicate_match,
                          "A match with these teams and this date exists already.");
  }
  if (created.ok()) co_await after_match_changed(ctx);
  if (!created.ok() && created.error().outcome_unknown) {
    co_await after_match_changed(ctx);
    co_return unknown_outcome(std::move(created).error());
  }
  co_return created;
}

Async<domain::Match> get_match(Context& ctx, std::int64_t match_id) {
  auto match = co_await ctx.matches->find(match_id);
  if (!match.ok()) co_return std::move(match).error();
  if (!*match) co_return match_not_found(match_id);
  co_return std::move(**match);
}

Async<std::string> list_matches(Context& ctx, const domain::MatchFilter& filter, domain::Page page,
                                Render<MatchPage> render) {
  // Named, not temporaries in the co_await: g++ 12 destroys such temporaries twice.
  Loader load = [&ctx, filter, page, render = std::move(render)](
                    ReadSource source) -> asio::awaitable<Result<std::string>> {
    auto matches = co_await match_reader(ctx, source).list(filter, page);
    if (!matches.ok()) co_return std::move(matches).error();
    co_return render(*matches);
  };
  CacheNamespace ns = ReadCache::matches();
  std::string key = match_list_key(filter, page);
  co_return co_await cached(ctx, CacheArea::matches, std::move(ns), std::move(key),
                            std::move(load));
}

Async<domain::Match> change_match(Context& ctx, std::int64_t match_id,
                                  const domain::MatchChange& change) {
  auto current = co_await get_match(ctx, match_id);
  if (!current.ok()) co_return std::move(current).error();
  if (!domain::tradable(current->status, current->date, ctx.now())) {
    co_return match_closed_for_odds();
  }
  domain::OddsBook after = current->odds;
  for (domain::Selection s : domain::kAllSelections) {
    if (change.odds.touched[domain::index_of(s)]) after.set(s, change.odds.values.get(s));
  }
  if (auto s = domain::require_offered(after, "odds"); !s.ok()) co_return s.error();
  auto updated = co_await ctx.matches->change_unless_settled(match_id, change);
  if (!updated.ok() && updated.error().outcome_unknown) {
    co_await after_match_changed(ctx);
    co_return unknown_outcome(std::move(updated).error());
  }
  if (!updated.ok()) {
    // Only when a concurrent change withdrew the rest meanwhile.
    if (updated.error().is(Errc::conflict) && updated.error().constraint == kNoOddsLeft) {
      co_return domain::require_offered(domain::OddsBook{}, "odds").error();
    }
    co_return std::move(updated).error();
  }
  // Settled since it was read (a match is never deleted).
  if (!*updated) co_return match_closed_for_odds();
  co_await after_match_changed(ctx);
  co_return std::move(**updated);
}

namespace {

// Moves the match from `from` to `to`; a match already in `to` is answered
// as it is, without a write.
Async<domain::Match> move_status(Context& ctx, std::int64_t match_id, domain::MatchStatus from,
                                 domain::MatchStatus to,
                                 const std::optional<domain::Actor>& actor) {
  auto moved = co_await ctx.matches->move_status(match_id, from, to, actor);
  if (!moved.ok() && moved.error().outcome_unknown) {
    co_await after_match_changed(ctx);
    co_return unknown_outcome(std::move(moved).error());
  }
  if (!moved.ok()) co_return std::move(moved).error();
  if (*moved) {
    // Before answering: from the answer on, every shard and instance must
    // see the new status (cart adds trust a remembered match only while the
    // generation this bumps is unchanged).
    co_await after_match_changed(ctx);
    co_return std::move(**moved);
  }
  // Not moved: already there, moved by a concurrent call, or settled. The
  // call that moved it may not have bumped the generation yet (or its
  // answer was lost, and this is its retry): bumped here too, before the
  // read and the answer, so the status answered is the one every list and
  // cart add sees from then on.
  co_await after_match_changed(ctx);
  auto current = co_await get_match(ctx, match_id);
  if (!current.ok()) co_return std::move(current).error();
  if (current->status == domain::MatchStatus::settled) {
    co_return Error::make(Errc::already_settled, "The match is settled; its status is final.");
  }
  // Already in `to` (or moved there by a concurrent call meanwhile).
  co_return std::move(*current);
}

}  // namespace

Async<domain::Match> suspend_match(Context& ctx, std::int64_t match_id,
                                   const std::optional<domain::Actor>& actor) {
  co_return co_await move_status(ctx, match_id, domain::MatchStatus::open,
                                 domain::MatchStatus::suspended, actor);
}

Async<domain::Match> resume_match(Context& ctx, std::int64_t match_id,
                                  const std::optional<domain::Actor>& actor) {
  co_return co_await move_status(ctx, match_id, domain::MatchStatus::suspended,
                                 domain::MatchStatus::open, actor);
}

Async<MatchExposure> match_exposure(Context& ctx, std::int64_t match_id) {
  auto found = co_await ctx.matches->exposure(match_id);
  if (!found.ok()) co_return std::move(found).error();
  if (!*found) co_return match_not_found(match_id);
  co_return MatchExposure{match_id, (*found)->first, (*found)->second};
}

}  // namespace betsdb::service

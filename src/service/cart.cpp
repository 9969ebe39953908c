#include "service/cart.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <set>
#include <utility>

#include "service/bets.hpp"
#include "service/read_cache.hpp"
#include "service/service_metrics.hpp"
#include "store/pg/bet_store.hpp"
#include "store/pg/match_lookup.hpp"
#include "store/pg/match_store.hpp"
#include "store/redis/lock.hpp"

namespace betsdb::service {

namespace {

constexpr std::string_view kLiveBetConstraint = "bets_one_live_per_selection";

Error match_not_found(std::int64_t id) {
  return Error::make(Errc::match_not_found, "No match with id " + std::to_string(id) + ".");
}

Async<domain::Match> existing_match(Context& ctx, std::int64_t match_id) {
  auto found = co_await store::find_match(*ctx.db, match_id);
  if (!found.ok()) co_return std::move(found).error();
  if (!*found) co_return match_not_found(match_id);
  co_return std::move(**found);
}

// Releases the guard without waiting: only for a path that is unwinding.
void release_in_background(Context& ctx, redis::LockToken lock) {
  boost::asio::co_spawn(
      ctx.redis->executor(),
      [redis = ctx.redis, lock = std::move(lock)]() -> boost::asio::awaitable<void> {
        auto released = co_await redis::unlock(*redis, lock);
        if (!released.ok()) spdlog::warn("checkout guard {} not released; it expires", lock.key);
      },
      boost::asio::detached);
}

// Items that repeat an earlier item's match and selection. add and change
// refuse those, so this never fires unless the cart was written by hand; but
// place_bets needs distinct pairs, so it is checked rather than assumed.
std::vector<std::int64_t> repeated_items(const std::vector<redis::CartItem>& items) {
  std::set<std::pair<std::int64_t, domain::Selection>> seen;
  std::vector<std::int64_t> repeated;
  for (const auto& item : items) {
    if (!seen.insert({item.match_id, item.selection}).second) repeated.push_back(item.item_id);
  }
  return repeated;
}

// place_bets, run a second time after a unique violation: that means a
// competing bet on one of the items committed after our statement's snapshot
// was taken. It has committed by the time the violation is reported, so the
// second run's re-check sees it and names the item; all or nothing still holds
// since the first run placed nothing.
Async<store::Placement> place_all(Context& ctx, std::int64_t user_id,
                                  const std::vector<store::BetItem>& items) {
  auto placement = co_await store::place_bets(*ctx.db, user_id, items);
  if (!placement.ok() && placement.error().is(Errc::conflict) &&
      placement.error().constraint == kLiveBetConstraint) {
    placement = co_await store::place_bets(*ctx.db, user_id, items);
  }
  if (!placement.ok() && placement.error().is(Errc::conflict) &&
      placement.error().constraint == kLiveBetConstraint) {
    co_return Error::make(Errc::duplicate_bet,
                          "A bet on one of the cart's selections was placed meanwhile.");
  }
  co_return placement;
}

// Steps 2 to 4 of a checkout, run while holding the guard.
Async<CheckoutResult> checkout_guarded(Context& ctx, std::int64_t user_id) {
  auto cart = co_await redis::read_cart(*ctx.redis, user_id);
  if (!cart.ok()) co_return std::move(cart).error();
  const std::vector<redis::CartItem>& items = cart->items;
  if (items.empty()) co_return Error::make(Errc::cart_empty, "Your cart is empty.");
  if (auto repeated = repeated_items(items); !repeated.empty()) {
    Error e =
        Error::make(Errc::duplicate_bet, "The cart holds the same match and selection twice.");
    e.item_ids = std::move(repeated);
    co_return e;
  }

  std::vector<store::BetItem> bet_items;
  std::vector<std::int64_t> item_ids;
  bet_items.reserve(items.size());
  item_ids.reserve(items.size());
  CheckoutResult out;
  for (const auto& item : items) {
    bet_items.push_back(store::BetItem{item.match_id, item.selection, item.stake});
    item_ids.push_back(item.item_id);
    // At most 50 stakes of at most 10^8 each: no overflow.
    out.total_stake = domain::Money(out.total_stake.cents() + item.stake.cents());
  }

  // One statement re-validates every item and places all or nothing.
  auto placement = co_await place_all(ctx, user_id, bet_items);
  if (!placement.ok()) co_return std::move(placement).error();
  if (!placement->placed()) co_return placement_error(*placement, item_ids);

  // Committed. Only now do the items leave the cart, and only those read above.
  auto removed = co_await redis::remove_checked_out(*ctx.redis, user_id, items);
  if (!removed.ok()) {
    spdlog::warn(
        "checkout of user {} placed its bets but left the cart ({}); a retry meets "
        "duplicate_bet",
        user_id, removed.error().detail);
  }
  // Before answering, so no read that starts after the answer sees old lists.
  co_await after_bets_placed(ctx, user_id, placement->user_email);

  out.bets = std::move(placement->bets);
  out.balance = placement->balance;
  co_return out;
}

CartLine line_of(redis::CartItem item, const domain::Match& match) {
  CartLine line{std::move(item), std::nullopt};
  line.odds = match.odds.get(line.item.selection);
  return line;
}

}  // namespace

std::string checkout_lock_key(std::int64_t user_id) {
  return "cart_lock:" + std::to_string(user_id);
}

Async<CartView> view_cart(Context& ctx, std::int64_t user_id) {
  auto cart = co_await redis::read_cart(*ctx.redis, user_id);
  if (!cart.ok()) co_return std::move(cart).error();
  std::vector<std::int64_t> match_ids;
  match_ids.reserve(cart->items.size());
  for (const auto& item : cart->items) match_ids.push_back(item.match_id);
  auto matches = co_await store::find_matches(*ctx.db, match_ids);
  if (!matches.ok()) co_return std::move(matches).error();

  CartView view;
  view.lines.reserve(cart->items.size());
  for (auto& item : cart->items) {
    auto match = std::find_if(matches->begin(), matches->end(),
                              [&item](const domain::Match& m) { return m.id == item.match_id; });
    view.total_stake = domain::Money(view.total_stake.cents() + item.stake.cents());
    if (match == matches->end()) {
      view.lines.push_back(CartLine{std::move(item), std::nullopt});
    } else {
      view.lines.push_back(line_of(std::move(item), *match));
    }
  }
  // Rounded up: a cart just touched shows the full 259200 s.
  view.expires_in = std::chrono::ceil<std::chrono::seconds>(cart->expires_in);
  co_return view;
}

namespace {

// add_to_cart when the shard's memory cannot vouch for the match: read it,
// remember it, validate, add. Its own coroutine so that its locals stay out
// of the fast path's frame (small frames are recycled by Asio's per-thread
// allocator; large ones go to malloc on every call).
Async<CartLine> add_after_reading_match(Context& ctx, std::int64_t user_id,
                                        const redis::NewCartItem& item) {
  // The generation is read before the match, so the match is at least as new.
  auto generation = co_await matches_generation(ctx);
  count(service_counters().match_memory_misses);
  auto match = co_await existing_match(ctx, item.match_id);
  if (!match.ok()) co_return std::move(match).error();
  if (generation.ok() && *generation != "0") ctx.matches->remember(*match, std::move(*generation));
  if (auto ok = check_bettable(*match, item.selection, ctx.now()); !ok.ok()) {
    co_return std::move(ok).error();
  }
  auto added = co_await redis::add_cart_item(*ctx.redis, user_id, item);
  if (!added.ok()) co_return std::move(added).error();
  co_return line_of(std::move(added).value(), *match);
}

}  // namespace

Async<CartLine> add_to_cart(Context& ctx, std::int64_t user_id, AddCartItem request) {
  const redis::NewCartItem item{request.match_id, request.selection, request.stake, ctx.now()};

  // Usually the shard remembers the match under a generation the add script
  // can confirm is still current: then validation needs no query.
  if (ctx.cache && !matches_invalidation_overdue()) {
    const MatchMemory::Entry* known = ctx.matches->find(request.match_id);
    if (known && !known->generation.empty() &&
        check_bettable(known->match, request.selection, ctx.now()).ok()) {
      // Copied: the entry may be replaced while we wait.
      const std::optional<domain::Odds> odds = known->match.odds.get(request.selection);
      const redis::KeyHolds fresh{matches_generation_key(), known->generation};
      auto added = co_await redis::add_cart_item_if(*ctx.redis, user_id, item, &fresh);
      if (!added.ok()) co_return std::move(added).error();
      if (*added) {
        count(service_counters().match_memory_hits);
        co_return CartLine{std::move(**added), odds};
      }
      count(service_counters().match_memory_stale);
    }
  }
  co_return co_await add_after_reading_match(ctx, user_id, item);
}

Async<CartLine> change_cart_item(Context& ctx, std::int64_t user_id, std::int64_t item_id,
                                 redis::CartItemChange change) {
  auto current = co_await redis::find_cart_item(*ctx.redis, user_id, item_id);
  if (!current.ok()) co_return std::move(current).error();
  if (!*current) {
    co_return Error::make(Errc::item_not_found,
                          "Your cart has no item with id " + std::to_string(item_id) + ".");
  }
  // An item's match never changes, so this check stays valid even if the
  // item's stake or selection changes before the write below.
  auto match = co_await existing_match(ctx, (*current)->match_id);
  if (!match.ok()) co_return std::move(match).error();
  const domain::Selection selection = change.selection.value_or((*current)->selection);
  if (auto ok = check_bettable(*match, selection, ctx.now()); !ok.ok())
    co_return std::move(ok).error();

  auto changed = co_await redis::change_cart_item(*ctx.redis, user_id, item_id, change);
  if (!changed.ok()) co_return std::move(changed).error();
  co_return line_of(std::move(changed).value(), *match);
}

Async<void> remove_from_cart(Context& ctx, std::int64_t user_id, std::int64_t item_id) {
  co_return co_await redis::remove_cart_item(*ctx.redis, user_id, item_id);
}

Async<void> clear_cart(Context& ctx, std::int64_t user_id) {
  co_return co_await redis::clear_cart(*ctx.redis, user_id);
}

Async<CheckoutResult> checkout(Context& ctx, std::int64_t user_id) {
  // 1. The guard: two checkouts of one cart must not both place it. Without
  // Redis there is no cart to check out, hence 503 rather than going on.
  std::string lock_key = checkout_lock_key(user_id);
  auto lock = co_await redis::try_lock(*ctx.redis, std::move(lock_key), kCheckoutLockTtl);
  if (!lock.ok()) {
    count(service_counters().checkouts_failed);
    co_return std::move(lock).error();
  }
  if (!*lock) {
    count(service_counters().checkouts_in_progress);
    co_return Error::make(Errc::checkout_in_progress,
                          "Another checkout of this cart is running; retry shortly.");
  }

  Result<CheckoutResult> result = Error::internal("checkout did not run");
  try {
    result = co_await checkout_guarded(ctx, user_id);
  } catch (...) {
    release_in_background(ctx, std::move(**lock));
    throw;
  }
  // 5. Released after the cart clean-up and awaited, so the caller's next
  // checkout finds the guard free and the cart without the placed items.
  auto released = co_await redis::unlock(*ctx.redis, **lock);
  if (!released.ok()) {
    spdlog::warn("checkout guard {} not released ({}); it expires", (*lock)->key,
                 released.error().detail);
  }
  if (result.ok()) {
    count(service_counters().checkouts_success);
    count(service_counters().bets_placed, result->bets.size());
  } else {
    count(service_counters().checkouts_failed);
  }
  co_return result;
}

}  // namespace betsdb::service

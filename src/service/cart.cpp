#include "service/cart.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <chrono>
#include <set>
#include <unordered_map>
#include <utility>

#include "service/held_lock.hpp"
#include "service/outcome.hpp"
#include "service/placing.hpp"
#include "service/read_cache.hpp"
#include "service/responsible_gambling.hpp"
#include "service/retry_later.hpp"

namespace betsdb::service {

namespace {

using MatchesById = std::unordered_map<std::int64_t, domain::Match>;

// A refused operation still counts as a use of the cart (API.md: every cart
// operation slides the expiry). Best effort: the refusal is the answer.
boost::asio::awaitable<void> touch_cart(Context& ctx, std::int64_t user_id) {
  auto touched = co_await ctx.carts->touch(user_id);
  if (!touched.ok()) {
    spdlog::warn("cart of user {} not touched ({})", user_id, touched.error().detail);
  }
}

// Items that repeat an earlier item's match and selection. add and change
// refuse those, so this never fires unless the cart was written by hand; but
// placement needs distinct pairs, so it is checked rather than assumed.
std::vector<std::int64_t> repeated_items(const std::vector<domain::CartItem>& items) {
  std::set<std::pair<std::int64_t, domain::Selection>> seen;
  std::vector<std::int64_t> repeated;
  for (const auto& item : items) {
    if (!seen.insert({item.match_id, item.selection}).second) repeated.push_back(item.item_id);
  }
  return repeated;
}

// Reads `ids` and puts them in `matches` (and the shard's memory, as hints).
Async<void> read_matches(Context& ctx, std::vector<std::int64_t> ids, MatchesById& matches) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (auto id : ids) matches.erase(id);
  if (ids.empty()) co_return Status{};
  count(ctx.counters->service.match_memory_misses, ids.size());
  auto found = co_await ctx.matches->find_many(ids);
  if (!found.ok()) co_return std::move(found).error();
  for (auto& match : *found) {
    ctx.match_memory->remember(match, std::string());
    const std::int64_t id = match.id;
    matches.insert_or_assign(id, std::move(match));
  }
  co_return Status{};
}

// What a checkout asks of an item: the price it remembers, under the
// checkout's policy. An item without a remembered price (stored before
// prices were) can only be placed when any price is accepted.
ItemAsk checkout_ask(const domain::CartItem& item, domain::PriceChangePolicy policy) {
  return ItemAsk{item.selection, item.stake, domain::PriceRequest{item.odds_at_add, policy}};
}

bool price_unknown(const domain::CartItem& item, domain::PriceChangePolicy policy) {
  return !item.odds_at_add && policy != domain::PriceChangePolicy::any;
}

std::optional<Refusal> item_refusal(const domain::Match& match, const domain::CartItem& item,
                                    domain::PriceChangePolicy policy, domain::Timestamp now) {
  auto refusal = ask_refusal(match, checkout_ask(item, policy), now);
  if (refusal && *refusal < Refusal::odds_changed) return refusal;
  if (price_unknown(item, policy)) return Refusal::odds_changed;
  return refusal;
}

// The items' matches: from the shard's memory when it has one that passes
// the checks (the placement confirms its odds), read otherwise (all in one
// query), so a refusal is always decided on a fresh read.
Async<MatchesById> matches_of(Context& ctx, const std::vector<domain::CartItem>& items,
                              domain::PriceChangePolicy policy) {
  MatchesById matches;
  std::vector<std::int64_t> to_read;
  for (const auto& item : items) {
    const MatchMemory::Entry* known = ctx.match_memory->find(item.match_id);
    if (known && !item_refusal(known->match, item, policy, ctx.now())) {
      count(ctx.counters->service.match_memory_hits);
      matches.insert_or_assign(item.match_id, known->match);
    } else {
      to_read.push_back(item.match_id);
    }
  }
  auto read = co_await read_matches(ctx, std::move(to_read), matches);
  if (!read.ok()) co_return std::move(read).error();
  co_return matches;
}

// The placement itself, run a second time after a unique violation: that
// means a competing bet on one of the items committed after our statement's
// snapshot was taken. It has committed by the time the violation is
// reported, so the second run's re-check sees it and names the item; all or
// nothing still holds since the first run placed nothing.
Async<domain::Placement> place_all(Context& ctx, std::int64_t user_id,
                                   const std::vector<domain::BetItem>& items) {
  Result<domain::Placement> placement = co_await ctx.bets->place(user_id, items);
  if (!placement.ok() && placement.error().is(Errc::conflict) &&
      placement.error().constraint == kOneLiveBet) {
    placement = co_await ctx.bets->place(user_id, items);
  }
  if (!placement.ok() && placement.error().outcome_unknown) {
    // Perhaps committed: the lists must show it if it was. The items stay
    // in the cart, so a retry meets duplicate_bet if it was, and places
    // them if it was not (e.g. lost by a failover).
    std::string email_unknown;
    co_await after_bets_placed(ctx, user_id, std::move(email_unknown));
    co_return unknown_outcome(std::move(placement).error());
  }
  if (!placement.ok() && placement.error().is(Errc::conflict) &&
      placement.error().constraint == kOneLiveBet) {
    // As for every duplicate_bet: the competing bet may be this user's own.
    std::string email_unknown;
    co_await after_bets_placed(ctx, user_id, std::move(email_unknown));
    co_return Error::make(Errc::duplicate_bet,
                          "A bet on one of the cart's selections was placed meanwhile.");
  }
  co_return placement;
}

// Prices the cart's items and places them all, pricing again from fresh
// reads while the placement finds some match changed meanwhile.
// The refusal as an error, with the details of the first item it names
// (the max_stake or max_liability of its match).
Error checkout_refusal(const std::vector<std::optional<Refusal>>& refusals,
                       const std::vector<std::int64_t>& item_ids,
                       const std::vector<domain::CartItem>& items, const MatchesById& matches) {
  Error error = refusal_error(refusals, item_ids);
  if (error.is(Errc::odds_changed) || error.item_ids.empty()) return error;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].item_id != error.item_ids.front()) continue;
    if (auto match = matches.find(items[i].match_id); match != matches.end()) {
      add_refusal_details(error, match->second, items[i].selection);
    }
    break;
  }
  return error;
}

Async<domain::Placement> place_cart(Context& ctx, std::int64_t user_id,
                                    const std::vector<domain::CartItem>& items,
                                    const std::vector<std::int64_t>& item_ids,
                                    domain::PriceChangePolicy policy) {
  auto matches = co_await matches_of(ctx, items, policy);
  if (!matches.ok()) co_return std::move(matches).error();
  for (int attempt = 1;; ++attempt) {
    std::vector<std::optional<Refusal>> refusals(items.size());
    std::vector<domain::BetItem> priced;
    priced.reserve(items.size());
    bool refused = false;
    for (std::size_t i = 0; i < items.size(); ++i) {
      auto match = matches->find(items[i].match_id);
      refusals[i] = match == matches->end()
                        ? Refusal::match_not_found
                        : item_refusal(match->second, items[i], policy, ctx.now());
      refused = refused || refusals[i].has_value();
      if (refused) continue;
      auto item = priced_item(match->second, checkout_ask(items[i], policy));
      if (!item.ok()) co_return std::move(item).error();
      priced.push_back(std::move(*item));
    }
    if (refused) co_return checkout_refusal(refusals, item_ids, items, *matches);

    auto placement = co_await place_all(ctx, user_id, priced);
    if (!placement.ok() || placement->placed()) co_return placement;
    if (placement->paused_until) co_return betting_paused(*placement->paused_until);
    std::vector<std::int64_t> repriced;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (placement->problems[i] == domain::ItemProblem::repriced) {
        repriced.push_back(items[i].match_id);
      }
      refusals[i] = refusal_of(placement->problems[i]);
    }
    if (repriced.empty()) {
      const bool duplicate =
          std::find(refusals.begin(), refusals.end(), Refusal::duplicate_bet) != refusals.end();
      if (duplicate) {
        // Maybe this cart's own earlier checkout, committed with its answer
        // lost: the lists must show those bets now.
        std::string email_unknown;
        co_await after_bets_placed(ctx, user_id, std::move(email_unknown));
      } else if (placement->funds_short) {
        // Funds are checked before the stake limits and the liability.
        co_return refusal_error({}, {});
      } else if (placement->stake_limit_short &&
                 std::all_of(refusals.begin(), refusals.end(), [](const auto& r) {
                   return !r || *r == Refusal::liability_limit_exceeded;
                 })) {
        // The bettor's own limits come after the funds, before the liability.
        co_return stake_limit_exceeded();
      } else {
        // Name the limits in force, which the statement compared (perhaps
        // changed since the matches were read).
        std::vector<std::int64_t> limited;
        for (std::size_t i = 0; i < items.size(); ++i) {
          if (refusals[i] == Refusal::liability_limit_exceeded)
            limited.push_back(items[i].match_id);
        }
        if (!limited.empty()) (void)co_await read_matches(ctx, std::move(limited), *matches);
      }
      co_return checkout_refusal(refusals, item_ids, items, *matches);
    }
    count(ctx.counters->service.match_memory_stale, repriced.size());
    if (attempt == kMaxPricingAttempts) {
      co_return Error::unavailable(
          "The odds of the cart's matches kept changing during the checkout; retry.");
    }
    auto read = co_await read_matches(ctx, std::move(repriced), *matches);
    if (!read.ok()) co_return std::move(read).error();
  }
}

// Placed items that Redis did not take out of the cart when the checkout
// answered: out later, retried until Redis takes it or the cart would have
// expired anyway. Left in, each would make every later checkout of the
// cart a duplicate_bet (or place it again once its bet is cashed out). Late
// is safe: only items unchanged since the checkout read them go.
boost::asio::awaitable<void> remove_checked_out_later(std::shared_ptr<CartStore> carts,
                                                      std::int64_t user_id,
                                                      std::vector<domain::CartItem> items) {
  const bool removed = co_await retry_later(
      [&]() -> boost::asio::awaitable<bool> {
        auto done = co_await carts->remove_checked_out(user_id, items);
        co_return done.ok();
      },
      RetryPlan{.max_delay = std::chrono::seconds(5), .give_up_after = domain::kCartTtl});
  if (removed) {
    spdlog::info("checkout of user {}: its placed items left the cart after a retry", user_id);
  }
}

// Steps 2 to 4 of a checkout, run while holding the guard.
Async<CheckoutResult> checkout_guarded(Context& ctx, std::int64_t user_id,
                                       domain::PriceChangePolicy policy) {
  auto cart = co_await ctx.carts->read(user_id);
  if (!cart.ok()) co_return std::move(cart).error();
  const std::vector<domain::CartItem>& items = cart->items;
  if (items.empty()) co_return Error::make(Errc::cart_empty, "Your cart is empty.");
  if (auto repeated = repeated_items(items); !repeated.empty()) {
    Error e =
        Error::make(Errc::duplicate_bet, "The cart holds the same match and selection twice.");
    e.item_ids = std::move(repeated);
    co_return e;
  }

  std::vector<std::int64_t> item_ids;
  item_ids.reserve(items.size());
  CheckoutResult out;
  for (const auto& item : items) {
    item_ids.push_back(item.item_id);
    // At most 50 stakes of at most 10^8 each: no overflow.
    out.total_stake = domain::Money(out.total_stake.cents() + item.stake.cents());
  }

  // One statement re-validates every item and places all or nothing.
  auto placement = co_await place_cart(ctx, user_id, items, item_ids, policy);
  if (!placement.ok()) co_return std::move(placement).error();

  // Committed. Only now do the items leave the cart, and only those read
  // above. The lists' generations are bumped before answering, so no read
  // that starts after the answer sees old lists. Both go to Redis together:
  // one round trip instead of two.
  using namespace boost::asio::experimental::awaitable_operators;
  auto remove = ctx.carts->remove_checked_out(user_id, items);
  auto invalidate = after_bets_placed(ctx, user_id, placement->user_email);
  auto removed = co_await (std::move(remove) && std::move(invalidate));
  if (!removed.ok()) {
    spdlog::warn(
        "checkout of user {} placed its bets but left them in the cart ({}); removed later",
        user_id, removed.error().detail);
    auto executor = co_await boost::asio::this_coro::executor;
    boost::asio::co_spawn(executor, remove_checked_out_later(ctx.carts, user_id, items),
                          boost::asio::detached);
  }

  out.bets = std::move(placement->bets);
  out.balance = placement->balance;
  co_return out;
}

// An add or change as a bet would be asked: at whatever price is offered.
ItemAsk cart_ask(domain::Selection selection, domain::Money stake) {
  return ItemAsk{selection, stake, domain::PriceRequest{}};
}

CartLine line_of(domain::CartItem item, const domain::Match& match) {
  CartLine line{std::move(item), std::nullopt};
  line.odds = match.odds.get(line.item.selection);
  return line;
}

// A refusal of a cart operation, after sliding the cart's expiry.
Async<CartLine> refused(Context& ctx, std::int64_t user_id, Error error) {
  co_await touch_cart(ctx, user_id);
  co_return error;
}

}  // namespace

std::string checkout_lock_key(std::int64_t user_id) {
  // The cart's hash tag: on a Redis Cluster the guard lives with the cart,
  // so one failover moves both together.
  return "cart_lock:{" + std::to_string(user_id) + "}";
}

Async<CartView> view_cart(Context& ctx, std::int64_t user_id) {
  auto cart = co_await ctx.carts->read(user_id);
  if (!cart.ok()) co_return std::move(cart).error();
  std::vector<std::int64_t> match_ids;
  match_ids.reserve(cart->items.size());
  for (const auto& item : cart->items) match_ids.push_back(item.match_id);
  auto matches = co_await ctx.matches->find_many(match_ids);
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
                                        domain::NewCartItem item) {
  // The generation is read before the match, so the match is at least as new.
  auto generation = co_await matches_generation(ctx);
  auto match = co_await read_match(ctx, item.match_id);
  if (!match.ok()) co_return co_await refused(ctx, user_id, std::move(match).error());
  if (generation.ok() && *generation != "0") {
    ctx.match_memory->remember(*match, std::move(*generation));
  }
  if (auto ok = check_ask(*match, cart_ask(item.selection, item.stake), ctx.now()); !ok.ok()) {
    co_return co_await refused(ctx, user_id, std::move(ok).error());
  }
  item.odds_at_add = *match->odds.get(item.selection);  // offered: checked above
  auto added = co_await ctx.carts->add(user_id, item, nullptr);
  if (!added.ok()) co_return std::move(added).error();
  if (!*added) co_return Error::internal("cart add without a precondition wrote nothing");
  co_return line_of(std::move(**added), *match);
}

Async<CartLine> add_checked(Context& ctx, std::int64_t user_id, AddCartItem request) {
  domain::NewCartItem item{request.match_id, request.selection, request.stake, ctx.now(), {}};

  // Usually the shard remembers the match under a generation the add script
  // can confirm is still current: then validation needs no query.
  if (ctx.cache && !matches_invalidation_overdue()) {
    const MatchMemory::Entry* known = ctx.match_memory->find(request.match_id);
    if (known && !known->generation.empty() &&
        !ask_refusal(known->match, cart_ask(request.selection, request.stake), ctx.now())) {
      // Copied: the entry may be replaced while we wait.
      const std::optional<domain::Odds> odds = known->match.odds.get(request.selection);
      item.odds_at_add = *odds;  // offered: checked above
      const KeyHolds fresh{matches_generation_key(), known->generation};
      auto added = co_await ctx.carts->add(user_id, item, &fresh);
      if (!added.ok()) co_return std::move(added).error();
      if (*added) {
        count(ctx.counters->service.match_memory_hits);
        co_return CartLine{std::move(**added), odds};
      }
      count(ctx.counters->service.match_memory_stale);
    }
  }
  co_return co_await add_after_reading_match(ctx, user_id, std::move(item));
}

Async<CartLine> change_checked(Context& ctx, std::int64_t user_id, std::int64_t item_id,
                               domain::CartItemChange change) {
  auto current = co_await ctx.carts->find_item(user_id, item_id);
  if (!current.ok()) co_return std::move(current).error();
  if (!*current) {
    co_return Error::make(Errc::item_not_found,
                          "Your cart has no item with id " + std::to_string(item_id) + ".");
  }
  // An item's match never changes, so this check stays valid even if the
  // item's stake or selection changes before the write below.
  auto match = co_await read_match(ctx, (*current)->match_id);
  if (!match.ok()) co_return co_await refused(ctx, user_id, std::move(match).error());
  const domain::Selection selection = change.selection.value_or((*current)->selection);
  const domain::Money stake = change.stake.value_or((*current)->stake);
  if (auto ok = check_ask(*match, cart_ask(selection, stake), ctx.now()); !ok.ok()) {
    co_return co_await refused(ctx, user_id, std::move(ok).error());
  }
  // A new selection is a new price to remember.
  if (selection != (*current)->selection) change.odds_at_add = *match->odds.get(selection);

  auto changed = co_await ctx.carts->change(user_id, item_id, change);
  if (!changed.ok()) co_return std::move(changed).error();
  co_return line_of(std::move(changed).value(), *match);
}

}  // namespace

Async<CartLine> add_to_cart(Context& ctx, std::int64_t user_id, AddCartItem request) {
  auto line = co_await add_checked(ctx, user_id, request);
  if (!line.ok()) count_rejection(ctx, line.error());
  co_return line;
}

Async<CartLine> change_cart_item(Context& ctx, std::int64_t user_id, std::int64_t item_id,
                                 domain::CartItemChange change) {
  auto line = co_await change_checked(ctx, user_id, item_id, std::move(change));
  if (!line.ok()) count_rejection(ctx, line.error());
  co_return line;
}

Async<void> remove_from_cart(Context& ctx, std::int64_t user_id, std::int64_t item_id) {
  co_return co_await ctx.carts->remove(user_id, item_id);
}

Async<void> clear_cart(Context& ctx, std::int64_t user_id) {
  co_return co_await ctx.carts->clear(user_id);
}

Async<CheckoutResult> checkout(Context& ctx, std::int64_t user_id,
                               domain::PriceChangePolicy policy) {
  // 1. The guard: two checkouts of one cart must not both place it. Without
  // Redis there is no cart to check out, hence 503 rather than going on.
  // Named, not a temporary in the co_await: g++ 12 destroys such temporaries twice.
  std::string key = checkout_lock_key(user_id);
  auto guard = co_await try_hold(ctx.locks, std::move(key), kCheckoutLockTtl);
  if (!guard.ok()) {
    count(ctx.counters->service.checkouts_failed);
    co_return std::move(guard).error();
  }
  if (!*guard) {
    count(ctx.counters->service.checkouts_in_progress);
    co_await touch_cart(ctx, user_id);
    co_return Error::make(Errc::checkout_in_progress,
                          "Another checkout of this cart is running; retry shortly.");
  }

  auto result = co_await checkout_guarded(ctx, user_id, policy);
  // 5. Released after the cart clean-up and awaited, so the caller's next
  // checkout finds the guard free and the cart without the placed items. (On
  // an exception the guard's destructor releases it in the background.)
  (void)co_await (*guard)->release();  // a failed release is logged; the guard expires
  if (result.ok()) {
    count(ctx.counters->service.checkouts_success);
    count(ctx.counters->service.bets_placed, result->bets.size());
  } else {
    count(ctx.counters->service.checkouts_failed);
    count_rejection(ctx, result.error());
  }
  co_return result;
}

}  // namespace betsdb::service

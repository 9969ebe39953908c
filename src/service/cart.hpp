// Use cases of the betting cart (API.md, "Cart"): the cart lives in Redis
// only (ports/cart_store.hpp), so every call answers service_unavailable
// while Redis is down; checkout turns it into bets with one all-or-nothing
// placement (ports/bet_store.hpp).
//
// Every call refreshes the cart's 3-day expiry, refused ones included.
//
// Thread-safety: as Context (one shard's thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/cart.hpp"
#include "domain/entities.hpp"
#include "service/context.hpp"

namespace betsdb::service {

// The expiry of the per-cart checkout guard `cart_lock:{user_id}`. It must
// outlast the slowest normal checkout (Redis reads, a pool wait of up to 2 s,
// one statement of up to 5 s, the cart clean-up, a cache invalidation of up
// to kInvalidationBound = 5 s), so it never lapses while
// its holder still works; if a holder dies, the user's checkouts are refused
// for 30 s at most. Expiry is never a correctness problem: the database's
// duplicate guard stops a second placement of the same items.
inline constexpr std::chrono::milliseconds kCheckoutLockTtl{30'000};

// An item as the cart shows it: with its match's current odds for the item's
// selection, or nullopt when the selection has been withdrawn.
struct CartLine {
  domain::CartItem item;
  std::optional<domain::Odds> odds;
};

struct CartView {
  std::vector<CartLine> lines;  // insertion order
  domain::Money total_stake;
  std::chrono::seconds expires_in{};
};

struct AddCartItem {
  std::int64_t match_id = 0;
  domain::Selection selection = domain::Selection::home;
  domain::Money stake;  // already within the stake range
};

struct CheckoutResult {
  std::vector<domain::Bet> bets;  // in the cart's order
  domain::Money total_stake;
  domain::Money balance;  // after the debit
};

// The Redis key of the per-cart checkout guard.
std::string checkout_lock_key(std::int64_t user_id);

Async<CartView> view_cart(Context& ctx, std::int64_t user_id);

// Validated like a bet: match_not_found, invalid_selection, match_closed,
// match_suspended, stake_above_max; then duplicate_item, cart_full. The item
// remembers the price offered now (odds_at_add).
Async<CartLine> add_to_cart(Context& ctx, std::int64_t user_id, AddCartItem request);

// item_not_found; the resulting item is validated like a new one
// (invalid_selection, match_closed, match_suspended, stake_above_max), then
// duplicate_item. A new selection remembers its price now as odds_at_add.
Async<CartLine> change_cart_item(Context& ctx, std::int64_t user_id, std::int64_t item_id,
                                 domain::CartItemChange change);

// item_not_found.
Async<void> remove_from_cart(Context& ctx, std::int64_t user_id, std::int64_t item_id);

Async<void> clear_cart(Context& ctx, std::int64_t user_id);

// Places every item of the cart as a bet, or none:
//   checkout_in_progress (another checkout of this cart holds the guard),
//   cart_empty, then the item errors in the contract's order naming the
//   items (match_not_found, invalid_selection, match_closed,
//   match_suspended, odds_changed, stake_above_max, duplicate_bet),
//   insufficient_funds, liability_limit_exceeded.
// Each item is placed at the odds its match offers when the checkout reads
// it, if `policy` accepts them against the item's odds_at_add; if they
// change before the placement commits, the cart is priced again.
// On success only the checked-out items leave the cart: items added during
// the checkout stay, and so does an item edited during it (its bet is placed
// with the values read; the edited version stays for the user to see, and a
// later checkout of it meets duplicate_bet). If the clean-up fails after the
// commit, the bets stand and a retry meets duplicate_bet: never a second debit.
Async<CheckoutResult> checkout(Context& ctx, std::int64_t user_id,
                               domain::PriceChangePolicy policy);

}  // namespace betsdb::service

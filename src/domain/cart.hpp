// The betting cart (API.md, "Cart"): its items and the contract's limits.
//
// Thread-safety: plain value types.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/money.hpp"
#include "domain/odds.hpp"
#include "domain/selection.hpp"
#include "domain/timestamp.hpp"

namespace betsdb::domain {

// API.md: "Every cart operation, reads included, resets the key's TTL to
// 3 days (259200 s)."
inline constexpr std::chrono::milliseconds kCartTtl = std::chrono::hours(72);
// API.md: "At most 50 items."
inline constexpr std::size_t kMaxCartItems = 50;

struct CartItem {
  std::int64_t item_id = 0;
  std::int64_t match_id = 0;
  Selection selection = Selection::home;
  Money stake;
  Timestamp added_at;
  // The price of the selection when the item was added (or its selection
  // last changed); nullopt for items stored before prices were remembered.
  std::optional<Odds> odds_at_add;
  // The item's version as the cart store wrote it (opaque to everyone else):
  // checkout removes an item only while it is still this version, so an item
  // edited during a checkout stays in the cart.
  std::string stored;
};

struct NewCartItem {
  std::int64_t match_id = 0;
  Selection selection = Selection::home;
  Money stake;
  Timestamp added_at;
  Odds odds_at_add;
};

// A change of an item; nullopt leaves that part alone.
struct CartItemChange {
  std::optional<Selection> selection;
  std::optional<Money> stake;
  // With a new selection: its price now, remembered as the item's odds_at_add.
  std::optional<Odds> odds_at_add;
};

struct CartContents {
  std::vector<CartItem> items;  // in insertion order (ascending item id)
  // Time left until the cart expires; kCartTtl for an empty cart.
  std::chrono::milliseconds expires_in = kCartTtl;
};

}  // namespace betsdb::domain

// What the use cases need of the carts (API.md, "Cart"). Carts live only in
// Redis, so every call fails with service_unavailable while it is down.
//
// Every call refreshes the cart's expiry to domain::kCartTtl (the contract
// slides it on every cart operation), reads and refused writes included.
// Thread-safety: one shard's thread, like the Context that holds it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "domain/cart.hpp"
#include "service/ports/async.hpp"

namespace betsdb::service {

// A condition a write checks atomically with itself: `key` holds `value`.
struct KeyHolds {
  std::string key;
  std::string value;
};

class CartStore {
 public:
  virtual ~CartStore() = default;

  virtual Async<domain::CartContents> read(std::int64_t user_id) = 0;
  // nullopt when the cart has no such item.
  virtual Async<std::optional<domain::CartItem>> find_item(std::int64_t user_id,
                                                           std::int64_t item_id) = 0;
  // nullopt (nothing written, the expiry not refreshed) when `precondition`
  // is given and does not hold: checked first, since the caller validated the
  // item against what the precondition vouches for. Then duplicate_item when
  // the cart holds this match and selection already, then cart_full when it
  // holds kMaxCartItems items.
  virtual Async<std::optional<domain::CartItem>> add(std::int64_t user_id,
                                                     const domain::NewCartItem& item,
                                                     const KeyHolds* precondition) = 0;
  // item_not_found; duplicate_item when the new selection is already in the
  // cart for the item's match.
  virtual Async<domain::CartItem> change(std::int64_t user_id, std::int64_t item_id,
                                         const domain::CartItemChange& change) = 0;
  // item_not_found.
  virtual Async<void> remove(std::int64_t user_id, std::int64_t item_id) = 0;
  virtual Async<void> clear(std::int64_t user_id) = 0;
  // Empties the cart and closes it until `until` (a pause of its owner's
  // betting): add, change, remove and clear answer self_excluded meanwhile.
  virtual Async<void> close_for_pause(std::int64_t user_id, domain::Timestamp until) = 0;
  // Removes each of `items` that is still the version read (CartItem::stored);
  // returns how many were removed.
  virtual Async<std::size_t> remove_checked_out(std::int64_t user_id,
                                                std::span<const domain::CartItem> items) = 0;
  // Only the expiry refresh, for operations refused before the cart is read.
  virtual Async<void> touch(std::int64_t user_id) = 0;
};

}  // namespace betsdb::service

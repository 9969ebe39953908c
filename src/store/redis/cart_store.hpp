// The betting cart in Redis (API.md, "Cart"): a hash `cart:{<user_id>}` (the
// braces are literal: a Redis Cluster hash tag), one
// field per item (the item id in decimal), the item as compact JSON in fixed
// key order:
//   {"item_id":3,"match_id":5,"selection":"1","stake":1000,"added_at":"2026-11-20T10:30:00Z"}
// Item ids come from a counter in a separate key `cart:{<user_id>}:seq`, so the
// hash holds items only and ids are never reused while the cart lives (a
// client's stale item id can never hit a newer item).
//
// Every function is ONE Lua script: the check, the write and the refresh of
// both keys' expiry to kCartTtl happen atomically (HSET alone would leave the
// TTL alone). Every function refreshes the TTL, reads and failed writes
// included, because the contract slides the expiry on every cart operation.
//
// The writes a bettor asks for (add, change, remove, clear) are refused while
// the pause key exists: they write nothing, touch nothing, and answer the
// pause (domain::betting_paused). On one Redis the key is one of their
// script's; on a Redis Cluster it is read just before the script (why:
// keys_for_write in cart_store.cpp).
//
// Results: contract errors the script decides (duplicate_item, cart_full,
// item_not_found, the pause) are returned as such; a Redis outage, or a refusal such as
// OOM, is service_unavailable: the cart lives only in Redis.
//
// Thread-safety: as redis::Commands (one shard's thread).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "domain/cart.hpp"
#include "domain/limits.hpp"
#include "store/redis/commands.hpp"
#include "util/result.hpp"

namespace betsdb::redis {

using domain::CartContents;
using domain::CartItem;
using domain::CartItemChange;
using domain::kCartTtl;
using domain::kMaxCartItems;
using domain::NewCartItem;

// The key names, for tests and tools.
std::string cart_key(std::int64_t user_id);
std::string cart_sequence_key(std::int64_t user_id);
// Holds the end of its owner's pause (self-exclusion, time-out) while it runs:
// every cart write is then refused with self_excluded.
std::string cart_pause_key(std::int64_t user_id);

boost::asio::awaitable<Result<CartContents>> read_cart(Commands& client, std::int64_t user_id);

// nullopt when the cart has no such item.
boost::asio::awaitable<Result<std::optional<CartItem>>> find_cart_item(Commands& client,
                                                                       std::int64_t user_id,
                                                                       std::int64_t item_id);

// duplicate_item when the cart holds this match and selection already (checked
// first), cart_full when it holds kMaxCartItems items.
boost::asio::awaitable<Result<CartItem>> add_cart_item(CommandsPtr client, std::int64_t user_id,
                                                       const NewCartItem& item);

// A condition a write checks atomically with itself: `key` holds `value`.
struct KeyHolds {
  std::string key;
  std::string value;
};

// add_cart_item, done only if `precondition` (when not null) holds when the
// write runs; nullopt (and nothing written) when it does not. On a Redis
// Cluster its key is in another slot: then it is checked just before the
// write (read_counter, cache.hpp), not with it.
boost::asio::awaitable<Result<std::optional<CartItem>>> add_cart_item_if(
    CommandsPtr client, std::int64_t user_id, const NewCartItem& item,
    const KeyHolds* precondition);

// item_not_found; duplicate_item when the new selection is already in the
// cart for the item's match. An item's match never changes.
boost::asio::awaitable<Result<CartItem>> change_cart_item(Commands& client, std::int64_t user_id,
                                                          std::int64_t item_id,
                                                          const CartItemChange& change);

// item_not_found.
boost::asio::awaitable<Status> remove_cart_item(Commands& client, std::int64_t user_id,
                                                std::int64_t item_id);

// Only the expiry refresh that every cart operation does, for operations
// refused before they reach the cart (an unknown match, a closed one).
boost::asio::awaitable<Status> touch_cart(Commands& client, std::int64_t user_id);

// Removes every item (an empty cart is fine).
boost::asio::awaitable<Status> clear_cart(Commands& client, std::int64_t user_id);
// Empties the cart and closes it until `until`: writes answer self_excluded.
boost::asio::awaitable<Status> close_cart_for_pause(Commands& client, std::int64_t user_id,
                                                    domain::Timestamp until);

// After a checkout: removes each of `items` that still holds the value it had
// when read (CartItem::stored); items changed or added since stay. Returns how
// many were removed.
boost::asio::awaitable<Result<std::size_t>> remove_checked_out(Commands& client,
                                                               std::int64_t user_id,
                                                               std::span<const CartItem> items);

// The stored form of an item, parsed; internal error if it is not one.
// CartItem::stored is this form, for remove_checked_out.
Result<CartItem> parse_cart_item(std::string stored);

}  // namespace betsdb::redis

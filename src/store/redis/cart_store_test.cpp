// Integration tests of the cart scripts against the shared test Redis
// (BETSDB_TEST_REDIS_URL).
#include "store/redis/cart_store.hpp"

#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>
#include <random>
#include <set>

#include "store/redis/redis_client.hpp"
#include "store/redis/redis_test_support.hpp"

namespace betsdb::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using domain::Money;
using domain::Selection;
using testing::connected_client;
using testing::run_async;

// A TTL just refreshed by the operation under test; the margin absorbs a
// slow, shared test machine between the operation and the PTTL.
constexpr std::chrono::milliseconds kFreshTtlMargin = 10s;
// What a test lowers the TTL to, far below a fresh one, to see it reset.
constexpr std::string_view kLoweredTtlMs = "5000";

domain::Timestamp at(std::int64_t seconds) {
  return domain::Timestamp{std::chrono::seconds(seconds)};
}

NewCartItem new_item(std::int64_t match_id, Selection selection, std::int64_t stake) {
  return NewCartItem{match_id, selection, Money(stake), at(1'800'000'000), domain::Odds{}};
}

class CartStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = testing::test_redis_config();
    ASSERT_TRUE(cfg.has_value());
    cfg_ = *cfg;
    // Cart keys have a fixed shape, so tests use user ids no real user has,
    // random so that parallel runs do not collide.
    std::random_device random;
    user_id_ = 9'000'000'000'000 + static_cast<std::int64_t>(random() % 1'000'000'000);
  }

  // Deletes the test's keys and stops the client.
  asio::awaitable<void> finish(Client& client) {
    auto deleted = co_await client.command("DEL", cart_key(user_id_), cart_sequence_key(user_id_));
    EXPECT_TRUE(deleted.ok());
    client.stop();
  }

  asio::awaitable<std::int64_t> pttl(Client& client, const std::string& key) {
    auto reply = co_await client.command("PTTL", key);
    EXPECT_TRUE(reply.ok());
    co_return reply.ok() ? reply->as_integer() : -100;
  }

  // Both keys' TTL was just set to kCartTtl.
  asio::awaitable<void> expect_fresh_ttl(Client& client, std::string_view after) {
    for (const auto& key : {cart_key(user_id_), cart_sequence_key(user_id_)}) {
      const std::int64_t ms = co_await pttl(client, key);
      EXPECT_GT(ms, (kCartTtl - kFreshTtlMargin).count()) << key << " after " << after;
      EXPECT_LE(ms, kCartTtl.count()) << key << " after " << after;
    }
  }

  asio::awaitable<void> lower_ttl(Client& client) {
    for (const auto& key : {cart_key(user_id_), cart_sequence_key(user_id_)}) {
      auto reply = co_await client.command("PEXPIRE", key, kLoweredTtlMs);
      EXPECT_TRUE(reply.ok() && reply->as_integer() == 1) << key;
    }
  }

  Config cfg_;
  std::int64_t user_id_ = 0;
};

TEST_F(CartStoreTest, AddedItemsReadBackInInsertionOrderInTheStoredForm) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    auto first = co_await add_cart_item(client, user_id_, new_item(5, Selection::home, 1000));
    CO_ASSERT(first.ok(), first.error().detail);
    EXPECT_EQ(first->item_id, 1);
    EXPECT_EQ(
        first->stored,
        R"({"item_id":1,"match_id":5,"selection":"1","stake":1000,"added_at":"2027-01-15T08:00:00Z","odds_at_add":101})");
    for (int i = 0; i < 10; ++i) {
      auto more =
          co_await add_cart_item(client, user_id_, new_item(100 + i, Selection::draw, 10 + i));
      CO_ASSERT(more.ok(), more.error().detail);
    }
    auto cart = co_await read_cart(*client, user_id_);
    CO_ASSERT(cart.ok(), cart.error().detail);
    CO_ASSERT(cart->items.size() == 11u, cart->items.size());
    // Item ids 1..11: "10" and "11" sort before "2" as strings, not as ids.
    for (std::size_t i = 0; i < cart->items.size(); ++i) {
      EXPECT_EQ(cart->items[i].item_id, static_cast<std::int64_t>(i + 1));
    }
    EXPECT_EQ(cart->items[0].match_id, 5);
    EXPECT_EQ(cart->items[0].selection, Selection::home);
    EXPECT_EQ(cart->items[0].stake, Money(1000));
    EXPECT_EQ(cart->items[0].added_at, at(1'800'000'000));
    EXPECT_EQ(cart->items[0].odds_at_add, domain::Odds{});
    EXPECT_EQ(cart->items[10].match_id, 109);
    EXPECT_EQ(cart->items[10].selection, Selection::draw);
    EXPECT_EQ(cart->items[10].stake, Money(19));
    EXPECT_EQ(cart->expires_in, kCartTtl);
    co_await finish(*client);
  });
}

TEST_F(CartStoreTest, AnAddAnswersWhatAReadOfTheCartReturns) {
  // The add builds its answer from what it sent and the new id, without
  // parsing the stored value again: it must agree with a read field by field.
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    NewCartItem item = new_item(9'007'199'254'740'993, Selection::away, 123'456);
    item.added_at += std::chrono::microseconds(654'321);
    auto added = co_await add_cart_item(client, user_id_, item);
    CO_ASSERT(added.ok(), added.error().detail);
    auto cart = co_await read_cart(*client, user_id_);
    CO_ASSERT(cart.ok() && cart->items.size() == 1u, "one item expected");
    const CartItem& read = cart->items[0];
    EXPECT_EQ(added->item_id, read.item_id);
    EXPECT_EQ(added->match_id, read.match_id);
    EXPECT_EQ(added->selection, read.selection);
    EXPECT_EQ(added->stake, read.stake);
    EXPECT_EQ(added->added_at, read.added_at);
    EXPECT_EQ(added->stored, read.stored);
    co_await finish(*client);
  });
}

TEST_F(CartStoreTest, EmptyCartReadsAsEmptyWithTheFullTtl) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    auto cart = co_await read_cart(*client, user_id_);
    CO_ASSERT(cart.ok(), cart.error().detail);
    EXPECT_TRUE(cart->items.empty());
    EXPECT_EQ(cart->expires_in, kCartTtl);
    auto missing = co_await find_cart_item(*client, user_id_, 1);
    CO_ASSERT(missing.ok(), missing.error().detail);
    EXPECT_FALSE(missing->has_value());
    co_await finish(*client);
  });
}

TEST_F(CartStoreTest, EveryOperationResetsTheTtlOfBothKeys) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    auto added = co_await add_cart_item(client, user_id_, new_item(7, Selection::home, 100));
    CO_ASSERT(added.ok(), added.error().detail);
    co_await expect_fresh_ttl(*client, "add");
    auto second = co_await add_cart_item(client, user_id_, new_item(8, Selection::away, 100));
    CO_ASSERT(second.ok(), second.error().detail);

    co_await lower_ttl(*client);
    auto cart = co_await read_cart(*client, user_id_);
    CO_ASSERT(cart.ok(), cart.error().detail);
    co_await expect_fresh_ttl(*client, "read");

    co_await lower_ttl(*client);
    auto found = co_await find_cart_item(*client, user_id_, added->item_id);
    CO_ASSERT(found.ok() && found->has_value(), "find failed");
    co_await expect_fresh_ttl(*client, "find");

    co_await lower_ttl(*client);
    CartItemChange change;
    change.stake = Money(300);
    auto changed = co_await change_cart_item(*client, user_id_, added->item_id, change);
    CO_ASSERT(changed.ok(), changed.error().detail);
    co_await expect_fresh_ttl(*client, "change");

    co_await lower_ttl(*client);
    auto duplicate = co_await add_cart_item(client, user_id_, new_item(7, Selection::home, 100));
    CO_ASSERT(!duplicate.ok(), "a duplicate was added");
    co_await expect_fresh_ttl(*client, "a refused add");

    co_await lower_ttl(*client);
    auto removed = co_await remove_cart_item(*client, user_id_, second->item_id);
    CO_ASSERT(removed.ok(), removed.error().detail);
    co_await expect_fresh_ttl(*client, "remove");

    co_await lower_ttl(*client);
    auto checked_out = co_await remove_checked_out(*client, user_id_, std::span(&*changed, 1));
    CO_ASSERT(checked_out.ok(), checked_out.error().detail);
    EXPECT_EQ(*checked_out, 1u);
    // The hash is gone with its last item; the counter keeps a fresh TTL.
    EXPECT_EQ(co_await pttl(*client, cart_key(user_id_)), -2);
    EXPECT_GT(co_await pttl(*client, cart_sequence_key(user_id_)),
              (kCartTtl - kFreshTtlMargin).count());

    auto again = co_await add_cart_item(client, user_id_, new_item(9, Selection::home, 100));
    CO_ASSERT(again.ok(), again.error().detail);
    co_await lower_ttl(*client);
    auto cleared = co_await clear_cart(*client, user_id_);
    CO_ASSERT(cleared.ok(), cleared.error().detail);
    EXPECT_EQ(co_await pttl(*client, cart_key(user_id_)), -2);
    EXPECT_GT(co_await pttl(*client, cart_sequence_key(user_id_)),
              (kCartTtl - kFreshTtlMargin).count());
    co_await finish(*client);
  });
}

TEST_F(CartStoreTest, OnlyTheSameMatchAndSelectionIsADuplicate) {
  // The script searches stored values for the pair as text: match 5 must not
  // be found in 15 or 55, nor selection "1" in another match's item.
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    for (auto [match, selection] : {std::pair{15, Selection::home}, std::pair{55, Selection::home},
                                    std::pair{5, Selection::draw}, std::pair{5, Selection::home},
                                    std::pair{51, Selection::home}}) {
      auto added = co_await add_cart_item(client, user_id_, new_item(match, selection, 100));
      CO_ASSERT(added.ok(), added.error().detail);
    }
    auto again = co_await add_cart_item(client, user_id_, new_item(5, Selection::home, 300));
    CO_ASSERT(!again.ok(), "the same match and selection was added twice");
    EXPECT_EQ(again.error().code, Errc::duplicate_item);
    co_await finish(*client);
  });
}

TEST_F(CartStoreTest, DuplicateIsCheckedBeforeFull) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    for (std::size_t i = 0; i < kMaxCartItems; ++i) {
      auto added = co_await add_cart_item(
          client, user_id_, new_item(1000 + static_cast<std::int64_t>(i), Selection::home, 100));
      CO_ASSERT(added.ok(), added.error().detail);
    }
    auto duplicate = co_await add_cart_item(client, user_id_, new_item(1000, Selection::home, 5));
    CO_ASSERT(!duplicate.ok(), "a duplicate was added");
    EXPECT_EQ(duplicate.error().code, Errc::duplicate_item);
    auto full = co_await add_cart_item(client, user_id_, new_item(1000, Selection::draw, 5));
    CO_ASSERT(!full.ok(), "a 51st item was added");
    EXPECT_EQ(full.error().code, Errc::cart_full);
    auto cart = co_await read_cart(*client, user_id_);
    CO_ASSERT(cart.ok(), cart.error().detail);
    EXPECT_EQ(cart->items.size(), kMaxCartItems);
    co_await finish(*client);
  });
}

TEST_F(CartStoreTest, ConditionalAddWritesOnlyWhileTheKeyHoldsTheValue) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    const std::string generation_key = cart_key(user_id_) + ":test-generation";
    auto set = co_await client->command("SET", generation_key, "41");
    CO_ASSERT(set.ok(), set.error().detail);

    // Named, not temporaries inside the co_await (see redis_client.hpp on g++ 12).
    const NewCartItem item = new_item(1000, Selection::home, 100);
    const KeyHolds other_value{generation_key, "40"};
    const KeyHolds absent_key{generation_key + ":absent", "41"};
    const KeyHolds holds{generation_key, "41"};
    auto stale = co_await add_cart_item_if(client, user_id_, item, &other_value);
    CO_ASSERT(stale.ok(), stale.error().detail);
    EXPECT_FALSE(stale->has_value()) << "written although the key held another value";
    auto absent = co_await add_cart_item_if(client, user_id_, item, &absent_key);
    CO_ASSERT(absent.ok(), absent.error().detail);
    EXPECT_FALSE(absent->has_value()) << "written although the key does not exist";
    auto empty = co_await read_cart(*client, user_id_);
    CO_ASSERT(empty.ok(), empty.error().detail);
    EXPECT_TRUE(empty->items.empty());

    auto fresh = co_await add_cart_item_if(client, user_id_, item, &holds);
    CO_ASSERT(fresh.ok(), fresh.error().detail);
    CO_ASSERT(fresh->has_value(), "not written although the key held the value");
    EXPECT_EQ((*fresh)->match_id, 1000);
    const NewCartItem same_again = new_item(1000, Selection::home, 5);
    auto duplicate = co_await add_cart_item_if(client, user_id_, same_again, &holds);
    CO_ASSERT(!duplicate.ok(), "a duplicate was added");
    EXPECT_EQ(duplicate.error().code, Errc::duplicate_item);

    auto deleted = co_await client->command("DEL", generation_key);
    EXPECT_TRUE(deleted.ok());
    co_await finish(*client);
  });
}

TEST_F(CartStoreTest, ConcurrentAddsNeverExceedTheLimitOrDuplicate) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    for (std::size_t i = 0; i + 1 < kMaxCartItems; ++i) {
      auto added = co_await add_cart_item(
          client, user_id_, new_item(1000 + static_cast<std::int64_t>(i), Selection::home, 100));
      CO_ASSERT(added.ok(), added.error().detail);
    }
    // One slot left: of 8 racing adds (4 of one new selection, 4 of others)
    // exactly one wins; the rest are duplicate_item or cart_full.
    constexpr int kRacers = 8;
    std::vector<Errc> outcomes;
    int succeeded = 0;
    testing::Latch done(io.get_executor(), kRacers);
    for (int i = 0; i < kRacers; ++i) {
      const std::int64_t match_id = i < 4 ? 5000 : 6000 + i;
      asio::co_spawn(
          io,
          [&, match_id]() -> asio::awaitable<void> {
            auto r =
                co_await add_cart_item(client, user_id_, new_item(match_id, Selection::away, 1));
            if (r.ok()) {
              ++succeeded;
            } else {
              outcomes.push_back(r.error().code);
            }
            done.count_down();
          },
          asio::detached);
    }
    co_await done.wait();
    EXPECT_EQ(succeeded, 1);
    for (Errc e : outcomes) EXPECT_TRUE(e == Errc::cart_full || e == Errc::duplicate_item);
    auto cart = co_await read_cart(*client, user_id_);
    CO_ASSERT(cart.ok(), cart.error().detail);
    EXPECT_EQ(cart->items.size(), kMaxCartItems);
    std::set<std::int64_t> ids;
    for (const auto& item : cart->items) ids.insert(item.item_id);
    EXPECT_EQ(ids.size(), kMaxCartItems);
    co_await finish(*client);
  });
}

TEST_F(CartStoreTest, ChangeUpdatesStakeAndSelectionButRefusesADuplicate) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    auto home = co_await add_cart_item(client, user_id_, new_item(11, Selection::home, 100));
    auto draw = co_await add_cart_item(client, user_id_, new_item(11, Selection::draw, 200));
    CO_ASSERT(home.ok() && draw.ok(), "adds failed");

    CartItemChange stake_only;
    stake_only.stake = Money(150);
    auto changed = co_await change_cart_item(*client, user_id_, home->item_id, stake_only);
    CO_ASSERT(changed.ok(), changed.error().detail);
    EXPECT_EQ(changed->stake, Money(150));
    EXPECT_EQ(changed->selection, Selection::home);
    EXPECT_EQ(changed->match_id, 11);
    EXPECT_EQ(changed->added_at, home->added_at);

    CartItemChange to_draw;
    to_draw.selection = Selection::draw;
    auto duplicate = co_await change_cart_item(*client, user_id_, home->item_id, to_draw);
    CO_ASSERT(!duplicate.ok(), "changed into a duplicate");
    EXPECT_EQ(duplicate.error().code, Errc::duplicate_item);

    CartItemChange both;
    both.selection = Selection::away;
    both.stake = Money(175);
    auto moved = co_await change_cart_item(*client, user_id_, home->item_id, both);
    CO_ASSERT(moved.ok(), moved.error().detail);
    EXPECT_EQ(moved->selection, Selection::away);
    EXPECT_EQ(moved->stake, Money(175));
    EXPECT_EQ(moved->item_id, home->item_id);

    // Naming an item's own selection is no duplicate.
    CartItemChange same;
    same.selection = Selection::draw;
    auto unchanged = co_await change_cart_item(*client, user_id_, draw->item_id, same);
    CO_ASSERT(unchanged.ok(), unchanged.error().detail);
    EXPECT_EQ(unchanged->stored, draw->stored);

    auto missing = co_await change_cart_item(*client, user_id_, 999, both);
    CO_ASSERT(!missing.ok(), "changed a missing item");
    EXPECT_EQ(missing.error().code, Errc::item_not_found);
    auto cart = co_await read_cart(*client, user_id_);
    CO_ASSERT(cart.ok(), cart.error().detail);
    EXPECT_EQ(cart->items.size(), 2u);
    co_await finish(*client);
  });
}

TEST_F(CartStoreTest, RemoveAndClear) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    auto a = co_await add_cart_item(client, user_id_, new_item(21, Selection::home, 100));
    auto b = co_await add_cart_item(client, user_id_, new_item(22, Selection::home, 100));
    CO_ASSERT(a.ok() && b.ok(), "adds failed");
    auto removed = co_await remove_cart_item(*client, user_id_, a->item_id);
    EXPECT_TRUE(removed.ok());
    auto again = co_await remove_cart_item(*client, user_id_, a->item_id);
    CO_ASSERT(!again.ok(), "removed twice");
    EXPECT_EQ(again.error().code, Errc::item_not_found);

    auto cleared = co_await clear_cart(*client, user_id_);
    EXPECT_TRUE(cleared.ok());
    auto cleared_again = co_await clear_cart(*client, user_id_);
    EXPECT_TRUE(cleared_again.ok());
    auto cart = co_await read_cart(*client, user_id_);
    CO_ASSERT(cart.ok(), cart.error().detail);
    EXPECT_TRUE(cart->items.empty());

    // Ids are not reused after a clear: a stale id never hits a new item.
    auto c = co_await add_cart_item(client, user_id_, new_item(21, Selection::home, 100));
    CO_ASSERT(c.ok(), c.error().detail);
    EXPECT_GT(c->item_id, b->item_id);
    co_await finish(*client);
  });
}

TEST_F(CartStoreTest, WhileAPauseClosesTheCartEveryBettorWriteIsRefusedAndChangesNothing) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    auto kept = co_await add_cart_item(client, user_id_, new_item(31, Selection::home, 100));
    CO_ASSERT(kept.ok(), kept.error().detail);
    const auto until = std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now() + std::chrono::hours(1));
    auto closed = co_await close_cart_for_pause(*client, user_id_, until);
    CO_ASSERT(closed.ok(), closed.error().detail);
    // An item written after the close, as a write that raced it would have
    // been: the closed cart must refuse to touch it.
    auto raced = co_await client->command("HSET", cart_key(user_id_), "99", kept->stored);
    CO_ASSERT(raced.ok() && raced->is_integer(), "HSET failed");
    co_await lower_ttl(*client);

    const std::string until_text = domain::format_rfc3339(until);
    auto check = [&](const auto& result, std::string_view what) {
      EXPECT_FALSE(result.ok()) << what << " was let through a closed cart";
      if (result.ok()) return;
      EXPECT_EQ(result.error().code, Errc::self_excluded) << what;
      EXPECT_NE(result.error().detail.find(until_text), std::string::npos)
          << what << ": " << result.error().detail;
    };
    check(co_await add_cart_item(client, user_id_, new_item(32, Selection::draw, 100)), "an add");
    const std::string generation = "g1";
    const std::string generation_key = "gen:cart-test:" + std::to_string(user_id_);
    auto set = co_await client->command("SET", generation_key, generation);
    CO_ASSERT(set.ok(), "SET failed");
    const KeyHolds holds{generation_key, generation};
    check(co_await add_cart_item_if(client, user_id_, new_item(33, Selection::draw, 100), &holds),
          "a conditional add");
    CartItemChange change;
    change.stake = domain::Money(500);
    check(co_await change_cart_item(*client, user_id_, 99, change), "a change");
    check(co_await remove_cart_item(*client, user_id_, 99), "a remove");
    check(co_await clear_cart(*client, user_id_), "a clear");

    auto items = co_await client->command("HLEN", cart_key(user_id_));
    CO_ASSERT(items.ok() && items->is_integer(), "HLEN failed");
    EXPECT_EQ(items->as_integer(), 1) << "a refused write changed the closed cart";
    // Refused writes do not slide the expiry either (lower_ttl set 5 s).
    EXPECT_LE(co_await pttl(*client, cart_key(user_id_)), 5000);
    auto pause_left = co_await pttl(*client, cart_pause_key(user_id_));
    EXPECT_GT(pause_left, 3'500'000) << "the pause key lost its end";

    // Reopened (the key expires at the pause's end): writes go through.
    auto reopened = co_await client->command("DEL", cart_pause_key(user_id_), generation_key);
    CO_ASSERT(reopened.ok(), "DEL failed");
    auto added = co_await add_cart_item(client, user_id_, new_item(34, Selection::away, 100));
    CO_ASSERT(added.ok(), added.error().detail);
    co_await finish(*client);
  });
}

TEST_F(CartStoreTest, RemoveCheckedOutLeavesChangedAndNewItems) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    std::vector<CartItem> read;
    for (std::int64_t m = 31; m <= 33; ++m) {
      auto added = co_await add_cart_item(client, user_id_, new_item(m, Selection::home, 100));
      CO_ASSERT(added.ok(), added.error().detail);
      read.push_back(*added);
    }
    // Meanwhile: item 2 is edited, item 3 removed, a new item added.
    CartItemChange change;
    change.stake = Money(999);
    auto edited = co_await change_cart_item(*client, user_id_, read[1].item_id, change);
    CO_ASSERT(edited.ok(), edited.error().detail);
    auto removed = co_await remove_cart_item(*client, user_id_, read[2].item_id);
    CO_ASSERT(removed.ok(), removed.error().detail);
    auto added = co_await add_cart_item(client, user_id_, new_item(34, Selection::home, 100));
    CO_ASSERT(added.ok(), added.error().detail);

    auto count = co_await remove_checked_out(*client, user_id_, read);
    CO_ASSERT(count.ok(), count.error().detail);
    EXPECT_EQ(*count, 1u);
    auto cart = co_await read_cart(*client, user_id_);
    CO_ASSERT(cart.ok(), cart.error().detail);
    CO_ASSERT(cart->items.size() == 2u, cart->items.size());
    EXPECT_EQ(cart->items[0].stored, edited->stored);
    EXPECT_EQ(cart->items[1].stored, added->stored);
    co_await finish(*client);
  });
}

TEST_F(CartStoreTest, Int64IdsSurviveLuaExactly) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto client = co_await connected_client(io, cfg_);
    // 2^53 + 1: a Lua number (a double) cannot hold it.
    constexpr std::int64_t kBigMatch = 9'007'199'254'740'993;
    auto added =
        co_await add_cart_item(client, user_id_, new_item(kBigMatch, Selection::away, 100'000'000));
    CO_ASSERT(added.ok(), added.error().detail);
    EXPECT_EQ(added->match_id, kBigMatch);
    auto neighbour =
        co_await add_cart_item(client, user_id_, new_item(kBigMatch - 1, Selection::away, 1));
    CO_ASSERT(neighbour.ok(), "a neighbouring match id was taken for a duplicate");
    CartItemChange change;
    change.stake = Money(5);
    auto changed = co_await change_cart_item(*client, user_id_, added->item_id, change);
    CO_ASSERT(changed.ok(), changed.error().detail);
    EXPECT_EQ(changed->match_id, kBigMatch);
    co_await finish(*client);
  });
}

TEST(CartItemParse, RejectsValuesNotInTheStoredForm) {
  EXPECT_TRUE(
      parse_cart_item(
          R"({"item_id":1,"match_id":5,"selection":"X","stake":1,"added_at":"2027-01-15T08:00:00.5Z"})")
          .ok());
  for (
      const char* bad :
      {"", "[]", "not json", R"({"item_id":1})",
       R"({"item_id":1,"match_id":5,"selection":"x","stake":1,"added_at":"2027-01-15T08:00:00Z"})",
       R"({"item_id":1,"match_id":5,"selection":"1","stake":"1","added_at":"2027-01-15T08:00:00Z"})",
       R"({"item_id":1,"match_id":5,"selection":"1","stake":1,"added_at":"yesterday"})",
       R"({"item_id":1,"match_id":5,"selection":"1","stake":1,"added_at":"2027-01-15T08:00:00Z","odds_at_add":100})",
       R"({"item_id":1,"match_id":5,"selection":"1","stake":1,"added_at":"2027-01-15T08:00:00Z","odds_at_add":"2.10"})"}) {
    auto parsed = parse_cart_item(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().code, Errc::internal) << bad;
    }
  }
}

}  // namespace
}  // namespace betsdb::redis

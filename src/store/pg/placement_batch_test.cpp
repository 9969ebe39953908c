// Group commit against a real PostgreSQL: the batch statements (singles and
// accumulators) decide each ask as a placement alone would, and the batcher
// forms batches only from placements that queue, one kind to a statement.
#include "store/pg/placement_batch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "domain/accumulator.hpp"
#include "store/pg/account_store.hpp"
#include "store/pg/accumulator_batch.hpp"
#include "store/pg/accumulator_store.hpp"
#include "store/pg/bet_store.hpp"
#include "store/pg/limits_store.hpp"
#include "store/pg/lock_test_support.hpp"
#include "store/pg/placement_batcher.hpp"
#include "store/pg/pool.hpp"
#include "store/pg/schema_test_support.hpp"
#include "util/token.hpp"

namespace betsdb::store {
namespace {

namespace asio = boost::asio;
using domain::ItemProblem;
using domain::Selection;
using pg::testing::backend_pid;
using pg::testing::hold_user_row;
using pg::testing::until_answered;
using pg::testing::until_waiting_for_locks;

// Odds 2.10 on "1", 3.25 on "X", 3.60 on "2" (the seed's prices).
domain::BetItem item(std::int64_t match_id, Selection selection, std::int64_t stake) {
  const std::int64_t hundredths = selection == Selection::home   ? 210
                                  : selection == Selection::draw ? 325
                                                                 : 360;
  auto odds = domain::odds_from_hundredths(hundredths, "odds");
  EXPECT_TRUE(odds.ok());
  return {match_id, selection, domain::Money(stake), *odds,
          domain::Money(stake * hundredths / 100)};
}

// An accumulator on `legs` (match, selection), priced at the seed's odds.
domain::AccumulatorItem accumulator(const std::vector<std::pair<std::int64_t, Selection>>& legs,
                                    std::int64_t stake) {
  domain::AccumulatorItem out;
  std::vector<domain::Odds> odds;
  for (const auto& [match_id, selection] : legs) {
    const domain::BetItem single = item(match_id, selection, stake);
    out.legs.push_back({match_id, selection, single.odds, 0, domain::BetStatus::pending});
    odds.push_back(single.odds);
  }
  out.stake = domain::Money(stake);
  auto price = domain::price_accumulator(out.stake, odds);
  EXPECT_TRUE(price.ok());
  out.potential_payout = price->potential_payout;
  out.combined_odds_hundredths = price->combined_odds_hundredths;
  out.legs_key = domain::legs_key(out.legs);
  return out;
}

class PlacementBatchTest : public pg::testing::MigratedSchemaTest {
 protected:
  void SetUp() override {
    MigratedSchemaTest::SetUp();
    if (HasFatalFailure()) return;
    on_pool([](const std::shared_ptr<pg::Pool>& db) -> asio::awaitable<void> {
      // Users 1-20 with 1,000.00 each, except user 2 (1.00) and user 6
      // (self-excluded); match 1 open, match 2 open with a liability limit of
      // 5.50 (five 1.00 bets on "1" at 2.10), match 3 suspended.
      auto seeded = co_await db->execute_sql(R"sql(
INSERT INTO users (id, email, name, balance, token_hash)
  SELECT i, 'user' || i || '@example.com', 'User ' || i, 100000, int8send(i)
  FROM generate_series(1, 20) i;
UPDATE users SET balance = 100 WHERE id = 2;
UPDATE users SET self_excluded_until = now() + interval '1 day' WHERE id = 6;
INSERT INTO matches (id, team_1, team_2, starts_at, odds_1, odds_x, odds_2, status, max_liability)
  VALUES (1, 'A', 'B', now() + interval '1 day', 210, 325, 360, 'open', NULL),
         (2, 'C', 'D', now() + interval '1 day', 210, 325, 360, 'open', 550),
         (3, 'E', 'F', now() + interval '1 day', 210, 325, 360, 'suspended', NULL);
INSERT INTO bets (user_id, match_id, selection, stake, odds, potential_payout)
  VALUES (4, 1, '1', 100, 210, 210);
)sql");
      PG_CO_ASSERT_OK(seeded);
    });
  }

  // Every placed stake has its ledger row, balances chain per user, and the
  // exposure rows add up the pending singles.
  void expect_books_balance() {
    EXPECT_EQ(count("SELECT count(*) FROM bets b WHERE NOT EXISTS (SELECT 1 FROM ledger l "
                    "WHERE l.bet_id = b.id AND l.kind = 'stake' AND l.amount = -b.stake) "
                    "AND b.id > 1"),
              0);
    EXPECT_EQ(count("SELECT count(*) FROM users u WHERE u.balance <> 100000 - coalesce((SELECT "
                    "sum(stake) FROM bets WHERE user_id = u.id AND id > 1), 0) AND u.id <> 2"),
              0);
    EXPECT_EQ(count("SELECT count(*) FROM ledger l WHERE l.kind = 'stake' AND l.balance_after <> "
                    "100000 - (SELECT sum(stake) FROM bets b WHERE b.user_id = l.user_id AND "
                    "b.id <= l.bet_id AND b.id > 1) AND l.user_id <> 2"),
              0);
    EXPECT_EQ(count("SELECT count(*) FROM match_exposure x WHERE x.stake_1 + x.stake_x + "
                    "x.stake_2 <> (SELECT coalesce(sum(stake), 0) FROM bets WHERE match_id = "
                    "x.match_id AND id > 1)"),
              0);
  }
};

TEST_F(PlacementBatchTest, EachAskIsDecidedAsIfItWereAlone) {
  const std::vector<domain::BetItem> fine{item(1, Selection::draw, 500)};
  const std::vector<domain::BetItem> too_dear{item(1, Selection::home, 500)};
  const std::vector<domain::BetItem> suspended{item(3, Selection::home, 100)};
  const std::vector<domain::BetItem> duplicate{item(1, Selection::home, 100)};
  const std::vector<domain::BetItem> cart{item(1, Selection::away, 300),
                                          item(2, Selection::home, 100)};
  const std::vector<domain::BetItem> paused{item(1, Selection::home, 100)};
  const std::vector<PlacementAsk> asks{{1, fine},      {2, too_dear}, {3, suspended},
                                       {4, duplicate}, {5, cart},     {6, paused}};
  on_pool([&](const std::shared_ptr<pg::Pool>& db) -> asio::awaitable<void> {
    auto placed = co_await place_batch(*db, asks);
    PG_CO_ASSERT_OK(placed);
    PG_CO_ASSERT(placed->has_value());
    const auto& out = **placed;
    PG_CO_ASSERT(out.size() == asks.size());

    PG_CO_ASSERT(out[0].placed());
    EXPECT_EQ(out[0].balance, domain::Money(99500));
    EXPECT_EQ(out[0].user_email, "user1@example.com");
    EXPECT_EQ(out[0].bets[0].user_id, 1);
    EXPECT_EQ(out[0].bets[0].potential_payout, domain::Money(1625));

    EXPECT_FALSE(out[1].placed());
    EXPECT_TRUE(out[1].funds_short);
    EXPECT_EQ(out[1].problems, std::vector<ItemProblem>{ItemProblem::none});

    EXPECT_FALSE(out[2].placed());
    EXPECT_EQ(out[2].problems, std::vector<ItemProblem>{ItemProblem::repriced});

    EXPECT_FALSE(out[3].placed());
    EXPECT_EQ(out[3].problems, std::vector<ItemProblem>{ItemProblem::duplicate_bet});

    PG_CO_ASSERT(out[4].placed());
    PG_CO_ASSERT(out[4].bets.size() == 2U);
    EXPECT_EQ(out[4].bets[0].match_id, 1);
    EXPECT_EQ(out[4].bets[1].match_id, 2);
    EXPECT_EQ(out[4].balance, domain::Money(99600));
    EXPECT_LT(out[4].bets[0].id, out[4].bets[1].id);

    EXPECT_FALSE(out[5].placed());
    EXPECT_TRUE(out[5].paused_until.has_value());
  });
  EXPECT_EQ(count("SELECT count(*) FROM bets"), 4);  // the seed's and three placed
  EXPECT_EQ(count("SELECT balance FROM users WHERE id = 2"), 100);
  EXPECT_EQ(count("SELECT balance FROM users WHERE id = 6"), 100000);
  expect_books_balance();
}

TEST_F(PlacementBatchTest, AsksThatTogetherPassALiabilityLimitPlaceNothing) {
  // Each alone fits (liability 1.10 or 2.20 of 5.50); the six together owe 6.60.
  std::vector<std::vector<domain::BetItem>> items;
  std::vector<PlacementAsk> asks;
  for (int i = 0; i < 6; ++i) items.push_back({item(2, Selection::home, 100)});
  for (int i = 0; i < 6; ++i) asks.push_back({10 + i, items[i]});
  on_pool([&](const std::shared_ptr<pg::Pool>& db) -> asio::awaitable<void> {
    auto placed = co_await place_batch(*db, asks);
    PG_CO_ASSERT_OK(placed);
    EXPECT_FALSE(placed->has_value());
  });
  EXPECT_EQ(count("SELECT count(*) FROM bets"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM match_exposure WHERE bets > 0"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM users WHERE balance <> 100000"), 1);  // user 2
}

using Asks = std::vector<std::pair<std::int64_t, std::vector<domain::BetItem>>>;

struct Together {
  std::vector<Result<domain::Placement>> results;
  PlacementBatchCounters counters;
};

// A stall threshold no statement reaches: under ASan on a busy machine one
// can take longer than kStallAfter, and the queue would go beside it, out of
// the order these tests count on.
constexpr std::chrono::milliseconds kNeverStalls = std::chrono::minutes(1);

// Placements started together through one batcher: the first goes alone, the
// rest wait and go as one batch when it answers.
Together place_together(std::shared_ptr<pg::Pool> pool, asio::io_context& io, const Asks& asks) {
  auto batcher = std::make_shared<PlacementBatcher>(pool, BatchLinger{}, kNeverStalls);
  std::vector<Result<domain::Placement>> results(asks.size(), Error::internal("not answered"));
  std::size_t answered = 0;
  for (std::size_t i = 0; i < asks.size(); ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          results[i] = co_await batcher->place(asks[i].first, asks[i].second);
          if (++answered == asks.size()) pool->close();
        },
        asio::detached);
  }
  io.run_for(std::chrono::seconds(30));
  EXPECT_EQ(answered, asks.size());
  return {std::move(results), batcher->counters()};
}

TEST_F(PlacementBatchTest, PlacementsThatQueueShareOneStatement) {
  Asks asks;
  for (std::int64_t user = 7; user <= 16; ++user) {
    asks.push_back({user, {item(1, Selection::away, 100 + user)}});
  }
  asks.push_back({2, {item(1, Selection::away, 500)}});  // short of funds, in the batch
  asio::io_context io;
  auto [results, counters] = place_together(pool_on(io, 4), io, asks);
  for (std::size_t i = 0; i + 1 < asks.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].error().detail;
    ASSERT_TRUE(results[i]->placed()) << "ask " << i;
    EXPECT_EQ(results[i]->bets[0].user_id, asks[i].first);
    EXPECT_EQ(results[i]->bets[0].stake, domain::Money(100 + asks[i].first));
    EXPECT_EQ(results[i]->balance, domain::Money(100000 - 100 - asks[i].first));
  }
  ASSERT_TRUE(results.back().ok());
  EXPECT_FALSE(results.back()->placed());
  EXPECT_TRUE(results.back()->funds_short);
  EXPECT_EQ(counters.batches[0], PlacementBatcher::kMaxInFlight);
  EXPECT_EQ(counters.batches[batch_size_bucket(asks.size() - PlacementBatcher::kMaxInFlight)], 1U);
  EXPECT_EQ(counters.asks, asks.size());
  EXPECT_EQ(counters.retried_alone, 0U);
  EXPECT_EQ(count("SELECT count(*) FROM bets"), 11);
  expect_books_balance();
}

TEST_F(PlacementBatchTest, ABatchPastALiabilityLimitIsPlacedOneByOne) {
  // Eight 1.00 bets on "1" of match 2: the first five fit its 5.50 limit.
  Asks asks;
  for (std::int64_t user = 7; user < 15; ++user)
    asks.push_back({user, {item(2, Selection::home, 100)}});
  asio::io_context io;
  auto [results, counters] = place_together(pool_on(io, 4), io, asks);
  int placed = 0, refused = 0;
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.error().detail;
    if (result->placed()) {
      ++placed;
    } else {
      EXPECT_EQ(result->problems, std::vector<ItemProblem>{ItemProblem::liability_limit_exceeded});
      ++refused;
    }
  }
  EXPECT_EQ(placed, 5);
  EXPECT_EQ(refused, 3);
  EXPECT_EQ(counters.retried_alone, asks.size() - PlacementBatcher::kMaxInFlight);
  EXPECT_EQ(count("SELECT payout_1 - stake_1 FROM match_exposure WHERE match_id = 2"), 550);
  expect_books_balance();
}

TEST_F(PlacementBatchTest, ABettorsSecondPlacementWaitsForTheNextBatch) {
  Asks asks;
  for (std::int64_t user = 7; user <= 10; ++user)
    asks.push_back({user, {item(1, Selection::away, 100)}});
  asks.push_back({9, {item(1, Selection::draw, 100)}});
  asks.push_back({10, {item(1, Selection::home, 100)}});
  asio::io_context io;
  auto [results, counters] = place_together(pool_on(io, 4), io, asks);
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.error().detail;
    EXPECT_TRUE(result->placed());
  }
  // Users 9 and 10 each have two placements queued: never in one batch.
  EXPECT_EQ(results[4]->balance, domain::Money(99800));
  EXPECT_EQ(results[5]->balance, domain::Money(99800));
  EXPECT_EQ(counters.asks, asks.size());
  EXPECT_GE(counters.batches[0] + counters.batches[1], 3U);
  expect_books_balance();
}

// Phases of placements through one batcher: each phase's placements start
// together (in one turn of the loop), and the next phase starts once every
// one of them has its answer.
Together place_in_phases(std::shared_ptr<pg::Pool> pool, asio::io_context& io,
                         const std::vector<Asks>& phases, BatchLinger linger,
                         std::chrono::seconds limit) {
  auto batcher = std::make_shared<PlacementBatcher>(pool, linger, kNeverStalls);
  Together out;
  pg::testing::run(
      io,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer phase_done(io);
        for (const Asks& asks : phases) {
          std::size_t answered = 0;
          phase_done.expires_at(asio::steady_timer::time_point::max());
          for (const auto& [user, items] : asks) {
            asio::co_spawn(
                io,
                [&, user = user, items = items]() -> asio::awaitable<void> {
                  out.results.push_back(co_await batcher->place(user, items));
                  if (++answered == asks.size()) phase_done.cancel();
                },
                asio::detached);
          }
          (void)co_await phase_done.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        pool->close();
      },
      limit);
  out.counters = batcher->counters();
  return out;
}

// One bet each on match 1 by users first..last.
Asks bettors(std::int64_t first, std::int64_t last) {
  Asks asks;
  for (std::int64_t user = first; user <= last; ++user) {
    asks.push_back({user, {item(1, Selection::away, 100 + user)}});
  }
  return asks;
}

void expect_all_placed(const std::vector<Result<domain::Placement>>& results, std::size_t n) {
  ASSERT_EQ(results.size(), n);
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.error().detail;
    EXPECT_TRUE(result->placed());
  }
}

class BatchLingerTest : public PlacementBatchTest {
 protected:
  // place_in_phases on a pool of 4, within 30 s.
  Together phases(const std::vector<Asks>& asks_by_phase, BatchLinger linger) {
    asio::io_context io;
    return place_in_phases(pool_on(io, 4), io, asks_by_phase, linger, std::chrono::seconds(30));
  }
};

// After a batch of four, four placements that find the shard idle go as one
// statement: the first waits for the others (here until the fourth arrives:
// the linger itself is longer than the test may run).
TEST_F(BatchLingerTest, UnderLoadAPlacementThatFindsTheShardIdleWaitsForItsBatchMates) {
  const BatchLinger linger{std::chrono::seconds(60), std::chrono::seconds(60)};
  auto [results, counters] = phases({bettors(7, 11), bettors(12, 15)}, linger);
  expect_all_placed(results, 9);
  EXPECT_EQ(counters.batches[0], 1U);  // only the very first placement went alone
  EXPECT_EQ(counters.batches[batch_size_bucket(4)], 2U);
  EXPECT_EQ(count("SELECT count(*) FROM bets"), 10);
  expect_books_balance();
}

// Fewer batch-mates than last time: the linger ends and they go together.
TEST_F(BatchLingerTest, TheLingerEndsAndTheFewThatQueuedGoTogether) {
  const BatchLinger linger{std::chrono::milliseconds(20), std::chrono::seconds(60)};
  auto [results, counters] = phases({bettors(7, 11), bettors(12, 13)}, linger);
  expect_all_placed(results, 7);
  EXPECT_EQ(counters.batches[0], 1U);
  EXPECT_EQ(counters.batches[batch_size_bucket(4)], 1U);
  EXPECT_EQ(counters.batches[batch_size_bucket(2)], 1U);
}

// A lone bet after a lone bet is no load: it goes at once. (A linger would
// outlast the test's time limit.)
TEST_F(BatchLingerTest, WithoutLoadAPlacementWaitsForNothing) {
  const BatchLinger linger{std::chrono::seconds(60), std::chrono::seconds(60)};
  auto [results, counters] = phases({bettors(7, 7), bettors(8, 8)}, linger);
  expect_all_placed(results, 2);
  EXPECT_EQ(counters.batches[0], 2U);
}

TEST_F(PlacementBatchTest, AStalledStatementLetsTheQueueGoBesideIt) {
  asio::io_context io;
  auto pool = pool_on(io, 4);
  auto locker = pool_on(io, 1);
  auto batcher = std::make_shared<PlacementBatcher>(pool);
  const std::vector<domain::BetItem> stalled{item(1, Selection::away, 100)};
  // On another match: the stalled one holds match 1's exposure row.
  const std::vector<domain::BetItem> queued{item(2, Selection::draw, 100)};
  bool stalled_done = false, queued_done = false, queued_before_release = false;
  pg::testing::run(io, [&]() -> asio::awaitable<void> {
    // User 7's row held by another transaction: their placement waits in PostgreSQL.
    auto held = co_await hold_user_row(*locker, 7);
    PG_CO_ASSERT(held.has_value());
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto placed = co_await batcher->place(7, stalled);
          EXPECT_TRUE(placed.ok() && placed->placed());
          stalled_done = true;
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto placed = co_await batcher->place(8, queued);
          EXPECT_TRUE(placed.ok() && placed->placed());
          queued_done = true;
          queued_before_release = !stalled_done;
        },
        asio::detached);
    co_await until_answered([&] { return queued_done; });
    EXPECT_TRUE(queued_done) << "the queued placement waited for the stalled one";
    EXPECT_FALSE(stalled_done);
    auto committed = co_await (*held)->execute_sql("COMMIT");
    PG_CO_ASSERT_OK(committed);
    co_await until_answered([&] { return stalled_done; });
    EXPECT_TRUE(stalled_done);
    pool->close();
    locker->close();
  });
  EXPECT_TRUE(queued_before_release);
  EXPECT_EQ(batcher->counters().batches[0], 2U);  // each alone: the second beside the first
}

TEST_F(PlacementBatchTest, EachAccumulatorIsDecidedAsIfItWereAlone) {
  using L = std::vector<std::pair<std::int64_t, Selection>>;
  const auto fine = accumulator(L{{1, Selection::home}, {2, Selection::draw}}, 500);
  const auto too_dear = accumulator(L{{1, Selection::home}, {2, Selection::draw}}, 500);
  const auto suspended_leg = accumulator(L{{1, Selection::home}, {3, Selection::home}}, 100);
  const auto duplicate = accumulator(L{{2, Selection::away}, {1, Selection::away}}, 100);
  const auto unknown_leg = accumulator(L{{1, Selection::away}, {99, Selection::home}}, 100);
  const auto paused = accumulator(L{{1, Selection::draw}, {2, Selection::away}}, 100);
  const auto also_fine = accumulator(L{{2, Selection::away}, {1, Selection::draw}}, 300);
  const std::vector<AccumulatorAsk> asks{{1, &fine},      {2, &too_dear},    {3, &suspended_leg},
                                         {4, &duplicate}, {5, &unknown_leg}, {6, &paused},
                                         {7, &also_fine}};
  on_pool([&](const std::shared_ptr<pg::Pool>& db) -> asio::awaitable<void> {
    // User 4's same accumulator, placed before: the batch's is a duplicate.
    auto before = co_await place_accumulator(*db, 4, duplicate);
    PG_CO_ASSERT_OK(before);
    PG_CO_ASSERT(before->bet.has_value());

    auto placed = co_await place_accumulator_batch(*db, asks);
    PG_CO_ASSERT_OK(placed);
    const auto& out = *placed;
    PG_CO_ASSERT(out.size() == asks.size());

    PG_CO_ASSERT(out[0].bet.has_value());
    EXPECT_EQ(out[0].bet->user_id, 1);
    EXPECT_EQ(out[0].bet->stake, domain::Money(500));
    EXPECT_EQ(out[0].bet->potential_payout, fine.potential_payout);
    PG_CO_ASSERT(out[0].bet->legs.size() == 2U);
    EXPECT_EQ(out[0].bet->legs[1].match_id, 2);
    EXPECT_EQ(out[0].bet->legs[1].odds_version, 1);
    EXPECT_EQ(out[0].balance, domain::Money(99500));
    EXPECT_EQ(out[0].user_email, "user1@example.com");

    EXPECT_FALSE(out[1].bet.has_value());
    EXPECT_TRUE(out[1].funds_short);
    EXPECT_EQ(out[1].leg_problems,
              (std::vector<ItemProblem>{ItemProblem::none, ItemProblem::none}));

    EXPECT_FALSE(out[2].bet.has_value());
    EXPECT_EQ(out[2].leg_problems,
              (std::vector<ItemProblem>{ItemProblem::none, ItemProblem::repriced}));

    EXPECT_FALSE(out[3].bet.has_value());
    EXPECT_TRUE(out[3].duplicate);

    EXPECT_FALSE(out[4].bet.has_value());
    EXPECT_EQ(out[4].leg_problems,
              (std::vector<ItemProblem>{ItemProblem::none, ItemProblem::match_not_found}));

    EXPECT_FALSE(out[5].bet.has_value());
    EXPECT_TRUE(out[5].paused_until.has_value());

    PG_CO_ASSERT(out[6].bet.has_value());
    EXPECT_EQ(out[6].bet->user_id, 7);
    EXPECT_EQ(out[6].balance, domain::Money(99700));
    EXPECT_NE(out[6].bet->id, out[0].bet->id);
  });
  EXPECT_EQ(count("SELECT count(*) FROM bets WHERE type = 'accumulator'"), 3);
  EXPECT_EQ(count("SELECT count(*) FROM bet_legs"), 6);
  EXPECT_EQ(count("SELECT count(*) FROM pending_accumulators p JOIN bets b ON b.id = p.bet_id "
                  "AND b.user_id = p.user_id AND b.legs_key = p.legs_key"),
            3);
  EXPECT_EQ(count("SELECT count(*) FROM bet_legs l JOIN bets b ON b.id = l.bet_id "
                  "WHERE b.user_id = 7 AND l.position = 1 AND l.match_id = 2"),
            1);
  EXPECT_EQ(count("SELECT balance FROM users WHERE id = 2"), 100);
  EXPECT_EQ(count("SELECT balance FROM users WHERE id = 6"), 100000);
  expect_books_balance();
}

// Placements of both kinds through one batcher, started together:
// `singles[i]` and `accumulators[i]` alternate, a single first.
struct Mixed {
  std::vector<Result<domain::Placement>> singles;
  std::vector<Result<domain::AccumulatorPlacement>> accumulators;
  PlacementBatchCounters counters;
};

Mixed place_mixed(std::shared_ptr<pg::Pool> pool, asio::io_context& io, const Asks& singles,
                  const std::vector<std::pair<std::int64_t, domain::AccumulatorItem>>& accas) {
  auto batcher = std::make_shared<PlacementBatcher>(pool, BatchLinger{}, kNeverStalls);
  Mixed out;
  out.singles.assign(singles.size(), Error::internal("not answered"));
  out.accumulators.assign(accas.size(), Error::internal("not answered"));
  const std::size_t total = singles.size() + accas.size();
  std::size_t answered = 0;
  auto done = [&] {
    if (++answered == total) pool->close();
  };
  for (std::size_t i = 0; i < std::max(singles.size(), accas.size()); ++i) {
    if (i < singles.size()) {
      asio::co_spawn(
          io,
          [&, i]() -> asio::awaitable<void> {
            out.singles[i] = co_await batcher->place(singles[i].first, singles[i].second);
            done();
          },
          asio::detached);
    }
    if (i < accas.size()) {
      asio::co_spawn(
          io,
          [&, i]() -> asio::awaitable<void> {
            out.accumulators[i] =
                co_await batcher->place_accumulator(accas[i].first, accas[i].second);
            done();
          },
          asio::detached);
    }
  }
  io.run_for(std::chrono::seconds(30));
  EXPECT_EQ(answered, total);
  out.counters = batcher->counters();
  return out;
}

TEST_F(PlacementBatchTest, AccumulatorsThatQueueShareOneStatement) {
  using L = std::vector<std::pair<std::int64_t, Selection>>;
  std::vector<std::pair<std::int64_t, domain::AccumulatorItem>> accas;
  for (std::int64_t user = 7; user <= 14; ++user) {
    accas.push_back({user, accumulator(L{{1, Selection::home}, {2, Selection::away}}, 100 + user)});
  }
  asio::io_context io;
  auto [singles, results, counters] = place_mixed(pool_on(io, 4), io, {}, accas);
  for (std::size_t i = 0; i < accas.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].error().detail;
    ASSERT_TRUE(results[i]->bet.has_value()) << "ask " << i;
    EXPECT_EQ(results[i]->bet->user_id, accas[i].first);
    EXPECT_EQ(results[i]->balance, domain::Money(100000 - 100 - accas[i].first));
  }
  // The first alone, the seven that queued behind it in one statement.
  EXPECT_EQ(counters.batches[0], 1U);
  EXPECT_EQ(counters.batches[batch_size_bucket(accas.size() - 1)], 1U);
  EXPECT_EQ(counters.asks, accas.size());
  EXPECT_EQ(counters.retried_alone, 0U);
  EXPECT_EQ(count("SELECT count(*) FROM pending_accumulators"), 8);
  EXPECT_EQ(count("SELECT count(*) FROM bet_legs"), 16);
  expect_books_balance();
}

TEST_F(PlacementBatchTest, SinglesAndAccumulatorsQueuedTogetherGoInStatementsOfOneKind) {
  using L = std::vector<std::pair<std::int64_t, Selection>>;
  // Four singles and four accumulators; user 9 has one of each.
  Asks singles;
  for (std::int64_t user = 7; user <= 10; ++user)
    singles.push_back({user, {item(1, Selection::away, 100)}});
  std::vector<std::pair<std::int64_t, domain::AccumulatorItem>> accas;
  for (std::int64_t user : {9, 11, 12, 13}) {
    accas.push_back({user, accumulator(L{{1, Selection::draw}, {2, Selection::home}}, 200)});
  }
  asio::io_context io;
  auto [single_results, acca_results, counters] = place_mixed(pool_on(io, 4), io, singles, accas);
  for (const auto& result : single_results) {
    ASSERT_TRUE(result.ok()) << result.error().detail;
    EXPECT_TRUE(result->placed());
  }
  for (const auto& result : acca_results) {
    ASSERT_TRUE(result.ok()) << result.error().detail;
    EXPECT_TRUE(result->bet.has_value());
  }
  // A single alone, then the queue (acca, single, acca, ...): the four
  // accumulators in one statement, the three singles left in another.
  EXPECT_EQ(counters.batches[0], 1U);
  EXPECT_EQ(counters.batches[batch_size_bucket(3)], 1U);
  EXPECT_EQ(counters.batches[batch_size_bucket(4)], 1U);
  EXPECT_EQ(counters.asks, 8U);
  EXPECT_EQ(count("SELECT balance FROM users WHERE id = 9"), 100000 - 300);
  expect_books_balance();
}

TEST_F(PlacementBatchTest, ABatchThatMeetsAConcurrentDuplicateAccumulatorAnswersItInTheBatch) {
  using L = std::vector<std::pair<std::int64_t, Selection>>;
  const auto contested = accumulator(L{{1, Selection::home}, {2, Selection::home}}, 100);
  const auto beside = accumulator(L{{1, Selection::away}, {2, Selection::away}}, 100);
  const auto ahead = accumulator(L{{1, Selection::draw}, {2, Selection::draw}}, 100);
  asio::io_context io;
  auto pool = pool_on(io, 1);
  auto rival = pool_on(io, 1);
  auto locker = pool_on(io, 1);
  auto watcher = pool_on(io, 1);
  auto batcher = std::make_shared<PlacementBatcher>(pool, BatchLinger{}, kNeverStalls);
  std::vector<Result<domain::AccumulatorPlacement>> results(4, Error::internal("not answered"));
  std::size_t answered = 0;
  pg::testing::run(io, [&]() -> asio::awaitable<void> {
    const std::string pids = std::to_string(co_await backend_pid(*pool)) + "," +
                             std::to_string(co_await backend_pid(*rival));
    // User 7's row held by another transaction: both placements of user 7's
    // accumulator wait for it in PostgreSQL, the rival's first in line.
    auto held = co_await hold_user_row(*locker, 7);
    PG_CO_ASSERT(held.has_value());
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          results[0] = co_await place_accumulator(*rival, 7, contested);
          ++answered;
        },
        asio::detached);
    co_await until_waiting_for_locks(*watcher, pids, 1);
    // Through the batcher: user 9's alone, then users 7 and 8 in one batch.
    const std::vector<std::pair<std::int64_t, const domain::AccumulatorItem*>> asks{
        {9, &ahead}, {7, &contested}, {8, &beside}};
    for (std::size_t i = 0; i < asks.size(); ++i) {
      asio::co_spawn(
          io,
          [&, i]() -> asio::awaitable<void> {
            results[i + 1] = co_await batcher->place_accumulator(asks[i].first, *asks[i].second);
            ++answered;
          },
          asio::detached);
    }
    co_await until_waiting_for_locks(*watcher, pids, 2);
    auto committed = co_await (*held)->execute_sql("COMMIT");
    PG_CO_ASSERT_OK(committed);
    co_await until_answered([&] { return answered == results.size(); });
    for (const auto& p : {pool, rival, locker, watcher}) p->close();
  });
  ASSERT_EQ(answered, results.size());
  for (const auto& result : results) ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_TRUE(results[0]->bet.has_value()) << "the rival, first in line, places it";
  EXPECT_TRUE(results[1]->bet.has_value());
  EXPECT_FALSE(results[2]->bet.has_value());
  EXPECT_TRUE(results[2]->duplicate) << "its guard meets the rival's, committed meanwhile";
  EXPECT_TRUE(results[3]->bet.has_value()) << "its batch-mate's duplicate does not fail it";
  const auto& counters = batcher->counters();
  EXPECT_EQ(counters.batches[0], 1U);
  EXPECT_EQ(counters.batches[batch_size_bucket(2)], 1U);
  // The statement decided both: the guard's unique index sees the rival's
  // row once it committed, where a look-up in the statement's snapshot did not.
  EXPECT_EQ(counters.retried_alone, 0U);
  EXPECT_EQ(count("SELECT count(*) FROM pending_accumulators WHERE user_id = 7"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM pending_accumulators"), 3);
  expect_books_balance();
}

TEST_F(PlacementBatchTest, ALoneAccumulatorThatMeetsAConcurrentDuplicateIsAnsweredDuplicate) {
  using L = std::vector<std::pair<std::int64_t, Selection>>;
  const auto contested = accumulator(L{{1, Selection::home}, {2, Selection::home}}, 100);
  asio::io_context io;
  auto first = pool_on(io, 1);
  auto second = pool_on(io, 1);
  auto locker = pool_on(io, 1);
  auto watcher = pool_on(io, 1);
  std::vector<Result<domain::AccumulatorPlacement>> results(2, Error::internal("not answered"));
  std::size_t answered = 0;
  pg::testing::run(io, [&]() -> asio::awaitable<void> {
    const std::string pids = std::to_string(co_await backend_pid(*first)) + "," +
                             std::to_string(co_await backend_pid(*second));
    // User 7's row held: both placements of the same accumulator wait for
    // it in PostgreSQL, each past its own duplicate check's snapshot.
    auto held = co_await hold_user_row(*locker, 7);
    PG_CO_ASSERT(held.has_value());
    for (std::size_t i = 0; i < results.size(); ++i) {
      asio::co_spawn(
          io,
          [&, i]() -> asio::awaitable<void> {
            results[i] = co_await place_accumulator(i == 0 ? *first : *second, 7, contested);
            ++answered;
          },
          asio::detached);
      co_await until_waiting_for_locks(*watcher, pids, i + 1);
    }
    auto committed = co_await (*held)->execute_sql("COMMIT");
    PG_CO_ASSERT_OK(committed);
    co_await until_answered([&] { return answered == results.size(); });
    for (const auto& p : {first, second, locker, watcher}) p->close();
  });
  ASSERT_EQ(answered, results.size());
  // Not a failed statement (a unique violation): an answer, as for a duplicate
  // that was pending before.
  for (const auto& result : results) ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_TRUE(results[0]->bet.has_value()) << "first in line, it places the accumulator";
  EXPECT_FALSE(results[1]->bet.has_value());
  EXPECT_TRUE(results[1]->duplicate);
  EXPECT_EQ(count("SELECT count(*) FROM pending_accumulators WHERE user_id = 7"), 1);
  EXPECT_EQ(count("SELECT balance FROM users WHERE id = 7"), 100000 - 100);
  expect_books_balance();
}

// The refusal reports the balance the statement compared, the newest one
// (read under the bettor's row lock), not the one its snapshot began with:
// a funds-short bettor is told so, not sent on to their limits.
TEST_F(PlacementBatchTest, ALoneAccumulatorIsFundsShortByTheBalanceItWaitedFor) {
  using L = std::vector<std::pair<std::int64_t, Selection>>;
  const auto acca = accumulator(L{{1, Selection::home}, {2, Selection::home}}, 100);
  asio::io_context io;
  auto pool = pool_on(io, 1);
  auto locker = pool_on(io, 1);
  auto watcher = pool_on(io, 1);
  std::optional<Result<domain::AccumulatorPlacement>> result;
  pg::testing::run(io, [&]() -> asio::awaitable<void> {
    const std::string pid = std::to_string(co_await backend_pid(*pool));
    auto held = co_await hold_user_row(*locker, 7);
    PG_CO_ASSERT(held.has_value());
    auto spent = co_await (*held)->execute_sql("UPDATE users SET balance = 50 WHERE id = 7");
    PG_CO_ASSERT_OK(spent);
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { result = co_await place_accumulator(*pool, 7, acca); },
        asio::detached);
    co_await until_waiting_for_locks(*watcher, pid, 1);
    auto committed = co_await (*held)->execute_sql("COMMIT");
    PG_CO_ASSERT_OK(committed);
    co_await until_answered([&] { return result.has_value(); });
    for (const auto& p : {pool, locker, watcher}) p->close();
  });
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok()) << result->error().detail;
  EXPECT_FALSE((*result)->bet.has_value());
  EXPECT_TRUE((*result)->funds_short) << "judged by the balance of 100000 its snapshot saw";
  EXPECT_FALSE((*result)->duplicate);
  EXPECT_EQ(count("SELECT balance FROM users WHERE id = 7"), 50);
  EXPECT_EQ(count("SELECT count(*) FROM pending_accumulators"), 0);
}

// As for the accumulators: a single bet's statement, and a cart's, report
// the balance they compared under the bettor's row lock, not their
// snapshot's, when a spend committed while they waited for that row.
TEST_F(PlacementBatchTest, ALoneBetAndACartAreFundsShortByTheBalanceTheyWaitedFor) {
  const std::vector<domain::BetItem> single{item(1, Selection::draw, 100)};
  const std::vector<domain::BetItem> cart{item(1, Selection::draw, 100),
                                          item(2, Selection::draw, 100)};
  for (const auto* items : {&single, &cart}) {
    SCOPED_TRACE(items->size() == 1 ? "a single bet" : "a cart");
    ASSERT_EQ(count("UPDATE users SET balance = 100000 WHERE id = 7 RETURNING 1"), 1);
    asio::io_context io;
    auto pool = pool_on(io, 1);
    auto locker = pool_on(io, 1);
    auto watcher = pool_on(io, 1);
    std::optional<Result<domain::Placement>> result;
    pg::testing::run(io, [&]() -> asio::awaitable<void> {
      const std::string pid = std::to_string(co_await backend_pid(*pool));
      auto held = co_await hold_user_row(*locker, 7);
      PG_CO_ASSERT(held.has_value());
      auto spent = co_await (*held)->execute_sql("UPDATE users SET balance = 50 WHERE id = 7");
      PG_CO_ASSERT_OK(spent);
      asio::co_spawn(
          io, [&]() -> asio::awaitable<void> { result = co_await place_bets(*pool, 7, *items); },
          asio::detached);
      co_await until_waiting_for_locks(*watcher, pid, 1);
      auto committed = co_await (*held)->execute_sql("COMMIT");
      PG_CO_ASSERT_OK(committed);
      co_await until_answered([&] { return result.has_value(); });
      for (const auto& p : {pool, locker, watcher}) p->close();
    });
    ASSERT_TRUE(result.has_value());
    ASSERT_TRUE(result->ok()) << result->error().detail;
    EXPECT_FALSE((*result)->placed());
    EXPECT_TRUE((*result)->funds_short) << "judged by the balance of 100000 its snapshot saw";
    EXPECT_EQ(count("SELECT balance FROM users WHERE id = 7"), 50);
    EXPECT_EQ(count("SELECT count(*) FROM bets WHERE user_id = 7"), 0);
  }
}

// A limit lowered while a bet waited for its match's exposure row is the one
// the bet meets: the limit in force is chosen by the clock when the debit is
// decided, not by when the bet's transaction began (before the change).
TEST_F(PlacementBatchTest, ALimitLoweredWhileABetWaitedIsTheOneItMeets) {
  const std::vector<domain::BetItem> bet{item(1, Selection::draw, 500)};
  asio::io_context io;
  auto pool = pool_on(io, 1);
  auto other = pool_on(io, 1);
  auto locker = pool_on(io, 1);
  auto watcher = pool_on(io, 1);
  std::optional<Result<domain::Placement>> result;
  pg::testing::run(io, [&]() -> asio::awaitable<void> {
    const std::string pid = std::to_string(co_await backend_pid(*pool));
    auto held = co_await pg::testing::hold_rows(
        *locker, "SELECT 1 FROM match_exposure WHERE match_id = 1 FOR UPDATE");
    PG_CO_ASSERT(held.has_value());
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { result = co_await place_bets(*pool, 7, bet); },
        asio::detached);
    co_await until_waiting_for_locks(*watcher, pid, 1);
    const domain::UserLimitChange lower{domain::LimitKind::stake, domain::LimitPeriod::day,
                                        domain::Money(100)};
    auto lowered = co_await change_limits(*other, 7, std::span(&lower, 1));
    PG_CO_ASSERT_OK(lowered);
    auto committed = co_await (*held)->execute_sql("COMMIT");
    PG_CO_ASSERT_OK(committed);
    co_await until_answered([&] { return result.has_value(); });
    for (const auto& p : {pool, other, locker, watcher}) p->close();
  });
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok()) << result->error().detail;
  EXPECT_FALSE((*result)->placed()) << "5.00 staked past a day limit of 1.00 set before the debit";
  EXPECT_TRUE((*result)->stake_limit_short);
  EXPECT_EQ(count("SELECT balance FROM users WHERE id = 7"), 100000);
  EXPECT_EQ(count("SELECT count(*) FROM bets WHERE user_id = 7"), 0);
}

// After a settlement whose commit was not confirmed, the service asks who
// bet on the match, but only if it is settled with that result: the bettors
// of singles and of accumulators with a leg on it, once each.
TEST_F(PlacementBatchTest, TheBettorsOfAMatchAreNamedOnlyOnceItIsSettledWithThatResult) {
  using L = std::vector<std::pair<std::int64_t, Selection>>;
  const auto acca = accumulator(L{{1, Selection::home}, {2, Selection::home}}, 100);
  const std::vector<domain::BetItem> single{item(1, Selection::draw, 100)};
  on_pool([&](const std::shared_ptr<pg::Pool>& db) -> asio::awaitable<void> {
    auto placed = co_await place_accumulator(*db, 5, acca);
    PG_CO_ASSERT(placed.ok() && (*placed).bet.has_value());
    auto bet = co_await place_bets(*db, 9, single);
    PG_CO_ASSERT(bet.ok() && bet->placed());
    auto open = co_await bettors_if_settled(*db, 1, domain::MatchResult::home);
    PG_CO_ASSERT_OK(open);
    EXPECT_TRUE(open->empty()) << "named before the match was settled";
    auto settled =
        co_await settle_match(*db, 1, domain::MatchResult::home,
                              domain::plan_settlement(domain::MatchResult::home), std::nullopt);
    PG_CO_ASSERT_OK(settled);
    auto other = co_await bettors_if_settled(*db, 1, domain::MatchResult::away);
    PG_CO_ASSERT_OK(other);
    EXPECT_TRUE(other->empty()) << "named for another result";
    auto named = co_await bettors_if_settled(*db, 1, domain::MatchResult::home);
    PG_CO_ASSERT_OK(named);
    std::vector<std::string> emails = *named;
    std::sort(emails.begin(), emails.end());
    EXPECT_EQ(emails, (std::vector<std::string>{"user4@example.com", "user5@example.com",
                                                "user9@example.com"}));
  });
}

// A settlement locks the bettors it credits statement by statement (the
// singles' winners, then the accumulators'), so a transaction that locks
// them the other way round deadlocks with it. When PostgreSQL aborts the
// settlement, it runs again and settles, rather than failing the operator.
TEST_F(PlacementBatchTest, ASettlementThatMeetsADeadlockRunsAgain) {
  using L = std::vector<std::pair<std::int64_t, Selection>>;
  const auto acca = accumulator(L{{1, Selection::home}, {2, Selection::home}}, 100);
  const std::vector<domain::BetItem> single{item(1, Selection::home, 100)};
  on_pool([&](const std::shared_ptr<pg::Pool>& db) -> asio::awaitable<void> {
    // User 5's accumulator waits for match 1 only; user 9's single wins on it.
    auto placed = co_await place_accumulator(*db, 5, acca);
    PG_CO_ASSERT(placed.ok() && (*placed).bet.has_value());
    auto first_leg =
        co_await settle_match(*db, 2, domain::MatchResult::home,
                              domain::plan_settlement(domain::MatchResult::home), std::nullopt);
    PG_CO_ASSERT_OK(first_leg);
    auto bet = co_await place_bets(*db, 9, single);
    PG_CO_ASSERT(bet.ok() && bet->placed());
  });
  asio::io_context io;
  auto pool = pool_on(io, 1);
  auto locker = pool_on(io, 1);
  auto watcher = pool_on(io, 1);
  std::optional<Result<domain::SettleOutcome>> result;
  bool locker_got_both = false;
  pg::testing::run(io, [&]() -> asio::awaitable<void> {
    const std::string pid = std::to_string(co_await backend_pid(*pool));
    // User 5 held: the settlement credits user 9 (and 4) and waits for 5.
    auto held = co_await hold_user_row(*locker, 5);
    PG_CO_ASSERT(held.has_value());
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          result = co_await settle_match(*pool, 1, domain::MatchResult::home,
                                         domain::plan_settlement(domain::MatchResult::home),
                                         std::nullopt);
        },
        asio::detached);
    co_await until_waiting_for_locks(*watcher, pid, 1);
    // Each waiting backend looks for a deadlock deadlock_timeout after it
    // began to wait, and the one that looks aborts. Waiting first does not
    // settle which looks first on a loaded machine (a full test run once
    // aborted this side): this side looks only long after the settlement.
    auto patient = co_await (*held)->execute_sql("SET LOCAL deadlock_timeout = '60s'");
    PG_CO_ASSERT_OK(patient);
    // Now user 9, which the settlement holds: a cycle. The settlement's
    // deadlock check finds it and aborts it; this lock is then granted, and
    // the settlement's second try waits for this commit.
    auto second = co_await (*held)->execute_sql("SELECT 1 FROM users WHERE id = 9 FOR UPDATE");
    PG_CO_ASSERT_OK(second);
    locker_got_both = true;
    auto committed = co_await (*held)->execute_sql("COMMIT");
    PG_CO_ASSERT_OK(committed);
    co_await until_answered([&] { return result.has_value(); });
    for (const auto& p : {pool, locker, watcher}) p->close();
  });
  ASSERT_TRUE(locker_got_both);
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok()) << result->error().detail;
  EXPECT_TRUE((*result)->settled.changed);
  EXPECT_EQ(count("SELECT count(*) FROM bets WHERE user_id IN (5, 9) AND status = 'won'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM matches WHERE id = 1 AND status = 'settled'"), 1);
  // Each credited once: the first try's credits were rolled back with it.
  EXPECT_EQ(count("SELECT count(*) FROM users u WHERE u.id IN (5, 9) AND u.balance = 100000 - 100 "
                  "+ (SELECT potential_payout FROM bets WHERE user_id = u.id)"),
            2);
}

// A repriced accumulator is priced again and placed again: its refusal does
// not look for a pending duplicate (a look-up its kept plan may answer by
// scanning the table), and says none.
TEST_F(PlacementBatchTest, ARepricedAccumulatorDoesNotLookForADuplicate) {
  using L = std::vector<std::pair<std::int64_t, Selection>>;
  const auto acca = accumulator(L{{1, Selection::home}, {2, Selection::home}}, 100);
  auto stale = acca;
  stale.legs[1].odds = *domain::odds_from_hundredths(999, "odds");
  on_pool([&](const std::shared_ptr<pg::Pool>& db) -> asio::awaitable<void> {
    auto first = co_await place_accumulator(*db, 7, acca);
    PG_CO_ASSERT_OK(first);
    PG_CO_ASSERT(first->bet.has_value());
    auto again = co_await place_accumulator(*db, 7, stale);
    PG_CO_ASSERT_OK(again);
    EXPECT_FALSE(again->bet.has_value());
    EXPECT_EQ(again->leg_problems,
              (std::vector<ItemProblem>{ItemProblem::none, ItemProblem::repriced}));
    EXPECT_FALSE(again->duplicate);
    auto same = co_await place_accumulator(*db, 7, acca);
    PG_CO_ASSERT_OK(same);
    EXPECT_FALSE(same->bet.has_value());
    EXPECT_TRUE(same->duplicate) << "priced, it meets its guard";
  });
  expect_books_balance();
}

// A placement takes its bettor's row FOR NO KEY UPDATE, not FOR UPDATE:
// placements, credits and cash-outs of the bettor still take turns on it, but
// a sign-in adding the bettor's session (KEY SHARE on the row, as any row
// that refers to the bettor takes) does not wait for a placement in flight.
// Each kind of placement is held, after its row locks, by a trigger on its
// ledger insert that waits for an advisory lock the test holds.
TEST_F(PlacementBatchTest, ASignInDoesNotWaitForAPlacementInFlight) {
  ASSERT_EQ(count(R"sql(
CREATE FUNCTION held_by_the_test() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock(7); RETURN NEW; END $$;
CREATE TRIGGER held_by_the_test BEFORE INSERT ON ledger
  FOR EACH ROW EXECUTE FUNCTION held_by_the_test();
UPDATE users SET password_hash = 'pw' WHERE id = 7 RETURNING 1)sql"),
            1);
  using L = std::vector<std::pair<std::int64_t, Selection>>;
  const std::vector<domain::BetItem> single{item(1, Selection::draw, 100)};
  const std::vector<domain::BetItem> batched{item(1, Selection::away, 100)};
  const std::vector<PlacementAsk> batch{{7, batched}};
  const auto acca = accumulator(L{{1, Selection::home}, {2, Selection::home}}, 100);
  const auto batched_acca = accumulator(L{{1, Selection::home}, {2, Selection::draw}}, 100);
  const std::vector<AccumulatorAsk> acca_batch{{7, &batched_acca}};
  struct Kind {
    const char* name;
    std::function<asio::awaitable<bool>(pg::Pool&)> place;  // true when placed
  };
  const std::vector<Kind> kinds{
      {"a lone bet or a cart",
       [&](pg::Pool& db) -> asio::awaitable<bool> {
         auto placed = co_await place_bets(db, 7, single);
         co_return placed.ok() && placed->placed();
       }},
      {"a batch of singles",
       [&](pg::Pool& db) -> asio::awaitable<bool> {
         auto placed = co_await place_batch(db, batch);
         co_return placed.ok() && placed->has_value() && (**placed)[0].placed();
       }},
      {"a lone accumulator",
       [&](pg::Pool& db) -> asio::awaitable<bool> {
         auto placed = co_await place_accumulator(db, 7, acca);
         co_return placed.ok() && placed->bet.has_value();
       }},
      {"a batch of accumulators",
       [&](pg::Pool& db) -> asio::awaitable<bool> {
         auto placed = co_await place_accumulator_batch(db, acca_batch);
         co_return placed.ok() && (*placed)[0].bet.has_value();
       }},
  };
  for (const Kind& kind : kinds) {
    SCOPED_TRACE(kind.name);
    asio::io_context io;
    auto placer = pool_on(io, 1);
    auto signer = pool_on(io, 1);
    auto locker = pool_on(io, 1);
    auto watcher = pool_on(io, 1);
    std::optional<bool> placed;
    std::optional<Result<bool>> signed_in;
    bool answered_while_held = false;
    pg::testing::run(io, [&]() -> asio::awaitable<void> {
      const std::string pid = std::to_string(co_await backend_pid(*placer));
      auto held = co_await pg::testing::hold_rows(*locker, "SELECT pg_advisory_xact_lock(7)");
      PG_CO_ASSERT(held.has_value());
      asio::co_spawn(
          io, [&]() -> asio::awaitable<void> { placed = co_await kind.place(*placer); },
          asio::detached);
      co_await until_waiting_for_locks(*watcher, pid, 1);
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            domain::Account bettor;
            bettor.id = 7;
            const Digest digest = sha256(kind.name);
            const domain::Timestamp expires_at =
                std::chrono::time_point_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now() + std::chrono::hours{24});
            const std::string hash = "pw";
            signed_in = co_await insert_session(*signer, digest, bettor, hash, expires_at);
          },
          asio::detached);
      co_await until_answered([&] { return signed_in.has_value(); });
      answered_while_held = signed_in.has_value() && !placed.has_value();
      auto committed = co_await (*held)->execute_sql("COMMIT");
      PG_CO_ASSERT_OK(committed);
      co_await until_answered([&] { return placed.has_value() && signed_in.has_value(); });
      for (const auto& p : {placer, signer, locker, watcher}) p->close();
    });
    EXPECT_TRUE(answered_while_held) << "the sign-in waited for the placement";
    EXPECT_EQ(placed, std::optional<bool>{true});
    ASSERT_TRUE(signed_in.has_value());
    ASSERT_TRUE(signed_in->ok()) << signed_in->error().detail;
    EXPECT_TRUE(**signed_in);
  }
  EXPECT_EQ(count("SELECT count(*) FROM sessions WHERE user_id = 7"), 4);
  expect_books_balance();
}

}  // namespace
}  // namespace betsdb::store

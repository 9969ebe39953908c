// Cash-outs against a real PostgreSQL: the statement decides each order of a
// batch as it would decide it alone, keeps the books (balances, ledger,
// exposure, accumulator guards) right for several at once, sees a
// settlement that committed while it waited, and the batcher sends
// cash-outs that queue as one statement.
#include "store/pg/cash_out_store.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/accumulator.hpp"
#include "store/pg/accumulator_store.hpp"
#include "store/pg/bet_store.hpp"
#include "store/pg/lock_test_support.hpp"
#include "store/pg/placement_batcher.hpp"
#include "store/pg/pool.hpp"
#include "store/pg/schema_test_support.hpp"

namespace betsdb::store {
namespace {

namespace asio = boost::asio;
using domain::CashOutProblem;
using domain::Selection;

constexpr std::int64_t kStake = 1000;
constexpr std::int64_t kBalance = 100000;

domain::Odds odds_of(std::int64_t hundredths) {
  auto odds = domain::odds_from_hundredths(hundredths, "odds");
  EXPECT_TRUE(odds.ok());
  return *odds;
}

// Every match prices "1" at 2.10, "X" at 3.25, "2" at 3.60.
std::int64_t price(Selection selection) {
  return selection == Selection::home ? 210 : selection == Selection::draw ? 325 : 360;
}

class CashOutStoreTest : public pg::testing::MigratedSchemaTest {
 protected:
  // Users 1-20 with 1,000.00 each; matches 1-3 open. User u has a single of
  // 10.00 on match 1 + (u % 3), on "1" for odd u and "X" for even u; users
  // 17-20 instead an accumulator of 10.00 on matches 1 "1" and 2 "2".
  void SetUp() override {
    MigratedSchemaTest::SetUp();
    if (HasFatalFailure()) return;
    on_pool([](const std::shared_ptr<pg::Pool>& db) -> asio::awaitable<void> {
      auto seeded = co_await db->execute_sql(R"sql(
INSERT INTO users (id, email, name, balance, token_hash)
  SELECT i, 'user' || i || '@example.com', 'User ' || i, 100000, int8send(i)
  FROM generate_series(1, 20) i;
INSERT INTO matches (id, team_1, team_2, starts_at, odds_1, odds_x, odds_2, status)
  SELECT i, 'Home ' || i, 'Away ' || i, now() + interval '1 day', 210, 325, 360, 'open'
  FROM generate_series(1, 3) i;
)sql");
      PG_CO_ASSERT_OK(seeded);
      for (std::int64_t user = 1; user <= 16; ++user) {
        const Selection selection = user % 2 == 1 ? Selection::home : Selection::draw;
        const std::vector<domain::BetItem> items{{1 + user % 3, selection, domain::Money(kStake),
                                                  odds_of(price(selection)),
                                                  domain::Money(kStake * price(selection) / 100)}};
        auto placed = co_await place_bets(*db, user, items);
        PG_CO_ASSERT_OK(placed);
        PG_CO_ASSERT(placed->placed());
      }
      for (std::int64_t user = 17; user <= 20; ++user) {
        domain::AccumulatorItem acca;
        acca.legs = {{1, Selection::home, odds_of(210), 0, domain::BetStatus::pending},
                     {2, Selection::away, odds_of(360), 0, domain::BetStatus::pending}};
        acca.stake = domain::Money(kStake);
        const std::vector<domain::Odds> odds{odds_of(210), odds_of(360)};
        auto priced = domain::price_accumulator(acca.stake, odds);
        PG_CO_ASSERT_OK(priced);
        acca.potential_payout = priced->potential_payout;
        acca.combined_odds_hundredths = priced->combined_odds_hundredths;
        acca.legs_key = domain::legs_key(acca.legs);
        auto placed = co_await place_accumulator(*db, user, acca);
        PG_CO_ASSERT_OK(placed);
        PG_CO_ASSERT(placed->bet.has_value());
      }
    });
  }

  // The order to cash out user `user`'s bet for `amount`, quoted at the
  // current odds versions of its pending legs' matches.
  domain::CashOutOrder order(std::int64_t user, std::int64_t amount) {
    domain::CashOutOrder out{bet_of(user), user, domain::Money(amount), {}};
    on_pool([&](const std::shared_ptr<pg::Pool>& db) -> asio::awaitable<void> {
      auto rows = co_await db->execute_sql(
          "SELECT m.id, m.odds_version FROM bets b LEFT JOIN bet_legs l ON l.bet_id = b.id "
          "JOIN matches m ON m.id = coalesce(l.match_id, b.match_id) WHERE b.id = " +
          std::to_string(out.bet_id) + " ORDER BY m.id");
      PG_CO_ASSERT_OK(rows);
      for (std::size_t i = 0; i < rows->size(); ++i) {
        out.pending_legs.push_back(
            {(*rows)[i].get<std::int64_t>(0), (*rows)[i].get<std::int64_t>(1)});
      }
    });
    return out;
  }

  std::int64_t bet_of(std::int64_t user) {
    return count("SELECT id FROM bets WHERE user_id = " + std::to_string(user));
  }

  // Balances, ledger and exposure agree with the bets as they now are.
  void expect_books_balance() {
    EXPECT_EQ(count("SELECT count(*) FROM users u WHERE u.balance <> 100000 - (SELECT "
                    "coalesce(sum(stake), 0) FROM bets WHERE user_id = u.id) + (SELECT "
                    "coalesce(sum(cash_out_amount), 0) FROM bets WHERE user_id = u.id)"),
              0);
    EXPECT_EQ(count("SELECT count(*) FROM bets b WHERE (b.status = 'cashed_out') <> EXISTS "
                    "(SELECT 1 FROM ledger l WHERE l.bet_id = b.id AND l.kind = 'cash_out' AND "
                    "l.amount = b.cash_out_amount)"),
              0);
    EXPECT_EQ(count("SELECT count(*) FROM ledger l JOIN users u ON u.id = l.user_id WHERE "
                    "l.id = (SELECT max(id) FROM ledger WHERE user_id = u.id) AND "
                    "l.balance_after <> u.balance"),
              0);
    EXPECT_EQ(count("SELECT count(*) FROM match_exposure x WHERE (x.bets, x.stake_1, x.stake_x, "
                    "x.payout_1, x.payout_x) <> (SELECT count(*), coalesce(sum(stake) FILTER "
                    "(WHERE selection = '1'), 0), coalesce(sum(stake) FILTER (WHERE selection = "
                    "'X'), 0), coalesce(sum(potential_payout) FILTER (WHERE selection = '1'), 0), "
                    "coalesce(sum(potential_payout) FILTER (WHERE selection = 'X'), 0) FROM bets "
                    "WHERE match_id = x.match_id AND status = 'pending')"),
              0);
    EXPECT_EQ(count("SELECT count(*) FROM bets b WHERE b.type = 'accumulator' AND "
                    "(b.status = 'pending') <> EXISTS (SELECT 1 FROM pending_accumulators g "
                    "WHERE g.bet_id = b.id)"),
              0);
  }
};

TEST_F(CashOutStoreTest, EachOrderOfABatchIsDecidedAsIfItWereAlone) {
  // Users 1 and 4 hold singles on match 2, so one statement takes two bets
  // out of one exposure row.
  const domain::CashOutOrder settled_before = order(7, 900);
  on_pool([&](const std::shared_ptr<pg::Pool>& db) -> asio::awaitable<void> {
    auto alone = co_await cash_out(*db, settled_before);
    PG_CO_ASSERT_OK(alone);
    EXPECT_EQ(alone->problem, CashOutProblem::none);
  });
  domain::CashOutOrder moved = order(5, 800);
  moved.pending_legs[0].odds_version -= 1;  // quoted before the match's last change
  domain::CashOutOrder someone_elses = order(6, 800);
  someone_elses.user_id = 8;
  const std::vector<domain::CashOutOrder> orders{order(1, 950),  order(4, 1200), order(17, 1500),
                                                 settled_before, moved,          someone_elses,
                                                 order(18, 1400)};
  const std::vector<std::size_t> cashed{0, 1, 2, 6};
  std::vector<const domain::CashOutOrder*> asks;
  for (const auto& o : orders) asks.push_back(&o);
  on_pool([&](const std::shared_ptr<pg::Pool>& db) -> asio::awaitable<void> {
    auto done = co_await cash_out_batch(*db, asks);
    PG_CO_ASSERT_OK(done);
    PG_CO_ASSERT(done->size() == orders.size());
    for (std::size_t i : cashed) {
      const domain::CashedOut& out = (*done)[i];
      EXPECT_EQ(out.problem, CashOutProblem::none) << "order " << i;
      PG_CO_ASSERT(out.bet.has_value());
      EXPECT_EQ(out.bet->id, orders[i].bet_id);
      EXPECT_EQ(out.bet->status, domain::BetStatus::cashed_out);
      EXPECT_EQ(out.bet->cash_out_amount, orders[i].amount);
      EXPECT_TRUE(out.bet->settled_at.has_value());
      EXPECT_EQ(out.balance, domain::Money(kBalance - kStake + orders[i].amount.cents()));
      EXPECT_EQ(out.user_email, "user" + std::to_string(orders[i].user_id) + "@example.com");
    }
    EXPECT_EQ((*done)[2].bet->legs.size(), 2U);
    EXPECT_EQ((*done)[3].problem, CashOutProblem::already_settled);
    EXPECT_EQ((*done)[4].problem, CashOutProblem::odds_changed);
    EXPECT_EQ((*done)[5].problem, CashOutProblem::bet_not_found);
  });
  EXPECT_EQ(count("SELECT count(*) FROM bets WHERE status = 'cashed_out'"), 5);
  EXPECT_EQ(count("SELECT count(*) FROM bets WHERE user_id = 5 AND status = 'pending'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM ledger WHERE kind = 'cash_out'"), 5);
  EXPECT_EQ(count("SELECT balance FROM users WHERE id = 8"), kBalance - kStake);
  EXPECT_EQ(count("SELECT bets FROM match_exposure WHERE match_id = 2"), 3);
  expect_books_balance();
}

TEST_F(CashOutStoreTest, CashOutsThatQueueShareOneStatement) {
  std::vector<domain::CashOutOrder> orders;
  for (std::int64_t user = 9; user <= 20; ++user) orders.push_back(order(user, 500 + user));
  asio::io_context io;
  auto pool = pool_on(io, 4);
  // Pinned far out, so that a slow machine's statement never counts as
  // stalled and lets the queue go beside it.
  auto batcher = std::make_shared<PlacementBatcher>(pool, BatchLinger{}, std::chrono::minutes(1));
  std::vector<Result<domain::CashedOut>> results(orders.size(), Error::internal("not answered"));
  std::size_t answered = 0;
  for (std::size_t i = 0; i < orders.size(); ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          results[i] = co_await batcher->cash_out(orders[i]);
          if (++answered == orders.size()) pool->close();
        },
        asio::detached);
  }
  io.run_for(std::chrono::seconds(30));
  ASSERT_EQ(answered, orders.size());
  for (std::size_t i = 0; i < orders.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].error().detail;
    EXPECT_EQ(results[i]->problem, CashOutProblem::none) << "order " << i;
    EXPECT_EQ(results[i]->balance, domain::Money(kBalance - kStake + orders[i].amount.cents()));
  }
  // The first alone, the eleven that queued behind it in one statement.
  const PlacementBatchCounters& counters = batcher->counters();
  EXPECT_EQ(counters.batches[0], 1U);
  EXPECT_EQ(counters.batches[batch_size_bucket(orders.size() - 1)], 1U);
  EXPECT_EQ(counters.asks, orders.size());
  EXPECT_EQ(counters.retried_alone, 0U);
  EXPECT_EQ(count("SELECT count(*) FROM bets WHERE status = 'cashed_out'"), 12);
  EXPECT_EQ(count("SELECT count(*) FROM pending_accumulators"), 0);
  expect_books_balance();
}

// A settlement of match 2 (result "2") that has closed the match and settled
// its bets, and not yet committed, when a batch cashes out a single on it, an
// accumulator with a leg on it, and a single elsewhere. The statement waits
// for the match's row and, once the settlement commits, judges by what it
// committed (not by the statement's older snapshot): the single lost, the
// accumulator's leg settled, and only the third is cashed out.
TEST_F(CashOutStoreTest, ABatchThatWaitsForASettlementJudgesByItsOutcome) {
  const std::vector<domain::CashOutOrder> orders{order(1, 900), order(17, 1500), order(2, 800)};
  std::vector<const domain::CashOutOrder*> asks;
  for (const auto& o : orders) asks.push_back(&o);
  asio::io_context io;
  auto pool = pool_on(io, 1);
  auto settler = pool_on(io, 1);
  auto watcher = pool_on(io, 1);
  std::optional<Result<std::vector<domain::CashedOut>>> done;
  pg::testing::run(io, [&]() -> asio::awaitable<void> {
    const std::string pid = std::to_string(co_await pg::testing::backend_pid(*pool));
    auto settling = co_await pg::testing::hold_rows(*settler, R"sql(
UPDATE matches SET status = 'settled', result = '2', settled_at = now() WHERE id = 2;
UPDATE bets SET status = 'lost', settled_at = now() WHERE match_id = 2 AND status = 'pending';
UPDATE bet_legs SET status = 'won' WHERE match_id = 2 AND status = 'pending')sql");
    PG_CO_ASSERT(settling.has_value());
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { done = co_await cash_out_batch(*pool, asks); },
        asio::detached);
    co_await pg::testing::until_waiting_for_locks(*watcher, pid, 1);
    auto committed = co_await (*settling)->execute_sql("COMMIT");
    PG_CO_ASSERT_OK(committed);
    co_await pg::testing::until_answered([&] { return done; });
    for (const auto& p : {pool, settler, watcher}) p->close();
  });
  ASSERT_TRUE(done.has_value());
  ASSERT_TRUE(done->ok()) << done->error().detail;
  const std::vector<domain::CashedOut>& out = **done;
  ASSERT_EQ(out.size(), 3U);
  EXPECT_EQ(out[0].problem, CashOutProblem::already_settled);
  EXPECT_EQ(out[1].problem, CashOutProblem::odds_changed);
  EXPECT_EQ(out[2].problem, CashOutProblem::none);
  EXPECT_EQ(count("SELECT count(*) FROM bets WHERE status = 'cashed_out'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM ledger WHERE kind = 'cash_out'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM pending_accumulators"), 4);
}

}  // namespace
}  // namespace betsdb::store

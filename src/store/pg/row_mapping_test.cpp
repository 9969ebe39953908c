#include "store/pg/row_mapping.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "store/pg/bet_queries.hpp"
#include "store/pg/bet_store.hpp"
#include "store/pg/match_lookup.hpp"
#include "store/pg/match_store.hpp"
#include "store/pg/migrations.hpp"
#include "store/pg/pool.hpp"
#include "store/pg/test_support.hpp"
#include "store/pg/user_store.hpp"

namespace betsdb::store {
namespace {

namespace asio = boost::asio;
using pg::testing::DatabaseTest;

// Sends spdlog's default logger to a string for the life of the object.
class LogCapture final {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", std::move(sink)));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  int count(std::string_view needle) const {
    const std::string text = out_.str();
    int n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

// Rows written as SQL literals in the column order of the BETSDB_*_COLUMNS.
std::string match_row(std::string_view odds_x, std::string_view status, std::string_view result) {
  return "SELECT 7::bigint, 'Home'::text, 'Away'::text, 1700000000000000::bigint, 210::bigint, " +
         std::string(odds_x) + "::bigint, 360::bigint, " + std::string(status) + "::text, " +
         std::string(result) +
         "::text, 1600000000000000::bigint, 4::integer, 5000::bigint, NULL::bigint, "
         "'Premier League 2025/26'::text";
}
std::string bet_row(std::string_view selection, std::string_view odds, std::string_view status) {
  return "SELECT 'prefix'::text, 9::bigint, 3::bigint, 7::bigint, " + std::string(selection) +
         "::text, 500::bigint, " + std::string(odds) + "::bigint, 1050::bigint, " +
         std::string(status) + "::text, 1600000000000000::bigint, NULL::bigint, 3::integer, " +
         "'single'::text, NULL::bigint, NULL::bigint, NULL::text";
}
std::string ledger_row(std::string_view kind) {
  return "SELECT 11::bigint, " + std::string(kind) +
         "::text, -500::bigint, 9::bigint, 1500::bigint, 1600000000000000::bigint";
}

class RowMappingTest : public DatabaseTest {
 protected:
  // Runs `check` on the single row `sql` returns.
  template <class Check>
  void with_row(const std::string& sql, Check check) {
    asio::io_context io;
    pg::PoolConfig config;
    config.conninfo = url_;
    config.size = 1;
    auto pool = pg::Pool::create(io.get_executor(), config);
    pg::testing::run(io, [&]() -> asio::awaitable<void> {
      auto rows = co_await pool->execute_sql(sql);
      PG_CO_ASSERT_OK(rows);
      PG_CO_ASSERT(rows->size() == 1);
      check((*rows)[0]);
      pool->close();
    });
  }
};

// The error a refused row must carry: internal, naming the column and the value.
void expect_refused(const Error& error, std::string_view column, std::string_view value) {
  EXPECT_EQ(error.code, Errc::internal);
  EXPECT_NE(error.detail.find(column), std::string::npos) << error.detail;
  EXPECT_NE(error.detail.find(value), std::string::npos) << error.detail;
}

TEST_F(RowMappingTest, KnownValuesMap) {
  with_row(match_row("NULL", "'settled'", "'X'"), [](const pg::Row& row) {
    auto match = match_from_row(row);
    ASSERT_TRUE(match.ok()) << match.error().detail;
    EXPECT_EQ(match->id, 7);
    EXPECT_EQ(match->status, domain::MatchStatus::settled);
    EXPECT_EQ(match->result, domain::MatchResult::draw);
    EXPECT_EQ(match->odds.get(domain::Selection::home)->hundredths(), 210);
    EXPECT_FALSE(match->odds.offered(domain::Selection::draw));  // NULL: not offered
    EXPECT_EQ(match->odds_version, 4);
    EXPECT_EQ(match->limits.max_stake, domain::Money(5000));
    EXPECT_EQ(match->limits.max_liability, std::nullopt);
    EXPECT_EQ(match->competition, "Premier League 2025/26");
  });
  with_row(bet_row("'X'", "210", "'won'"), [](const pg::Row& row) {
    auto bet = bet_from_row(row, 1);
    ASSERT_TRUE(bet.ok()) << bet.error().detail;
    EXPECT_EQ(bet->id, 9);
    EXPECT_EQ(bet->selection, domain::Selection::draw);
    EXPECT_EQ(bet->odds.hundredths(), 210);
    EXPECT_EQ(bet->odds_version, 3);
    EXPECT_EQ(bet->status, domain::BetStatus::won);
  });
  with_row(ledger_row("'refund'"), [](const pg::Row& row) {
    auto entry = ledger_entry_from_row(row);
    ASSERT_TRUE(entry.ok()) << entry.error().detail;
    EXPECT_EQ(entry->kind, domain::LedgerKind::refund);
  });
}

TEST_F(RowMappingTest, AnAccumulatorMapsItsLegsInOrder) {
  auto acca_row = [](std::string_view legs) {
    return "SELECT 'prefix'::text, 9::bigint, 3::bigint, NULL::bigint, NULL::text, 500::bigint, "
           "NULL::bigint, 4375::bigint, 'cashed_out'::text, 1600000000000000::bigint, "
           "NULL::bigint, NULL::integer, 'accumulator'::text, 875::bigint, 420::bigint, '" +
           std::string(legs) + "'::text";
  };
  with_row(acca_row("15:X:250:2:won,12:1:350:7:pending"), [](const pg::Row& r) {
    auto bet = bet_from_row(r, 1);
    ASSERT_TRUE(bet.ok()) << bet.error().detail;
    EXPECT_EQ(bet->type, domain::BetType::accumulator);
    EXPECT_EQ(bet->combined_odds_hundredths, 875);
    EXPECT_EQ(bet->status, domain::BetStatus::cashed_out);
    EXPECT_EQ(bet->cash_out_amount, domain::Money(420));
    ASSERT_EQ(bet->legs.size(), 2u);
    EXPECT_EQ(bet->legs[0].match_id, 15);
    EXPECT_EQ(bet->legs[0].selection, domain::Selection::draw);
    EXPECT_EQ(bet->legs[0].odds.hundredths(), 250);
    EXPECT_EQ(bet->legs[0].odds_version, 2);
    EXPECT_EQ(bet->legs[0].status, domain::BetStatus::won);
    EXPECT_EQ(bet->legs[1].match_id, 12);
    EXPECT_EQ(bet->legs[1].status, domain::BetStatus::pending);
  });
  for (const char* bad : {"15:X:250:2", "15:X:250:2:maybe", "15:X:100:2:won", "x:X:250:2:won"}) {
    with_row(acca_row(bad),
             [&](const pg::Row& r) { EXPECT_FALSE(bet_from_row(r, 1).ok()) << bad; });
  }
}

TEST_F(RowMappingTest, UnknownMatchStatusIsAnErrorLoggedOnce) {
  LogCapture log;
  with_row(match_row("325", "'bogus'", "NULL"), [](const pg::Row& row) {
    auto match = match_from_row(row);
    ASSERT_FALSE(match.ok()) << "mapped to status " << domain::to_string(match->status);
    expect_refused(match.error(), "matches.status", "'bogus'");
    EXPECT_NE(match.error().detail.find("id 7"), std::string::npos) << match.error().detail;
  });
  EXPECT_EQ(log.count("matches.status"), 1);
}

TEST_F(RowMappingTest, UnknownMatchResultIsAnError) {
  with_row(match_row("325", "'settled'", "'draw'"), [](const pg::Row& row) {
    auto match = match_from_row(row);
    ASSERT_FALSE(match.ok());
    expect_refused(match.error(), "matches.result", "'draw'");
  });
}

TEST_F(RowMappingTest, MatchOddsOutOfRangeAreAnError) {
  for (const char* odds : {"100", "100001", "0", "-210"}) {
    with_row(match_row(odds, "'open'", "NULL"), [&](const pg::Row& row) {
      auto match = match_from_row(row);
      ASSERT_FALSE(match.ok()) << odds << " read as a withdrawn selection";
      // Appended, not "'" + std::string(odds): g++ 12 warns of a bogus
      // overflow (-Wstringop-overflow) in the inlined operator+.
      expect_refused(match.error(), "matches.odds_x", std::string("'").append(odds).append("'"));
    });
  }
}

TEST_F(RowMappingTest, UnknownBetSelectionIsAnError) {
  with_row(bet_row("'x'", "210", "'pending'"), [](const pg::Row& row) {
    auto bet = bet_from_row(row, 1);
    ASSERT_FALSE(bet.ok());
    expect_refused(bet.error(), "bets.selection", "'x'");
  });
}

TEST_F(RowMappingTest, UnknownBetStatusIsAnError) {
  with_row(bet_row("'1'", "210", "'cancelled'"), [](const pg::Row& row) {
    auto bet = bet_from_row(row, 1);
    ASSERT_FALSE(bet.ok());
    expect_refused(bet.error(), "bets.status", "'cancelled'");
  });
}

TEST_F(RowMappingTest, MalformedBetOddsAreAnError) {
  with_row(bet_row("'1'", "100", "'pending'"), [](const pg::Row& row) {
    auto bet = bet_from_row(row, 1);
    ASSERT_FALSE(bet.ok()) << "read as " << bet->odds.to_string();
    expect_refused(bet.error(), "bets.odds", "'100'");
  });
  with_row(bet_row("'1'", "NULL", "'pending'"), [](const pg::Row& row) {
    auto bet = bet_from_row(row, 1);
    ASSERT_FALSE(bet.ok()) << "read as " << bet->odds.to_string();
    expect_refused(bet.error(), "bets.odds", "NULL");
  });
}

TEST_F(RowMappingTest, UnknownLedgerKindIsAnError) {
  with_row(ledger_row("'bonus'"), [](const pg::Row& row) {
    auto entry = ledger_entry_from_row(row);
    ASSERT_FALSE(entry.ok());
    expect_refused(entry.error(), "ledger.kind", "'bonus'");
  });
}

TEST_F(RowMappingTest, ALongBadValueIsShortenedInTheError) {
  with_row(ledger_row("repeat('k', 1000)"), [](const pg::Row& row) {
    auto entry = ledger_entry_from_row(row);
    ASSERT_FALSE(entry.ok());
    EXPECT_LT(entry.error().detail.size(), 200u) << entry.error().detail;
  });
}

// The stores over a schema whose CHECK constraints are gone, holding rows
// the domain does not know: every read of such a row fails.
class StoreRowsTest : public DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    schema_url_ = pg::testing::with_search_path(url_, create_schema());
    on_pool([](pg::Pool& db) -> asio::awaitable<void> {
      auto applied = co_await pg::migrate(db, pg::embedded_migrations());
      PG_CO_ASSERT_OK(applied);
      auto seeded = co_await db.execute_sql(R"sql(
ALTER TABLE matches DROP CONSTRAINT matches_status_check,
                    DROP CONSTRAINT matches_settled_has_result,
                    DROP CONSTRAINT matches_odds_range;
ALTER TABLE bets DROP CONSTRAINT bets_selection_check,
                 DROP CONSTRAINT bets_status_check,
                 DROP CONSTRAINT bets_odds_range;
ALTER TABLE ledger DROP CONSTRAINT ledger_kind_check;
INSERT INTO users (id, email, name, balance, token_hash)
  VALUES (1, 'ann@example.com', 'Ann', 100000, '\x01'::bytea);
INSERT INTO matches (id, team_1, team_2, starts_at, odds_1, status)
  VALUES (1, 'Bogus', 'Status', now() + interval '1 day', 210, 'postponed'),
         (2, 'Low', 'Odds', now() + interval '1 day', 100, 'open');
INSERT INTO bets (user_id, match_id, selection, stake, odds, potential_payout, status)
  VALUES (1, 1, '1', 500, 210, 1050, 'cancelled');  -- id 1: the schema is new
INSERT INTO ledger (user_id, kind, amount, balance_after) VALUES (1, 'bonus', 100000, 100000);
)sql");
      PG_CO_ASSERT_OK(seeded);
    });
  }

  // Runs body(pool) on a pool of its own over the test's schema.
  template <class Body>
  void on_pool(Body body) {
    asio::io_context io;
    pg::PoolConfig config;
    config.conninfo = schema_url_;
    config.size = 1;
    auto pool = pg::Pool::create(io.get_executor(), config);
    pg::testing::run(io, [&]() -> asio::awaitable<void> {
      co_await body(*pool);
      pool->close();
    });
  }

  // Runs the store call `call` and checks that it failed as a refused row.
  template <class Call>
  void expect_refused_by_store(Call call, std::string_view column, std::string_view value) {
    on_pool([&](pg::Pool& db) -> asio::awaitable<void> {
      auto result = co_await call(db);
      PG_CO_ASSERT(!result.ok());
      expect_refused(result.error(), column, value);
    });
  }

  std::string schema_url_;
};

TEST_F(StoreRowsTest, MatchReadsFail) {
  expect_refused_by_store([](pg::Pool& db) { return find_match(db, 1); }, "matches.status",
                          "'postponed'");
  // The store coroutines hold their arguments by reference: they must outlive the call.
  const domain::MatchFilter all_matches;
  expect_refused_by_store([&](pg::Pool& db) { return list_matches(db, all_matches, {}); },
                          "matches.status", "'postponed'");
  const std::int64_t ids[] = {1};
  expect_refused_by_store([&](pg::Pool& db) { return find_matches(db, ids); }, "matches.status",
                          "'postponed'");
  expect_refused_by_store([](pg::Pool& db) { return find_match(db, 2); }, "matches.odds_1",
                          "'100'");
}

TEST_F(StoreRowsTest, ChangingOddsFailsOnTheReturnedRow) {
  domain::MatchChange change;
  change.odds.touched[2] = true;  // withdraws "2" (not offered anyway); odds_1 stays 1.00
  expect_refused_by_store([&](pg::Pool& db) { return change_match_unless_settled(db, 2, change); },
                          "matches.odds_1", "'100'");
}

TEST_F(StoreRowsTest, BetReadsFail) {
  expect_refused_by_store([](pg::Pool& db) { return find_bet(db, 1); }, "bets.status",
                          "'cancelled'");
  const domain::BetFilter all_bets;
  expect_refused_by_store([&](pg::Pool& db) { return list_bets(db, all_bets, {}); }, "bets.status",
                          "'cancelled'");
  domain::BetFilter mine;
  mine.user_id = 1;
  expect_refused_by_store([&](pg::Pool& db) { return list_bets(db, mine, {}); }, "bets.status",
                          "'cancelled'");
  expect_refused_by_store([](pg::Pool& db) { return bet_summary(db); }, "bets.status",
                          "'cancelled'");
}

TEST_F(StoreRowsTest, LedgerReadsFail) {
  expect_refused_by_store([](pg::Pool& db) { return list_ledger(db, 1, {}); }, "ledger.kind",
                          "'bonus'");
}

// Placement never reads odds back: it takes the odds the domain priced the
// item at, and places nothing unless the match offers exactly those; a match
// whose stored odds the domain refuses can only be "repriced" (and the
// service's read of it again fails, as MatchReadsFail shows).
TEST_F(StoreRowsTest, PlacingOnMalformedOddsPlacesNothing) {
  const auto odds = domain::odds_from_hundredths(210, "odds");
  ASSERT_TRUE(odds.ok());
  const domain::BetItem item{2, domain::Selection::home, domain::Money(100), *odds,
                             domain::Money(210)};
  on_pool([&](pg::Pool& db) -> asio::awaitable<void> {
    auto placement = co_await place_bets(db, 1, std::span<const domain::BetItem>(&item, 1));
    PG_CO_ASSERT_OK(placement);
    EXPECT_FALSE(placement->placed());
    EXPECT_EQ(placement->problems, std::vector<domain::ItemProblem>{domain::ItemProblem::repriced});
    auto bets = co_await db.execute_sql("SELECT count(*) FROM bets WHERE match_id = 2");
    PG_CO_ASSERT_OK(bets);
    EXPECT_EQ((*bets)[0].get<std::int64_t>(0), 0);
  });
}

TEST_F(StoreRowsTest, SettlingFailsAndLeavesTheMatchOpen) {
  expect_refused_by_store(
      [](pg::Pool& db) {
        static const auto plan = domain::plan_settlement(domain::MatchResult::away);
        return settle_match(db, 2, domain::MatchResult::away, plan, std::nullopt);
      },
      "matches.odds_1", "'100'");
  on_pool([](pg::Pool& db) -> asio::awaitable<void> {
    auto rows = co_await db.execute_sql("SELECT status FROM matches WHERE id = 2");
    PG_CO_ASSERT_OK(rows);
    EXPECT_EQ((*rows)[0].get<std::string>(0), "open");
  });
}

}  // namespace
}  // namespace betsdb::store

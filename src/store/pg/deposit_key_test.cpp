// store::deposit under an Idempotency-Key, against a migrated schema: one
// deposit per key and user, whatever retries or races, and only a made
// deposit keeps its key.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>

#include "store/pg/lock_test_support.hpp"
#include "store/pg/schema_test_support.hpp"
#include "store/pg/user_store.hpp"
#include "util/token.hpp"

namespace betsdb::store {
namespace {

namespace asio = boost::asio;

class DepositKeyTest : public pg::testing::MigratedSchemaTest {
 protected:
  void SetUp() override {
    MigratedSchemaTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_EQ(count("INSERT INTO users (id, email, name, balance, token_hash) VALUES "
                    "(1, 'ann@example.com', 'Ann', 0, sha256('ann')), "
                    "(2, 'bob@example.com', 'Bob', 0, sha256('bob')) RETURNING 1"),
              1);
  }

  domain::DepositOutcome deposit_as(std::int64_t user, std::int64_t cents,
                                    const std::optional<std::string>& key) {
    domain::DepositOutcome out;
    on_pool([&](const std::shared_ptr<pg::Pool>& db) -> asio::awaitable<void> {
      auto done = co_await deposit_on(*db, user, cents, key);
      PG_CO_ASSERT_OK(done);
      out = *done;
    });
    return out;
  }

  static asio::awaitable<Result<domain::DepositOutcome>> deposit_on(
      pg::Pool& db, std::int64_t user, std::int64_t cents, std::optional<std::string> key) {
    std::optional<Digest> digest;
    if (key) digest = sha256(*key);
    const domain::Actor actor{"owner", "req-1"};
    co_return co_await deposit(db, user, domain::Money(cents), digest, actor);
  }

  std::int64_t balance(std::int64_t user) {
    return count("SELECT balance FROM users WHERE id = " + std::to_string(user));
  }
  std::int64_t deposits(std::int64_t user) {
    return count("SELECT count(*) FROM ledger WHERE kind = 'deposit' AND user_id = " +
                 std::to_string(user));
  }
};

TEST_F(DepositKeyTest, AKeyMakesOneDepositAndItsRetryNamesIt) {
  const auto first = deposit_as(1, 1000, "key-1");
  ASSERT_TRUE(first.deposit.has_value());
  EXPECT_FALSE(first.earlier.has_value());

  const auto again = deposit_as(1, 1000, "key-1");
  EXPECT_FALSE(again.deposit.has_value());
  ASSERT_TRUE(again.earlier.has_value());
  EXPECT_EQ(again.earlier->entry.id, first.deposit->entry.id);
  EXPECT_EQ(again.earlier->balance, first.deposit->balance);
  EXPECT_EQ(balance(1), 1000);
  EXPECT_EQ(deposits(1), 1);
  EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action = 'user.deposit'"), 1);

  // Another amount under the key: still the first deposit (the service
  // refuses the mismatch), nothing credited.
  const auto other_amount = deposit_as(1, 5000, "key-1");
  ASSERT_TRUE(other_amount.earlier.has_value());
  EXPECT_EQ(other_amount.earlier->entry.amount, 1000);
  EXPECT_EQ(balance(1), 1000);

  // Without a key, or with another: deposits as ever.
  EXPECT_TRUE(deposit_as(1, 10, std::nullopt).deposit.has_value());
  EXPECT_TRUE(deposit_as(1, 10, std::nullopt).deposit.has_value());
  EXPECT_TRUE(deposit_as(1, 10, "key-2").deposit.has_value());
  EXPECT_EQ(balance(1), 1030);
}

TEST_F(DepositKeyTest, KeysArePerUser) {
  EXPECT_TRUE(deposit_as(1, 100, "shared").deposit.has_value());
  EXPECT_TRUE(deposit_as(2, 200, "shared").deposit.has_value());
  EXPECT_EQ(balance(1), 100);
  EXPECT_EQ(balance(2), 200);
}

// A refusal keeps no key: the deposit may be asked again, under the same
// key, once the reason has gone.
TEST_F(DepositKeyTest, ARefusedDepositKeepsNoKey) {
  ASSERT_EQ(count("UPDATE users SET timeout_until = now() + interval '1 day' WHERE id = 1 "
                  "RETURNING 1"),
            1);
  const auto refused = deposit_as(1, 1000, "key-1");
  EXPECT_FALSE(refused.deposit.has_value());
  EXPECT_FALSE(refused.earlier.has_value());
  EXPECT_TRUE(refused.paused_until.has_value());
  EXPECT_EQ(count("SELECT count(*) FROM deposit_keys"), 0);

  ASSERT_EQ(count("UPDATE users SET timeout_until = NULL WHERE id = 1 RETURNING 1"), 1);
  EXPECT_TRUE(deposit_as(1, 1000, "key-1").deposit.has_value());
  EXPECT_EQ(balance(1), 1000);

  // An unknown user: nothing, and no key.
  const auto nobody = deposit_as(99, 1000, "key-1");
  EXPECT_FALSE(nobody.user_found);
  EXPECT_FALSE(nobody.earlier.has_value());
}

// Two deposits under one key, both started before either could see the
// other's key: they wait for the user's row, held here (ordered by a row
// lock, not timing). One credits; the other names it.
class DepositKeyRaceTest : public DepositKeyTest {
 protected:
  void race_two_deposits() {
    asio::io_context io;
    auto first_pool = pool_on(io, 1);
    auto second_pool = pool_on(io, 1);
    auto locker = pool_on(io, 1);
    auto watcher = pool_on(io, 1);
    std::optional<Result<domain::DepositOutcome>> first, second;
    pg::testing::run(io, [&]() -> asio::awaitable<void> {
      const std::string pids = std::to_string(co_await pg::testing::backend_pid(*first_pool)) +
                               "," +
                               std::to_string(co_await pg::testing::backend_pid(*second_pool));
      auto held = co_await pg::testing::hold_user_row(*locker, 1);
      PG_CO_ASSERT(held.has_value());
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            first = co_await deposit_on(*first_pool, 1, 1000, "raced");
          },
          asio::detached);
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            second = co_await deposit_on(*second_pool, 1, 1000, "raced");
          },
          asio::detached);
      co_await pg::testing::until_waiting_for_locks(*watcher, pids, 2);
      auto committed = co_await (*held)->execute_sql("COMMIT");
      PG_CO_ASSERT_OK(committed);
      co_await pg::testing::until_answered([&] { return first.has_value() && second.has_value(); });
      for (const auto& p : {first_pool, second_pool, locker, watcher}) p->close();
    });
    ASSERT_TRUE(first.has_value() && second.has_value());
    ASSERT_TRUE(first->ok()) << first->error().detail;
    ASSERT_TRUE(second->ok()) << second->error().detail;
    const auto& a = **first;
    const auto& b = **second;
    EXPECT_NE(a.deposit.has_value(), b.deposit.has_value()) << "exactly one deposit is made";
    const auto& made = a.deposit ? a : b;
    const auto& named = a.deposit ? b : a;
    ASSERT_TRUE(named.earlier.has_value()) << "the other is refused instead of naming it";
    EXPECT_EQ(named.earlier->entry.id, made.deposit->entry.id);
    EXPECT_FALSE(named.limit_short);
    EXPECT_EQ(balance(1), 1000);
    EXPECT_EQ(deposits(1), 1);
  }
};

// The later one meets the key's unique index when the first commits.
TEST_F(DepositKeyRaceTest, TwoDepositsRacingUnderOneKeyCreditOnce) {
  race_two_deposits();
}

// With a deposit limit the first deposit reaches, the later one's re-check
// of the user's row refuses it (the limit) before it reaches the key: it
// still names the first, and is not reported refused by the limit.
TEST_F(DepositKeyRaceTest, ARacingDepositThatMeetsALimitTheFirstReachedNamesTheFirst) {
  ASSERT_EQ(count("INSERT INTO user_limits (user_id, kind, period, effective_at, amount) "
                  "VALUES (1, 'deposit', 'day', now() - interval '1 hour', 1000) RETURNING 1"),
            1);
  ASSERT_EQ(count("UPDATE users SET limits_set = true WHERE id = 1 RETURNING 1"), 1);
  race_two_deposits();
}

}  // namespace
}  // namespace betsdb::store

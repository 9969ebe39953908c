// store::change_password and the password condition of insert_session,
// against a migrated schema: which sessions end, which are named to be
// marked, and when nothing changes.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "store/pg/account_store.hpp"
#include "store/pg/lock_test_support.hpp"
#include "store/pg/schema_test_support.hpp"

namespace betsdb::store {
namespace {

namespace asio = boost::asio;

class PasswordChangeTest : public pg::testing::MigratedSchemaTest {
 protected:
  void SetUp() override {
    MigratedSchemaTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    sql("INSERT INTO users (id, email, name, balance, token_hash, password_hash) VALUES "
        "(1, 'ann@example.com', 'Ann', 0, sha256('ann'), 'old'), "
        "(2, 'bob@example.com', 'Bob', 0, sha256('bob'), 'bobs')");
    sql("INSERT INTO operators (id, email, role, password_hash) "
        "VALUES (3, 'tess@example.com', 'trader', 'old')");
    add_session("here", "user_id", 1, "NULL");
    add_session("elsewhere", "user_id", 1, "NULL");
    add_session("ended_recently", "user_id", 1, "now() - interval '10 minutes'");
    add_session("ended_long_ago", "user_id", 1, "now() - interval '2 hours'");
    add_session("bobs_session", "user_id", 2, "NULL");
    add_session("tess_phone", "operator_id", 3, "NULL");
    add_session("tess_laptop", "operator_id", 3, "NULL");
  }

  void sql(const std::string& text) {
    on_pool([&](const std::shared_ptr<pg::Pool>& db) -> boost::asio::awaitable<void> {
      auto done = co_await db->execute_sql(text);
      PG_CO_ASSERT_OK(done);
    });
  }
  void add_session(const std::string& name, const std::string& owner, int id,
                   const std::string& revoked_at) {
    sql("INSERT INTO sessions (token_hash, " + owner +
        ", expires_at, revoked_at) VALUES (sha256('" + name + "'), " + std::to_string(id) +
        ", now() + interval '30 days', " + revoked_at + ")");
  }
  bool live(const std::string& name) {
    return count(
               "SELECT count(*) FROM sessions WHERE revoked_at IS NULL AND token_hash = sha256('" +
               name + "')") == 1;
  }
  std::int64_t hash_is(const std::string& table, int id, const std::string& hash) {
    return count("SELECT count(*) FROM " + table + " WHERE id = " + std::to_string(id) +
                 " AND password_hash = '" + hash + "'");
  }

  // The digests named to be marked; nullopt when nothing changed.
  std::optional<std::vector<Digest>> change(domain::PasswordChange change) {
    std::optional<std::vector<Digest>> out;
    on_pool([&](const std::shared_ptr<pg::Pool>& db) -> boost::asio::awaitable<void> {
      // Named: g++ 12 destroys temporaries in a co_await expression twice.
      const domain::Actor actor{"owner", "req-7"};
      const std::chrono::seconds recent = std::chrono::hours{1};
      auto done = co_await change_password(*db, change, actor, recent);
      PG_CO_ASSERT_OK(done);
      out = *done;
    });
    return out;
  }
  static domain::PasswordChange anns(std::optional<std::string> expected) {
    domain::PasswordChange change;
    change.account.id = 1;
    change.new_hash = "new";
    change.expected_hash = std::move(expected);
    change.kept_session = sha256("here");
    return change;
  }
  static bool names(const std::vector<Digest>& digests, std::string_view token) {
    return std::find(digests.begin(), digests.end(), sha256(token)) != digests.end();
  }
  static domain::Timestamp tomorrow() {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now() + std::chrono::hours{24});
  }
  bool inserted(const std::string& token, domain::Account account, const std::string& hash) {
    bool out = false;
    on_pool([&](const std::shared_ptr<pg::Pool>& db) -> boost::asio::awaitable<void> {
      const Digest digest = sha256(token);
      const domain::Timestamp expires_at = tomorrow();
      auto done = co_await insert_session(*db, digest, account, hash, expires_at);
      PG_CO_ASSERT_OK(done);
      out = *done;
    });
    return out;
  }
};

TEST_F(PasswordChangeTest, EndsTheOtherSessionsAndNamesThemWithThoseEndedRecently) {
  auto ended = change(anns("old"));
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(hash_is("users", 1, "new"), 1);
  EXPECT_TRUE(live("here"));
  EXPECT_FALSE(live("elsewhere"));
  EXPECT_TRUE(live("bobs_session"));
  EXPECT_TRUE(live("tess_phone"));
  EXPECT_EQ(ended->size(), 3u);
  EXPECT_TRUE(names(*ended, "elsewhere"));
  EXPECT_TRUE(names(*ended, "ended_recently"));  // a retry marks it again
  EXPECT_TRUE(names(*ended, "ann"));             // the sign-up token ends too
  EXPECT_EQ(count("SELECT count(*) FROM users WHERE id = 1 AND token_revoked_at IS NOT NULL"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM users WHERE id = 2 AND token_revoked_at IS NULL"), 1);
  EXPECT_FALSE(names(*ended, "ended_long_ago"));
  EXPECT_FALSE(names(*ended, "here"));
}

TEST_F(PasswordChangeTest, TheSignUpTokenThatAsksForTheChangeStays) {
  auto asked_with_it = anns("old");
  asked_with_it.kept_session = sha256("ann");
  auto ended = change(asked_with_it);
  ASSERT_TRUE(ended.has_value());
  EXPECT_FALSE(names(*ended, "ann"));
  EXPECT_TRUE(names(*ended, "here"));
  EXPECT_EQ(count("SELECT count(*) FROM users WHERE id = 1 AND token_revoked_at IS NULL"), 1);
}

TEST_F(PasswordChangeTest, AHashNoLongerOnFileChangesNothing) {
  EXPECT_FALSE(change(anns("stale")).has_value());
  EXPECT_EQ(hash_is("users", 1, "old"), 1);
  EXPECT_TRUE(live("elsewhere"));
}

TEST_F(PasswordChangeTest, AFirstPasswordIsSetWhereNoneWasOnFile) {
  sql("UPDATE users SET password_hash = NULL WHERE id = 1");
  EXPECT_TRUE(change(anns("")).has_value());
  EXPECT_EQ(hash_is("users", 1, "new"), 1);
}

TEST_F(PasswordChangeTest, AnAdminsResetOfAnOperatorEndsEverySessionAndIsAudited) {
  domain::PasswordChange reset;
  reset.account.kind = domain::Account::Kind::operator_account;
  reset.account.id = 3;
  reset.new_hash = "reset";
  auto ended = change(reset);
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(ended->size(), 2u);
  EXPECT_FALSE(live("tess_phone"));
  EXPECT_FALSE(live("tess_laptop"));
  EXPECT_TRUE(live("here"));
  EXPECT_EQ(hash_is("operators", 3, "reset"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action = 'operator.password' AND "
                  "target = 'operator:3' AND actor = 'owner' AND request_id = 'req-7' AND "
                  "details = '{}'::jsonb"),
            1);
}

TEST_F(PasswordChangeTest, AnUnknownAccountChangesNothing) {
  auto change_of_nobody = anns(std::nullopt);
  change_of_nobody.account.id = 99;
  EXPECT_FALSE(change(change_of_nobody).has_value());
}

// A sign-in verified one hash; the session goes in only while it is on file.
TEST_F(PasswordChangeTest, ASessionGoesInOnlyUnderThePasswordItsSignInChecked) {
  domain::Account ann;
  ann.id = 1;
  EXPECT_FALSE(inserted("with_a_stale_password", ann, "stale"));
  EXPECT_TRUE(inserted("with_the_password", ann, "old"));
  domain::Account tess;
  tess.kind = domain::Account::Kind::operator_account;
  tess.id = 3;
  EXPECT_FALSE(inserted("tess_stale", tess, "stale"));
  EXPECT_TRUE(inserted("tess_fresh", tess, "old"));
  sql("UPDATE operators SET disabled_at = now() WHERE id = 3");
  EXPECT_FALSE(inserted("tess_disabled", tess, "old"));
}

TEST_F(PasswordChangeTest, AnOperatorDisabledMeanwhileCannotChangeItsOwn) {
  sql("UPDATE operators SET disabled_at = now() WHERE id = 3");
  domain::PasswordChange own;
  own.account.kind = domain::Account::Kind::operator_account;
  own.account.id = 3;
  own.new_hash = "new";
  own.expected_hash = "old";
  own.kept_session = sha256("tess_phone");
  EXPECT_FALSE(change(own).has_value());
  EXPECT_EQ(hash_is("operators", 3, "old"), 1);
}

// The race of a sign-in and a change, ordered by locks rather than timing.
class PasswordChangeRaceTest : public PasswordChangeTest {
 protected:
  // Ann's sign-in, having checked `hash`, adds the session of `token`.
  static asio::awaitable<void> sign_in(pg::Pool& pool, std::string token, std::string hash,
                                       std::optional<Result<bool>>& result) {
    domain::Account ann;
    ann.id = 1;
    const Digest digest = sha256(token);
    const domain::Timestamp expires_at = tomorrow();
    result = co_await insert_session(pool, digest, ann, hash, expires_at);
  }

  // Runs `held_sql` in a transaction of its own, starts `contender(pool)`,
  // waits until it waits for a lock, commits, and returns once `answered()`
  // (or after until_answered's bound).
  template <class Contender, class Answered>
  void behind_held_rows(const std::string& held_sql, Contender contender, Answered answered) {
    asio::io_context io;
    auto pool = pool_on(io, 1);
    auto locker = pool_on(io, 1);
    auto watcher = pool_on(io, 1);
    pg::testing::run(io, [&]() -> asio::awaitable<void> {
      const std::string pid = std::to_string(co_await pg::testing::backend_pid(*pool));
      auto held = co_await pg::testing::hold_rows(*locker, held_sql);
      PG_CO_ASSERT(held.has_value());
      asio::co_spawn(io, contender(*pool), asio::detached);
      co_await pg::testing::until_waiting_for_locks(*watcher, pid, 1);
      auto committed = co_await (*held)->execute_sql("COMMIT");
      PG_CO_ASSERT_OK(committed);
      co_await pg::testing::until_answered(answered);
      for (const auto& p : {pool, locker, watcher}) p->close();
    });
  }
};

// A settlement's credit (a plain UPDATE of the balance) holds the bettor's
// row: a sign-in does not wait for it.
TEST_F(PasswordChangeRaceTest, ASignInDoesNotWaitForAMoneyWriteOnTheBettorsRow) {
  asio::io_context io;
  auto pool = pool_on(io, 1);
  auto locker = pool_on(io, 1);
  std::optional<Result<bool>> result;
  bool answered_while_held = false;
  pg::testing::run(io, [&]() -> asio::awaitable<void> {
    auto held = co_await pg::testing::hold_rows(
        *locker, "UPDATE users SET balance = balance + 1 WHERE id = 1");
    PG_CO_ASSERT(held.has_value());
    asio::co_spawn(io, sign_in(*pool, "signed_in_meanwhile", "old", result), asio::detached);
    co_await pg::testing::until_answered([&] { return result.has_value(); });
    answered_while_held = result.has_value();
    auto committed = co_await (*held)->execute_sql("COMMIT");
    PG_CO_ASSERT_OK(committed);
    co_await pg::testing::until_answered([&] { return result.has_value(); });
    for (const auto& p : {pool, locker}) p->close();
  });
  EXPECT_TRUE(answered_while_held) << "the sign-in waited for the balance's writer";
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok()) << result->error().detail;
  EXPECT_TRUE(**result);
}

// The change holds the row: the sign-in waits, then finds the new password
// and adds nothing.
TEST_F(PasswordChangeRaceTest, ASignInThatMeetsAChangeWaitsAndAddsNothing) {
  std::optional<Result<bool>> result;
  behind_held_rows(
      "SELECT 1 FROM users WHERE id = 1 FOR UPDATE; "
      "UPDATE users SET password_hash = 'new' WHERE id = 1",
      [&](pg::Pool& pool) { return sign_in(pool, "with_the_old_password", "old", result); },
      [&] { return result.has_value(); });
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok()) << result->error().detail;
  EXPECT_FALSE(**result);
}

// A sign-in's insert holds its key-share lock, uncommitted: the change waits
// for it, then ends that session with the others.
TEST_F(PasswordChangeRaceTest, AChangeThatMeetsASignInWaitsAndEndsItsSession) {
  std::optional<Result<std::optional<std::vector<Digest>>>> result;
  behind_held_rows(
      "INSERT INTO sessions (token_hash, user_id, expires_at) "
      "SELECT sha256('signing_in'), 1, now() + interval '30 days' "
      "WHERE EXISTS (SELECT 1 FROM users WHERE id = 1 AND password_hash = 'old' FOR KEY SHARE)",
      [&](pg::Pool& pool) -> asio::awaitable<void> {
        const auto change = anns("old");
        const domain::Actor actor{"owner", "req-8"};
        const std::chrono::seconds recent{0};
        result = co_await change_password(pool, change, actor, recent);
      },
      [&] { return result.has_value(); });
  ASSERT_TRUE(result.has_value());
  const auto& answer = *result;
  ASSERT_TRUE(answer.ok()) << answer.error().detail;
  ASSERT_TRUE(answer->has_value());
  EXPECT_TRUE(names(**answer, "signing_in"));
  EXPECT_FALSE(live("signing_in"));
}

}  // namespace
}  // namespace betsdb::store

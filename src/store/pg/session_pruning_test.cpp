// store::prune_sessions against a migrated schema: which sessions go.
#include "store/pg/session_pruning.hpp"

#include <gtest/gtest.h>

#include "store/pg/schema_test_support.hpp"

namespace betsdb::store {
namespace {

class SessionPruningTest : public pg::testing::MigratedSchemaTest {
 protected:
  void add_session(const std::string& name, const std::string& expires_at,
                   const std::string& revoked_at) {
    on_pool([&](const std::shared_ptr<pg::Pool>& db) -> boost::asio::awaitable<void> {
      auto done = co_await db->execute_sql(
          "INSERT INTO sessions (token_hash, user_id, expires_at, revoked_at) "
          "SELECT sha256('" +
          name + "'), id, " + expires_at + ", " + revoked_at + " FROM users LIMIT 1");
      PG_CO_ASSERT_OK(done);
    });
  }
  bool kept(const std::string& name) {
    return count("SELECT count(*) FROM sessions WHERE token_hash = sha256('" + name + "')") == 1;
  }
  std::int64_t prune() {
    std::int64_t pruned = -1;
    on_pool([&](const std::shared_ptr<pg::Pool>& db) -> boost::asio::awaitable<void> {
      auto done = co_await prune_sessions(*db);
      PG_CO_ASSERT_OK(done);
      pruned = *done;
    });
    return pruned;
  }
};

TEST_F(SessionPruningTest, DeletesExpiredSessionsAndOnesRevokedADayAgo) {
  on_pool([](const std::shared_ptr<pg::Pool>& db) -> boost::asio::awaitable<void> {
    auto done = co_await db->execute_sql(
        "INSERT INTO users (email, name, balance, token_hash) "
        "VALUES ('ann@example.com', 'Ann', 0, sha256('ann'))");
    PG_CO_ASSERT_OK(done);
  });
  add_session("live", "now() + interval '30 days'", "NULL");
  add_session("expired", "now() - interval '1 second'", "NULL");
  add_session("revoked_now", "now() + interval '30 days'", "now()");
  add_session("revoked_long_ago", "now() + interval '29 days'", "now() - interval '25 hours'");
  EXPECT_EQ(prune(), 2);
  EXPECT_TRUE(kept("live"));
  EXPECT_TRUE(kept("revoked_now"));
  EXPECT_FALSE(kept("expired"));
  EXPECT_FALSE(kept("revoked_long_ago"));
  EXPECT_EQ(prune(), 0);
}

}  // namespace
}  // namespace betsdb::store

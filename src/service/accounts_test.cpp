// service::sign_out against fakes of its two ports: the revocation in the
// database, then its mark in Redis, which processes that remember the token
// check. A mark Redis did not take is retried until it lands.
#include "service/accounts.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "service/test_fakes.hpp"

namespace betsdb::service {
namespace {

using namespace fakes;

// The sessions: a digest is valid until revoked.
class FakeSessions final : public AccountStore {
 public:
  std::set<Digest> valid;

  Async<std::optional<domain::Credentials>> credentials(const std::string&) override {
    co_return std::optional<domain::Credentials>{};
  }
  Async<std::optional<domain::Session>> session(const Digest&, domain::Timestamp) override {
    co_return std::optional<domain::Session>{};
  }
  Async<bool> add_session(const Digest& digest, const domain::Account&,
                          domain::Timestamp) override {
    valid.insert(digest);
    co_return true;
  }
  Async<bool> revoke(const Digest& digest) override { co_return valid.erase(digest) == 1; }
  Async<domain::Operator> add_operator(const std::string&, domain::OperatorRole, const std::string&,
                                       const domain::Actor&) override {
    co_return Error::internal("fake: add_operator is not faked");
  }
  Async<domain::ListPage<domain::AuditEntry>> audit(const AuditQuery&, domain::Page) override {
    co_return domain::ListPage<domain::AuditEntry>{};
  }

  // Operators, as the store keeps them: a role, whether disabled, live
  // sessions and ended ones (all "recent"), and the changes asked for.
  struct FakeOperator {
    domain::OperatorRole role = domain::OperatorRole::trader;
    bool disabled = false;
    std::set<Digest> live;
    std::set<Digest> ended;
  };
  std::map<std::int64_t, FakeOperator> operator_rows;
  std::vector<domain::OperatorChange> changes;
  Async<domain::ListPage<domain::Operator>> operators(domain::Page) override {
    co_return domain::ListPage<domain::Operator>{};
  }
  Async<std::optional<domain::OperatorChanged>> update_operator(
      std::int64_t operator_id, const domain::OperatorChange& change, const domain::Actor&,
      std::chrono::seconds) override {
    auto it = operator_rows.find(operator_id);
    if (it == operator_rows.end()) co_return std::optional<domain::OperatorChanged>{};
    FakeOperator& op = it->second;
    changes.push_back(change);
    domain::OperatorChanged out;
    out.now.id = operator_id;
    out.role_before = op.role;
    out.disabled_before = op.disabled;
    op.role = change.role.value_or(op.role);
    op.disabled = change.disabled.value_or(op.disabled);
    out.now.role = op.role;
    if (op.disabled) out.now.disabled_at = domain::Timestamp{};
    const bool end_live = out.role_changed() || change.disabled.value_or(false);
    if (end_live) {
      for (const Digest& d : op.live) valid.erase(d);
      op.ended.insert(op.live.begin(), op.live.end());
      op.live.clear();
    }
    if (end_live || change.role) out.sessions_to_mark.assign(op.ended.begin(), op.ended.end());
    co_return std::optional<domain::OperatorChanged>{out};
  }
};

// The revocation marks; the first `failing_marks` fail as if Redis were down.
class FakeMarks final : public AccessLimits {
 public:
  std::set<std::pair<std::string, Digest>> marks;
  int failing_marks = 0;
  int tries = 0;

  Async<WindowCount> count(std::string, std::chrono::milliseconds) override {
    co_return WindowCount{};
  }
  Async<TakenAttempt> take(std::string, std::int64_t, std::chrono::milliseconds) override {
    co_return TakenAttempt{true, {}};
  }
  Async<void> give_back(std::string) override { co_return Status{}; }
  Async<void> mark_revoked(const std::string& account, const Digest& token,
                           std::chrono::seconds) override {
    ++tries;
    if (failing_marks > 0) {
      --failing_marks;
      co_return redis_down();
    }
    marks.insert({account, token});
    co_return Status{};
  }
  Async<RevocationCheck> revoked(const std::string& account, const Digest& token) override {
    co_return RevocationCheck{marks.contains({account, token}), {}};
  }
};

class SignOutTest : public ::testing::Test {
 protected:
  SignOutTest() {
    f.ctx.accounts = sessions;
    f.ctx.access = marks;
    sessions->valid.insert(kToken);
  }
  const Digest kToken = sha256("a session token");
  std::shared_ptr<FakeSessions> sessions = std::make_shared<FakeSessions>();
  std::shared_ptr<FakeMarks> marks = std::make_shared<FakeMarks>();
  Fakes f;
};

TEST_F(SignOutTest, RevokesThenMarks) {
  auto out = f.run(sign_out(f.ctx, "7", kToken));
  ASSERT_TRUE(out.ok()) << out.error().detail;
  EXPECT_TRUE(*out);
  EXPECT_TRUE(sessions->valid.empty());
  EXPECT_TRUE(marks->marks.contains({"7", kToken}));
}

// Committed, but Redis did not take the mark: the answer says so (503), and
// the mark lands by itself once Redis does, without the client's retry.
TEST_F(SignOutTest, AMarkRedisDidNotTakeIsRetriedUntilItLands) {
  marks->failing_marks = 2;
  auto out = f.run(sign_out(f.ctx, "7", kToken));
  EXPECT_FALSE(out.ok());
  EXPECT_TRUE(sessions->valid.empty()) << "the revocation is committed";
  ASSERT_TRUE(f.run_until([&] {
    return marks->marks.contains({"7", kToken});
  })) << "the mark never landed";
  EXPECT_EQ(marks->tries, 3);
}

// The client's retry finds the token revoked already: it still marks it
// (the first try's mark may have failed), and says it revoked nothing.
TEST_F(SignOutTest, ARetryOfASignOutMarksTheTokenAgain) {
  sessions->valid.clear();
  auto out = f.run(sign_out(f.ctx, "7", kToken));
  ASSERT_TRUE(out.ok()) << out.error().detail;
  EXPECT_FALSE(*out);
  EXPECT_TRUE(marks->marks.contains({"7", kToken}));
}

// Changing an operator: a new role or a disable ends every session of it,
// each marked in Redis as a sign-out's token is.
class UpdateOperatorTest : public SignOutTest {
 protected:
  UpdateOperatorTest() {
    sessions->operator_rows[kOperator].live = {kFirst, kSecond};
    sessions->valid.insert(kFirst);
    sessions->valid.insert(kSecond);
  }
  static constexpr std::int64_t kOperator = 3;
  const Digest kFirst = sha256("the operator's phone");
  const Digest kSecond = sha256("the operator's laptop");
  const domain::Actor kAdmin{"owner", "req-1"};
  const std::string kAccount = "operator:3";

  Result<domain::Operator> change(std::int64_t operator_id,
                                  std::optional<domain::OperatorRole> role,
                                  std::optional<bool> disabled) {
    domain::OperatorChange change;
    change.role = role;
    change.disabled = disabled;
    return f.run(update_operator(f.ctx, operator_id, change, kAdmin));
  }
  Result<domain::Operator> new_role(domain::OperatorRole role) {
    return change(kOperator, role, std::nullopt);
  }
  Result<domain::Operator> disabled(bool disabled) {
    return change(kOperator, std::nullopt, disabled);
  }
};

TEST_F(UpdateOperatorTest, ADisableEndsAndMarksEverySessionOfTheOperator) {
  auto out = disabled(true);
  ASSERT_TRUE(out.ok()) << out.error().detail;
  EXPECT_TRUE(marks->marks.contains({kAccount, kFirst}));
  EXPECT_TRUE(marks->marks.contains({kAccount, kSecond}));
  EXPECT_FALSE(sessions->valid.contains(kFirst));
  EXPECT_TRUE(sessions->valid.contains(kToken)) << "another account's session ended";
}

TEST_F(UpdateOperatorTest, ANewRoleEndsTheSessionsToo) {
  auto out = new_role(domain::OperatorRole::support);
  ASSERT_TRUE(out.ok()) << out.error().detail;
  EXPECT_EQ(marks->marks.size(), 2u);
}

// The same role again ends no live session (it changes nothing).
TEST_F(UpdateOperatorTest, TheSameRoleEndsNothing) {
  auto out = new_role(domain::OperatorRole::trader);
  ASSERT_TRUE(out.ok()) << out.error().detail;
  EXPECT_TRUE(marks->marks.empty());
  EXPECT_TRUE(sessions->valid.contains(kFirst));
}

// The client's retry of a role change whose marks never landed (the first
// answer was a 503, and this process may have died before its own retries):
// the role is the same by now, yet the sessions it ended are marked again.
TEST_F(UpdateOperatorTest, ARetriedRoleChangeMarksTheSessionsItEndedAgain) {
  ASSERT_TRUE(new_role(domain::OperatorRole::support).ok());
  marks->marks.clear();  // as if they were lost
  auto again = new_role(domain::OperatorRole::support);
  ASSERT_TRUE(again.ok()) << again.error().detail;
  EXPECT_TRUE(marks->marks.contains({kAccount, kFirst}));
  EXPECT_TRUE(marks->marks.contains({kAccount, kSecond}));
}

TEST_F(UpdateOperatorTest, ARetriedDisableMarksTheSessionsAgain) {
  ASSERT_TRUE(disabled(true).ok());
  marks->marks.clear();
  ASSERT_TRUE(disabled(true).ok());
  EXPECT_EQ(marks->marks.size(), 2u);
}

TEST_F(UpdateOperatorTest, AnEnableEndsNothing) {
  auto out = disabled(false);
  ASSERT_TRUE(out.ok()) << out.error().detail;
  EXPECT_TRUE(marks->marks.empty());
  EXPECT_TRUE(sessions->valid.contains(kFirst));
}

TEST_F(UpdateOperatorTest, AnUnknownOperatorIsNotFoundAndChangesNothing) {
  auto out = change(99, std::nullopt, true);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::operator_not_found);
  EXPECT_TRUE(marks->marks.empty());
}

// The change is committed, a mark is not: 503, and the mark lands by itself.
TEST_F(UpdateOperatorTest, AMarkRedisDidNotTakeIsRetriedAndTheAnswerSaysSo) {
  marks->failing_marks = 1;
  auto out = disabled(true);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::service_unavailable);
  EXPECT_EQ(sessions->changes.size(), 1u);
  ASSERT_TRUE(f.run_until([&] {
    return marks->marks.contains({kAccount, kFirst}) && marks->marks.contains({kAccount, kSecond});
  })) << "a mark never landed";
}

}  // namespace
}  // namespace betsdb::service

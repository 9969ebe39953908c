// service::sign_out against fakes of its two ports: the revocation in the
// database, then its mark in Redis, which processes that remember the token
// check. A mark Redis did not take is retried until it lands.
#include "service/accounts.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "service/password_pool.hpp"
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
  Async<bool> add_session(const Digest& digest, const domain::Account&, const std::string&,
                          domain::Timestamp) override {
    valid.insert(digest);
    co_return true;
  }

  // A password on file per account ("7", "operator:3"), the sessions of
  // each, live and ended (all "recent"), and the changes asked for.
  struct FakeAccount {
    std::string hash;
    std::set<Digest> live;
    std::set<Digest> ended;
  };
  std::map<std::string, FakeAccount> accounts;
  std::vector<domain::PasswordChange> password_changes;
  std::optional<std::string> replaced_meanwhile;  // by a change that commits first
  Async<std::optional<domain::Credentials>> password(const domain::Account& account) override {
    auto it = accounts.find(domain::account_name(account));
    if (it == accounts.end()) co_return std::optional<domain::Credentials>{};
    co_return std::optional<domain::Credentials>{domain::Credentials{account, it->second.hash}};
  }
  Async<std::optional<std::vector<Digest>>> change_password(const domain::PasswordChange& change,
                                                            const domain::Actor&,
                                                            std::chrono::seconds) override {
    password_changes.push_back(change);
    auto it = accounts.find(domain::account_name(change.account));
    if (it == accounts.end()) co_return std::optional<std::vector<Digest>>{};
    FakeAccount& account = it->second;
    if (replaced_meanwhile) account.hash = *std::exchange(replaced_meanwhile, std::nullopt);
    if (change.expected_hash && *change.expected_hash != account.hash) {
      co_return std::optional<std::vector<Digest>>{};
    }
    account.hash = change.new_hash;
    for (auto d = account.live.begin(); d != account.live.end();) {
      if (change.kept_session && *d == *change.kept_session) {
        ++d;
        continue;
      }
      valid.erase(*d);
      account.ended.insert(*d);
      d = account.live.erase(d);
    }
    co_return std::optional<std::vector<Digest>>{
        std::vector<Digest>(account.ended.begin(), account.ended.end())};
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
  // Attempts counted per key (sign-in failures), and given back.
  std::map<std::string, int> attempts;
  Async<TakenAttempt> take(std::string key, std::int64_t limit,
                           std::chrono::milliseconds window) override {
    if (attempts[key] >= limit) co_return TakenAttempt{false, WindowCount{limit, window}};
    ++attempts[key];
    co_return TakenAttempt{true, {}};
  }
  Async<void> give_back(std::string key) override {
    --attempts[key];
    co_return Status{};
  }
  int attempts_counted() const {
    int total = 0;
    for (const auto& [key, n] : attempts) total += n;
    return total;
  }
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

// A password change against the fakes, with real Argon2id hashes.
class ChangePasswordTest : public SignOutTest {
 protected:
  ChangePasswordTest() {
    f.ctx.passwords = passwords;
    auto hashed = f.run(passwords->hash(kPassword));
    EXPECT_TRUE(hashed.ok());
    for (const auto& name : {kAccount, kOperatorAccount}) sessions->accounts[name].hash = *hashed;
    sessions->accounts[kAccount].live = {kHere, kElsewhere};
    sessions->accounts[kOperatorAccount].live = {kPhone};
    sessions->valid = {kHere, kElsewhere, kPhone};
  }
  PasswordChangeRequest holders(std::optional<std::string> current, const Digest& asked_with) {
    PasswordChangeRequest request;
    request.account.id = 7;
    request.current = std::move(current);
    request.new_password = "a new password";
    request.asked_with = asked_with;
    return request;
  }
  Result<void> run(PasswordChangeRequest request) {
    return f.run(change_password(f.ctx, std::move(request), kActor, "client"));
  }
  Result<void> change(std::optional<std::string> current) {
    return run(holders(std::move(current), kHere));
  }
  // An admin's reset of operator 3's password.
  Result<void> reset() {
    PasswordChangeRequest request;
    request.account.kind = domain::Account::Kind::operator_account;
    request.account.id = 3;
    request.by_holder = false;
    request.new_password = "a new password";
    return run(std::move(request));
  }
  std::string stored_hash(const std::string& account = "7") {
    return sessions->accounts[account].hash;
  }
  int attempts_of(const Digest& token) {
    return marks->attempts["pwcheck:{" + to_hex(token) + "}"];
  }

  const std::string kAccount = "7";
  const std::string kOperatorAccount = "operator:3";
  const std::string kPassword = "the password on file";
  const Digest kHere = sha256("the session the change is asked with");
  const Digest kElsewhere = sha256("another session");
  const Digest kPhone = sha256("the operator's phone");
  const domain::Actor kActor{"owner", "req-1"};
  std::shared_ptr<PasswordPool> passwords = std::make_shared<PasswordPool>(1, 8);
};

TEST_F(ChangePasswordTest, TheHolderProvesThePasswordAndTheOtherSessionsEndAndAreMarked) {
  const std::string before = stored_hash();
  auto out = change(kPassword);
  ASSERT_TRUE(out.ok()) << out.error().detail;
  EXPECT_NE(stored_hash(), before);
  ASSERT_EQ(sessions->password_changes.size(), 1u);
  EXPECT_EQ(sessions->password_changes[0].expected_hash, before);
  EXPECT_EQ(sessions->password_changes[0].kept_session, kHere);
  EXPECT_TRUE(marks->marks.contains({kAccount, kElsewhere}));
  EXPECT_FALSE(marks->marks.contains({kAccount, kHere}));
  EXPECT_TRUE(sessions->valid.contains(kHere));
  EXPECT_EQ(marks->attempts_counted(), 0) << "a right password counted as a wrong one";
  auto verified = f.run(passwords->verify(stored_hash(), "a new password"));
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(*verified);
}

TEST_F(ChangePasswordTest, AWrongPasswordChangesNothingAndCountsAgainstTheToken) {
  const std::string before = stored_hash();
  auto out = change("not the password");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::wrong_password);
  EXPECT_EQ(stored_hash(), before);
  EXPECT_TRUE(sessions->password_changes.empty());
  EXPECT_TRUE(marks->marks.empty());
  EXPECT_EQ(attempts_of(kHere), 1);
  EXPECT_EQ(marks->attempts_counted(), 1);
}

// A stolen token guesses no faster than the sign-in form; the holder's own
// token still changes the password.
TEST_F(ChangePasswordTest, ATokenThatSentTooManyWrongPasswordsIsRefusedAnotherIsNot) {
  for (std::int64_t i = 0; i < kSignInFailureLimit; ++i) {
    auto out = run(holders("a guess", kElsewhere));
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().code, Errc::wrong_password);
  }
  auto refused = run(holders(kPassword, kElsewhere));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::too_many_requests);
  EXPECT_TRUE(sessions->password_changes.empty()) << "refused before the password was checked";
  auto out = change(kPassword);
  ASSERT_TRUE(out.ok()) << out.error().detail;
  EXPECT_TRUE(marks->marks.contains({kAccount, kElsewhere}));
}

TEST_F(ChangePasswordTest, TheHolderMustGiveThePasswordWhenTheAccountHasOne) {
  auto out = change(std::nullopt);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::validation_failed);
  EXPECT_TRUE(sessions->password_changes.empty());
}

TEST_F(ChangePasswordTest, AnAccountWithoutAPasswordGetsOneWithNothingToProve) {
  sessions->accounts[kAccount].hash.clear();
  auto out = change(std::nullopt);
  ASSERT_TRUE(out.ok()) << out.error().detail;
  EXPECT_FALSE(stored_hash().empty());
  EXPECT_EQ(sessions->password_changes.at(0).expected_hash, std::string());
}

// The password the holder proved was replaced before the change committed.
TEST_F(ChangePasswordTest, APasswordChangedMeanwhileIsAWrongPassword) {
  sessions->replaced_meanwhile = "another change's hash";
  auto out = change(kPassword);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::wrong_password);
  EXPECT_EQ(stored_hash(), "another change's hash");
  EXPECT_TRUE(marks->marks.empty());
}

TEST_F(ChangePasswordTest, AnAdminsResetOfAnOperatorChecksNothingAndKeepsNoSession) {
  auto out = reset();
  ASSERT_TRUE(out.ok()) << out.error().detail;
  ASSERT_EQ(sessions->password_changes.size(), 1u);
  EXPECT_FALSE(sessions->password_changes[0].expected_hash);
  EXPECT_FALSE(sessions->password_changes[0].kept_session);
  EXPECT_TRUE(marks->marks.contains({kOperatorAccount, kPhone}));
  EXPECT_EQ(marks->attempts_counted(), 0);
}

TEST_F(ChangePasswordTest, ABettorsPasswordIsNeverReset) {
  PasswordChangeRequest request = holders(std::nullopt, kHere);
  request.by_holder = false;
  auto out = run(std::move(request));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::forbidden);
  EXPECT_TRUE(sessions->password_changes.empty());
}

TEST_F(ChangePasswordTest, AnUnknownAccountIsNotFound) {
  sessions->accounts.clear();
  auto out = change(kPassword);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::user_not_found);
}

// The change is committed, a mark is not: the answer says it is changed (a
// 503 would not tell the client whether it was), and the mark lands by
// itself.
TEST_F(ChangePasswordTest, AMarkRedisDidNotTakeIsRetriedInTheBackground) {
  marks->failing_marks = 1;
  auto out = change(kPassword);
  ASSERT_TRUE(out.ok()) << out.error().detail;
  EXPECT_EQ(sessions->password_changes.size(), 1u);
  ASSERT_TRUE(f.run_until([&] {
    return marks->marks.contains({kAccount, kElsewhere});
  })) << "a mark never landed";
}

}  // namespace
}  // namespace betsdb::service

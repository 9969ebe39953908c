// service::sign_out against fakes of its two ports: the revocation in the
// database, then its mark in Redis, which processes that remember the token
// check. A mark Redis did not take is retried until it lands.
#include "service/accounts.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

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
  Async<void> add_session(const Digest& digest, const domain::Account&,
                          domain::Timestamp) override {
    valid.insert(digest);
    co_return Status{};
  }
  Async<bool> revoke(const Digest& digest) override { co_return valid.erase(digest) == 1; }
  Async<domain::Operator> add_operator(const std::string&, domain::OperatorRole, const std::string&,
                                       const domain::Actor&) override {
    co_return Error::internal("fake: add_operator is not faked");
  }
  Async<domain::ListPage<domain::AuditEntry>> audit(const AuditQuery&, domain::Page) override {
    co_return domain::ListPage<domain::AuditEntry>{};
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

}  // namespace
}  // namespace betsdb::service

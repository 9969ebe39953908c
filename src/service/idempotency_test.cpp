// service::claim_idempotency_key and record_answer against fakes of the ports
// (service/test_fakes.hpp), the claim and the lock release sharing one fake
// Redis: claimed, in progress, reused, replayed; and an answer Redis does not
// take keeps the claim and is stored in the background.
#include "service/idempotency.hpp"

#include <gtest/gtest.h>

#include <string>

#include "service/test_fakes.hpp"
#include "service/test_support.hpp"

namespace betsdb::service {
namespace {

using namespace fakes;
using test_support::kUser;
using Kind = IdempotencyClaim::Kind;

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::claimed:
      return "claimed";
    case Kind::replay:
      return "replay";
    case Kind::in_progress:
      return "in_progress";
    case Kind::reused:
      return "reused";
  }
  return "?";
}

::testing::AssertionResult Is(const Result<IdempotencyClaim>& claim, Kind kind) {
  if (!claim.ok()) {
    return ::testing::AssertionFailure()
           << "failed with " << code_name(claim.error().code) << "; expected " << kind_name(kind);
  }
  if (claim->kind != kind) {
    return ::testing::AssertionFailure()
           << kind_name(claim->kind) << "; expected " << kind_name(kind);
  }
  return ::testing::AssertionSuccess();
}

class IdempotencyTest : public ::testing::Test {
 protected:
  Result<IdempotencyClaim> claim(std::string_view fingerprint, std::string_view key = "key-1",
                                 std::int64_t user_id = kUser, std::string_view route = "bets") {
    const IdempotentRequest request{user_id, route, key, fingerprint};
    return f.run(claim_idempotency_key(f.ctx, request));
  }
  // The record's key of the default request.
  std::string record_key() const { return idempotency_record_key(kUser, "bets", "key-1"); }
  std::string record() const { return f.redis->value(record_key()); }

  // Starts record_answer on the loop and runs it until it returns (not the
  // background retries it may leave behind).
  void answer_with(HeldLock claim, std::string fingerprint, RecordedAnswer answer) {
    f.run(record_answer(f.ctx, std::move(claim), std::move(fingerprint), std::move(answer)));
  }

  Fakes f;
};

TEST_F(IdempotencyTest, TheFirstRequestClaimsTheKey) {
  auto first = claim("fp-A");
  ASSERT_TRUE(Is(first, Kind::claimed));
  ASSERT_TRUE(first->claim.has_value());
  EXPECT_TRUE(first->claim->held());
  EXPECT_EQ(first->claim->token().key, record_key());
  EXPECT_TRUE(record().starts_with("R fp-A ")) << record();
  // The client's key is hashed into the record's key, never stored as sent.
  EXPECT_TRUE(record_key().starts_with("idem:7:bets:")) << record_key();
  EXPECT_EQ(record_key().find("key-1"), std::string::npos) << record_key();
}

TEST_F(IdempotencyTest, TheSameRequestWhileTheFirstRunsIsInProgress) {
  auto first = claim("fp-A");
  ASSERT_TRUE(Is(first, Kind::claimed));
  EXPECT_TRUE(Is(claim("fp-A"), Kind::in_progress));
  EXPECT_TRUE(Is(claim("fp-B"), Kind::reused));
}

TEST_F(IdempotencyTest, AfterTheAnswerTheSameRequestIsReplayedAndAnotherIsReused) {
  auto first = claim("fp-A");
  ASSERT_TRUE(Is(first, Kind::claimed));
  // A body with spaces and line breaks, as problem+json or a bet may have.
  const std::string body = "{\"id\": 12,\n \"detail\": \"a b\\nc\"}\n";
  answer_with(std::move(*first->claim), "fp-A", RecordedAnswer{201, body});

  auto again = claim("fp-A");
  ASSERT_TRUE(Is(again, Kind::replay));
  ASSERT_TRUE(again->answer.has_value());
  EXPECT_EQ(again->answer->status, 201);
  EXPECT_EQ(again->answer->body, body);
  EXPECT_FALSE(again->claim.has_value());

  EXPECT_TRUE(Is(claim("fp-B"), Kind::reused));
  EXPECT_TRUE(f.locks->unlocks.empty()) << "the claim was released instead of replaced";
}

TEST_F(IdempotencyTest, AFinal4xxIsReplayedToo) {
  auto first = claim("fp-A");
  ASSERT_TRUE(Is(first, Kind::claimed));
  answer_with(std::move(*first->claim), "fp-A", RecordedAnswer{409, R"({"code":"duplicate_bet"})"});
  auto again = claim("fp-A");
  ASSERT_TRUE(Is(again, Kind::replay));
  EXPECT_EQ(again->answer->status, 409);
  EXPECT_EQ(again->answer->body, R"({"code":"duplicate_bet"})");
}

TEST_F(IdempotencyTest, AnEmptyAnswerBodyIsReplayedEmpty) {
  auto first = claim("fp-A");
  ASSERT_TRUE(Is(first, Kind::claimed));
  answer_with(std::move(*first->claim), "fp-A", RecordedAnswer{204, ""});
  auto again = claim("fp-A");
  ASSERT_TRUE(Is(again, Kind::replay));
  EXPECT_EQ(again->answer->status, 204);
  EXPECT_EQ(again->answer->body, "");
}

TEST_F(IdempotencyTest, ADroppedClaimLetsTheNextRequestActAfresh) {
  auto first = claim("fp-A");
  ASSERT_TRUE(Is(first, Kind::claimed));
  HeldLock held = std::move(*first->claim);
  EXPECT_TRUE(f.run(held.release()).ok());
  EXPECT_FALSE(f.redis->holds(record_key()));
  EXPECT_TRUE(Is(claim("fp-B"), Kind::claimed));
}

TEST_F(IdempotencyTest, KeysAreScopedPerUserAndRoute) {
  auto first = claim("fp-A");
  ASSERT_TRUE(Is(first, Kind::claimed));
  auto other_user = claim("fp-A", "key-1", 8);
  EXPECT_TRUE(Is(other_user, Kind::claimed));
  auto other_route = claim("fp-A", "key-1", kUser, "checkout");
  EXPECT_TRUE(Is(other_route, Kind::claimed));
  auto other_key = claim("fp-A", "key-2");
  EXPECT_TRUE(Is(other_key, Kind::claimed));
}

TEST_F(IdempotencyTest, WithoutRedisAClaimIsServiceUnavailable) {
  f.idempotency->claims_unavailable = true;
  auto first = claim("fp-A");
  ASSERT_FALSE(first.ok());
  EXPECT_TRUE(first.error().is(Errc::service_unavailable));
}

// Redis applied the claim but its reply was lost: the request was refused
// (503), and its retry must be able to act, not be told "in progress" by a
// claim nobody holds until it expires.
TEST_F(IdempotencyTest, AClaimWhoseReplyWasLostIsWithdrawnSoTheRetryActs) {
  f.idempotency->claim_replies_lost = true;
  auto first = claim("fp-A");
  ASSERT_FALSE(first.ok());
  EXPECT_TRUE(first.error().is(Errc::service_unavailable));
  f.idempotency->claim_replies_lost = false;
  ASSERT_TRUE(f.run_until([&] { return !f.redis->holds(record_key()); }, 2s))
      << "the claim is still there: " << record();
  ASSERT_EQ(f.locks->unlocks_of(record_key()), 1U);
  EXPECT_TRUE(Is(claim("fp-A"), Kind::claimed));
}

TEST_F(IdempotencyTest, AClaimWithdrawnWhileRedisIsDownIsWithdrawnOnceItIsBack) {
  f.idempotency->claim_replies_lost = true;
  f.locks->unavailable = true;
  ASSERT_FALSE(claim("fp-A").ok());
  ASSERT_TRUE(f.run_until([&] { return f.locks->unlocks_of(record_key()) >= 2; }, 2s));
  EXPECT_TRUE(f.redis->holds(record_key()));
  f.locks->unavailable = false;
  ASSERT_TRUE(f.run_until([&] { return !f.redis->holds(record_key()); }, 3s))
      << "the claim is still there after " << f.locks->unlocks_of(record_key()) << " tries";
}

// Someone else's claim (ours expired, theirs came after) is never taken.
TEST_F(IdempotencyTest, AWithdrawalLeavesSomeoneElsesClaim) {
  f.idempotency->claim_replies_lost = true;
  f.locks->unlock_delay = std::chrono::milliseconds(20);
  ASSERT_FALSE(claim("fp-A").ok());
  f.redis->values[record_key()] = "R fp-A someone-elses-token";
  f.run_until([&] { return f.locks->unlocks_of(record_key()) >= 1; }, 2s);
  f.io.restart();
  f.io.run();
  EXPECT_EQ(record(), "R fp-A someone-elses-token");
}

// The defect of issue 15: "If the idempotent answer cannot be stored after
// the action ran, the claim expires and the same key can act again."
TEST_F(IdempotencyTest, AnAnswerRedisDoesNotTakeKeepsTheClaimAndIsStoredLater) {
  auto first = claim("fp-A");
  ASSERT_TRUE(Is(first, Kind::claimed));
  const std::string claimed = record();
  f.idempotency->answer_failures = 3;  // the first try and two retries fail
  answer_with(std::move(*first->claim), "fp-A", RecordedAnswer{201, R"({"id":1})"});

  EXPECT_EQ(f.idempotency->answer_calls, 1);
  EXPECT_EQ(record(), claimed) << "the claim was not kept";
  EXPECT_TRUE(f.locks->unlocks.empty()) << "the claim was released";
  EXPECT_TRUE(Is(claim("fp-A"), Kind::in_progress)) << "the same key could act again";
  EXPECT_TRUE(Is(claim("fp-B"), Kind::reused));

  // Retried in the background (50 ms, then 100 ms, ...), still failing.
  ASSERT_TRUE(f.run_until([&] { return f.idempotency->answer_calls >= 2; }, 2s))
      << "the answer was not retried";
  EXPECT_EQ(record(), claimed);
  EXPECT_TRUE(Is(claim("fp-A"), Kind::in_progress));

  // Until it lands.
  ASSERT_TRUE(f.run_until([&] { return record().starts_with("D "); }, 3s))
      << "the answer never landed; " << f.idempotency->answer_calls << " tries";
  EXPECT_EQ(f.idempotency->answer_calls, 4);
  auto again = claim("fp-A");
  ASSERT_TRUE(Is(again, Kind::replay));
  EXPECT_EQ(again->answer->status, 201);
  EXPECT_EQ(again->answer->body, R"({"id":1})");
  EXPECT_TRUE(f.locks->unlocks.empty());
}

TEST_F(IdempotencyTest, AnAnswerStoredAtOnceLeavesNoRetryBehind) {
  auto first = claim("fp-A");
  ASSERT_TRUE(Is(first, Kind::claimed));
  answer_with(std::move(*first->claim), "fp-A", RecordedAnswer{201, "{}"});
  EXPECT_EQ(f.idempotency->answer_calls, 1);
  f.io.restart();
  f.io.run();  // returns at once when nothing is pending: no timer was left behind
  EXPECT_EQ(f.idempotency->answer_calls, 1);
}

TEST_F(IdempotencyTest, AnAnswerNeverOverwritesSomeoneElsesRecord) {
  auto first = claim("fp-A");
  ASSERT_TRUE(Is(first, Kind::claimed));
  // Our claim lapsed and another request claimed the key meanwhile.
  f.redis->values[record_key()] = "R fp-A someone-elses-token";
  answer_with(std::move(*first->claim), "fp-A", RecordedAnswer{201, "{}"});
  EXPECT_EQ(record(), "R fp-A someone-elses-token");
}

}  // namespace
}  // namespace betsdb::service

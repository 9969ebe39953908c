// Idempotency-Key records for the routes that move money (POST /v1/bets and
// the cart checkout), in the manner of Stripe; api/idempotency.hpp applies
// them to HTTP requests.
//
// The first request with a key claims the record `idem:{user}:{route}:{h}`
// (h: a digest of the key), holding "in progress" and a fingerprint of the
// request, then acts; its final answer replaces the claim for
// kIdempotencyRetention. A later request with the same key then gets that
// answer back without acting again; with another fingerprint it is `reused`;
// while the first still runs it is `in_progress`. An answer that is not
// final drops the claim, so a retry acts afresh.
//
// A claim is never left to lapse while its answer is pending: if Redis does
// not take the answer, the claim stays and the answer is stored in the
// background as soon as Redis does, so a retry in between is told
// `in_progress`, never allowed to act a second time. Only if the holder dies
// does the claim expire (kIdempotencyClaimTtl); a retry then acts again and
// the database's guards (the unique live-bet index, the conditional debit)
// stop a second placement.
//
// Without Redis there is no record: claim() answers service_unavailable.
//
// Thread-safety: as Context (one shard's thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "service/context.hpp"
#include "service/held_lock.hpp"

namespace betsdb::service {

inline constexpr std::chrono::hours kIdempotencyRetention{24};
// Longer than any request may run (request timeout + pool wait + statement).
inline constexpr std::chrono::seconds kIdempotencyClaimTtl{60};

struct IdempotentRequest {
  std::int64_t user_id = 0;
  std::string_view route;        // part of the record's key, e.g. "bets"
  std::string_view key;          // the client's Idempotency-Key
  std::string_view fingerprint;  // of what was asked: a different one is a reuse
};

struct RecordedAnswer {
  int status = 0;
  std::string body;
};

struct IdempotencyClaim {
  enum class Kind { claimed, replay, in_progress, reused };
  Kind kind = Kind::claimed;
  std::optional<HeldLock> claim;         // claimed: ours until answered or dropped
  std::optional<RecordedAnswer> answer;  // replay
};

Async<IdempotencyClaim> claim_idempotency_key(Context& ctx, const IdempotentRequest& request);

// Replaces the claim with the final answer; see above for when Redis does
// not take it. Never fails: the action has happened, whatever Redis does.
boost::asio::awaitable<void> record_answer(Context& ctx, HeldLock claim,
                                           std::string_view fingerprint, RecordedAnswer answer);

// The record's Redis key, for tests and tools.
std::string idempotency_record_key(std::int64_t user_id, std::string_view route,
                                   std::string_view key);

}  // namespace betsdb::service

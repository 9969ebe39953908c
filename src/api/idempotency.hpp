// Idempotency-Key support for the routes that move money (POST /v1/bets and
// the cart checkout), in the manner of Stripe.
//
// The first request with a key claims a Redis record `idem:{user}:{route}:{h}`
// (h: a digest of the key) holding "in progress" and a fingerprint of the
// body, then runs; its final answer (2xx or 4xx: status and body) replaces the
// record for 24 hours. A retry with the same key then gets that answer back
// without acting again; with a different body (compared as canonical JSON)
// it gets 422 idempotency_key_reused; while the first still runs, 409.
// Answers that are not final are not stored: a 5xx (an outage), a 409 clash
// with a request still running, and refusals before the route acted (400,
// 415, 422 validation_failed); the claim is dropped so a retry acts afresh.
//
// The claim expires after kIdempotencyClaimTtl if its holder dies; a retry
// then runs again and the database guards (unique bet index, conditional
// debit) stop a second placement.
//
// Without Redis there is no record, so a request WITH a key gets 503 rather
// than a weaker promise; a request without one runs normally.
//
// Thread-safety: one shard's thread, as the Redis client it uses.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "api/api_shard.hpp"

namespace betsdb::api {

inline constexpr std::chrono::hours kIdempotencyRetention{24};
// Longer than any request may run (request timeout + pool wait + statement).
inline constexpr std::chrono::seconds kIdempotencyClaimTtl{60};

struct IdempotentRoute {
  std::string_view name;  // part of the record's key, e.g. "bets"
  Errc in_progress;       // bet_in_progress or checkout_in_progress
};

using Action = std::function<boost::asio::awaitable<http::Response>()>;

// Runs `action` under the request's Idempotency-Key (if any) for `user_id`.
boost::asio::awaitable<http::Response> idempotent(ApiShard& shard, const http::Request& request,
                                                  std::int64_t user_id, IdempotentRoute route,
                                                  Action action);

// The body's fingerprint: a digest of its canonical JSON (keys sorted, no
// whitespace), or of its raw bytes when it is not JSON. Exposed for tests.
std::string body_fingerprint(std::string_view body);

}  // namespace betsdb::api

// Idempotency-Key on the routes that move money (POST /v1/bets and the cart
// checkout): service/idempotency.hpp keeps the records and says what they
// promise; this applies them to HTTP requests.
//
// A request without the header runs as it is. One with a valid key claims
// the key's record, runs, and its answer, when final, is what every later
// request with that key and the same body gets back (with the header
// Idempotent-Replayed: true); a different body is 422
// idempotency_key_reused, and one while the first still runs gets the
// route's 409 in-progress error. The body is compared as canonical JSON, so
// key order, spacing and 2.1 vs 2.10 do not matter, and no body is the same
// request as {}.
//
// Final answers, in Stripe's manner: every 2xx, and every 4xx once the route
// began acting. Not final, so the claim is dropped and a retry acts afresh:
// a 5xx (an outage), the in-progress 409, and refusals before acting (400,
// 415, 422 validation_failed), decided from the route's typed error.
//
// Thread-safety: one shard's thread, as the service context it uses.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "api/api_shard.hpp"

namespace betsdb::api {

struct IdempotentRoute {
  std::string_view name;  // part of the record's key, e.g. "bets"
  Errc in_progress;       // bet_in_progress or checkout_in_progress
};

// The route's work: its success response, or the error it refused with.
using Action = std::function<boost::asio::awaitable<Result<http::Response>>()>;

// The request's Idempotency-Key: none, or a valid one (1..255 printable
// ASCII), else 400 invalid_parameter.
Result<std::optional<std::string_view>> idempotency_key(const http::Request& request);

// Runs `action` under the request's Idempotency-Key (if any) for `user_id`.
boost::asio::awaitable<http::Response> idempotent(ApiShard& shard, const http::Request& request,
                                                  std::int64_t user_id, IdempotentRoute route,
                                                  Action action);

// The body's fingerprint: a digest of its canonical JSON (keys sorted, no
// whitespace; an empty body reads as {}), or of its raw bytes when it is not
// JSON. Exposed for tests.
std::string body_fingerprint(std::string_view body);

}  // namespace betsdb::api

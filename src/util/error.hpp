// One error value for every layer. Its code maps 1:1 to the API's problem codes
// (the table at the end of docs/api.md); a few canonical store-level codes
// (`unavailable`, `conflict`, `internal`) are translated by the service layer,
// which knows what a unique violation *means* for the use case at hand.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace betsdb {

enum class Errc {
  // 400
  bad_request,  // HTTP framing the server cannot parse; answered before routing
  invalid_json,
  invalid_parameter,
  // 401 / 403
  unauthorized,
  invalid_credentials,
  wrong_password,
  forbidden,
  self_excluded,  // a self-exclusion or time-out runs
  // 404
  not_found,
  user_not_found,
  match_not_found,
  bet_not_found,
  item_not_found,
  operator_not_found,
  // 405
  method_not_allowed,
  // 409
  email_taken,
  duplicate_match,
  duplicate_bet,
  bet_in_progress,
  duplicate_item,
  already_settled,
  checkout_in_progress,
  odds_changed,
  quote_expired,
  exclusion_not_shortened,  // "self_excluded" too: a shorter one than the one running
  // 413 / 415
  payload_too_large,
  unsupported_media_type,
  // 422
  validation_failed,
  invalid_selection,
  match_closed,
  insufficient_funds,
  cart_empty,
  cart_full,
  idempotency_key_reused,
  match_suspended,
  stake_above_max,
  liability_limit_exceeded,
  cash_out_unavailable,
  deposit_limit_exceeded,
  stake_limit_exceeded,
  // 429: a rate limit; Error::retry_after says for how long.
  too_many_requests,
  // 503: a dependency (Redis, PostgreSQL) is down or timed out.
  service_unavailable,
  // Store-level canonical codes: never reach a client as such.
  conflict,  // unique or exclusion violation; Error::constraint names it
  internal,  // a bug or an unexpected answer from a dependency
};

struct FieldError {
  std::string field;
  std::string message;
};

struct [[nodiscard]] Error {
  Errc code = Errc::internal;
  std::string detail;
  std::vector<FieldError> field_errors;  // validation_failed
  std::vector<std::int64_t> item_ids;    // cart item errors
  std::string constraint;                // conflict: the violated constraint
  // More members of the problem body, each a name and its value as JSON text
  // (written as it is, so odds keep their two decimals): e.g. odds_changed's
  // {"current_odds", "1.95"}.
  std::vector<std::pair<std::string, std::string>> extras;
  // service_unavailable from a write that may have taken effect all the same
  // (the connection broke after the statement was sent, or the commit was
  // not confirmed by the synchronous standby): the writer must act as if it
  // had committed (invalidate), and the client cannot be told either way.
  bool outcome_unknown = false;
  // too_many_requests: the seconds until a retry may succeed (Retry-After).
  std::int64_t retry_after_seconds = 0;

  static Error make(Errc code, std::string detail = {}) {
    return Error{code, std::move(detail), {}, {}, {}, {}, false};
  }
  static Error unavailable(std::string detail) {
    return make(Errc::service_unavailable, std::move(detail));
  }
  static Error rate_limited(std::int64_t retry_after_seconds, std::string detail) {
    Error e = make(Errc::too_many_requests, std::move(detail));
    e.retry_after_seconds = retry_after_seconds < 1 ? 1 : retry_after_seconds;
    return e;
  }
  static Error internal(std::string detail) { return make(Errc::internal, std::move(detail)); }
  static Error validation(std::string field, std::string message) {
    Error e = make(Errc::validation_failed, "The request body is invalid.");
    e.field_errors.push_back({std::move(field), std::move(message)});
    return e;
  }
  static Error conflict(std::string constraint, std::string detail) {
    Error e = make(Errc::conflict, std::move(detail));
    e.constraint = std::move(constraint);
    return e;
  }

  bool is(Errc c) const { return code == c; }
};

// The stable machine-readable code, e.g. "duplicate_bet".
std::string_view code_name(Errc code);
// The HTTP status of a code (store-level codes map to 500 / 503 / 409).
int http_status(Errc code);
// A short human title, e.g. "Duplicate bet".
std::string_view code_title(Errc code);

}  // namespace betsdb

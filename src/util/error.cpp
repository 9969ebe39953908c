#include "util/error.hpp"

namespace betsdb {

namespace {
struct CodeInfo {
  std::string_view name;
  int status;
  std::string_view title;
};

CodeInfo info(Errc code) {
  // One line per code, as the table in docs/api.md.
  // clang-format off
  switch (code) {
    case Errc::bad_request: return {"bad_request", 400, "Bad request"};
    case Errc::invalid_json: return {"invalid_json", 400, "Malformed JSON"};
    case Errc::invalid_parameter: return {"invalid_parameter", 400, "Invalid query parameter"};
    case Errc::unauthorized: return {"unauthorized", 401, "Unauthorized"};
    case Errc::invalid_credentials: return {"invalid_credentials", 401, "Invalid credentials"};
    case Errc::forbidden: return {"forbidden", 403, "Forbidden"};
    case Errc::wrong_password: return {"wrong_password", 403, "Wrong password"};
    case Errc::self_excluded: return {"self_excluded", 403, "Betting paused"};
    case Errc::not_found: return {"not_found", 404, "Not found"};
    case Errc::user_not_found: return {"user_not_found", 404, "User not found"};
    case Errc::match_not_found: return {"match_not_found", 404, "Match not found"};
    case Errc::bet_not_found: return {"bet_not_found", 404, "Bet not found"};
    case Errc::item_not_found: return {"item_not_found", 404, "Cart item not found"};
    case Errc::operator_not_found: return {"operator_not_found", 404, "Operator not found"};
    case Errc::method_not_allowed: return {"method_not_allowed", 405, "Method not allowed"};
    case Errc::email_taken: return {"email_taken", 409, "Email already registered"};
    case Errc::duplicate_match: return {"duplicate_match", 409, "Duplicate match"};
    case Errc::duplicate_bet: return {"duplicate_bet", 409, "Duplicate bet"};
    case Errc::bet_in_progress: return {"bet_in_progress", 409, "Bet in progress"};
    case Errc::duplicate_item: return {"duplicate_item", 409, "Duplicate cart item"};
    case Errc::already_settled: return {"already_settled", 409, "Already settled"};
    case Errc::checkout_in_progress: return {"checkout_in_progress", 409, "Checkout in progress"};
    case Errc::odds_changed: return {"odds_changed", 409, "Odds changed"};
    case Errc::quote_expired: return {"quote_expired", 409, "Quote expired"};
    case Errc::exclusion_not_shortened: return {"self_excluded", 409, "Betting paused for longer"};
    case Errc::payload_too_large: return {"payload_too_large", 413, "Payload too large"};
    case Errc::unsupported_media_type:
      return {"unsupported_media_type", 415, "Unsupported media type"};
    case Errc::validation_failed: return {"validation_failed", 422, "Validation failed"};
    case Errc::invalid_selection: return {"invalid_selection", 422, "Invalid selection"};
    case Errc::match_closed: return {"match_closed", 422, "Match closed for betting"};
    case Errc::match_suspended: return {"match_suspended", 422, "Match suspended"};
    case Errc::stake_above_max: return {"stake_above_max", 422, "Stake above the maximum"};
    case Errc::liability_limit_exceeded: return {"liability_limit_exceeded", 422, "Liability limit exceeded"};
    case Errc::deposit_limit_exceeded: return {"deposit_limit_exceeded", 422, "Deposit limit exceeded"};
    case Errc::stake_limit_exceeded: return {"stake_limit_exceeded", 422, "Stake limit exceeded"};
    case Errc::cash_out_unavailable: return {"cash_out_unavailable", 422, "Cash-out unavailable"};
    case Errc::insufficient_funds: return {"insufficient_funds", 422, "Insufficient funds"};
    case Errc::cart_empty: return {"cart_empty", 422, "Cart is empty"};
    case Errc::cart_full: return {"cart_full", 422, "Cart is full"};
    case Errc::idempotency_key_reused:
      return {"idempotency_key_reused", 422, "Idempotency key reused"};
    case Errc::too_many_requests: return {"too_many_requests", 429, "Too many requests"};
    case Errc::service_unavailable:
      return {"service_unavailable", 503, "Service unavailable"};
    case Errc::conflict: return {"conflict", 409, "Conflict"};
    case Errc::internal: return {"internal_error", 500, "Internal server error"};
  }  // clang-format on

  return {"internal_error", 500, "Internal server error"};
}
}  // namespace

std::string_view code_name(Errc code) {
  return info(code).name;
}
int http_status(Errc code) {
  return info(code).status;
}
std::string_view code_title(Errc code) {
  return info(code).title;
}

}  // namespace betsdb

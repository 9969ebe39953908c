// Reading odds and the price a bettor accepts from request bodies (docs/api.md,
// "Odds" and "Prices, suspension and limits").
#pragma once

#include <boost/json/value.hpp>
#include <string>

#include "api/json_input.hpp"
#include "domain/odds.hpp"
#include "domain/trading.hpp"

namespace betsdb::api {

// A JSON number as odds: 1.01 .. 1000.00 with at most two decimals;
// validation_failed on `field` otherwise.
Result<domain::Odds> odds_from_json(const boost::json::value& v, const std::string& field);

// The optional "odds" and "accept_price_change" of a bet: without odds, any
// price; with odds, the policy given or "none". accept_price_change without
// odds is an error on that field.
domain::PriceRequest read_price_request(FieldReader& fields);

// Checkout's optional "accept_price_change" (default "any").
domain::PriceChangePolicy read_price_change_policy(FieldReader& fields,
                                                   domain::PriceChangePolicy fallback);

}  // namespace betsdb::api

#include "api/odds_input.hpp"

namespace betsdb::api {

namespace json = boost::json;

Result<domain::Odds> odds_from_json(const json::value& v, const std::string& field) {
  if (v.is_int64()) return domain::odds_from_integer(v.get_int64(), field);
  if (v.is_double()) return domain::odds_from_number(v.get_double(), field);
  if (v.is_uint64()) return domain::odds_from_number(static_cast<double>(v.get_uint64()), field);
  return Error::validation(field, "must be a number, not " + std::string(json_kind(v)));
}

domain::PriceChangePolicy read_price_change_policy(FieldReader& fields,
                                                   domain::PriceChangePolicy fallback) {
  auto text = fields.optional_string("accept_price_change");
  if (!text) return fallback;
  auto policy = domain::parse_price_change_policy(*text);
  if (!policy) {
    fields.add_error("accept_price_change", "must be \"none\", \"better\" or \"any\"");
    return fallback;
  }
  return *policy;
}

domain::PriceRequest read_price_request(FieldReader& fields) {
  domain::PriceRequest request;
  const json::value* odds = fields.optional_value("odds");
  const bool has_policy = fields.has("accept_price_change");
  request.policy = read_price_change_policy(fields, domain::PriceChangePolicy::none);
  if (odds == nullptr) {
    request.policy = domain::PriceChangePolicy::any;
    if (has_policy) fields.add_error("accept_price_change", "is allowed only together with odds");
    return request;
  }
  request.seen = fields.check(odds_from_json(*odds, "odds"));
  return request;
}

}  // namespace betsdb::api

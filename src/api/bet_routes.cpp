// Placing and reading bets, and settling matches (docs/api.md, "Bets").
#include "api/api_shard.hpp"
#include "api/betting_pause.hpp"
#include "api/idempotency.hpp"
#include "api/json_input.hpp"
#include "api/odds_input.hpp"
#include "api/query_params.hpp"
#include "api/views.hpp"
#include "domain/accumulator.hpp"
#include "service/accumulators.hpp"
#include "service/bets.hpp"

namespace betsdb::api {

namespace asio = boost::asio;
using http::Request;
using http::Response;

namespace {

std::string render_bet(const domain::Bet& bet) {
  std::string out;
  JsonWriter w(out);
  write_bet(w, bet);
  return out;
}

// One leg of an accumulator: {"match_id", "selection", "odds"?}; errors are
// named "legs[i].field". `policy` is the bet's accept_price_change.
std::optional<service::LegAsk> read_leg(FieldReader& fields, const boost::json::value& value,
                                        std::size_t index, domain::PriceChangePolicy policy,
                                        bool& any_odds) {
  const std::string prefix = "legs[" + std::to_string(index) + "]";
  if (!value.is_object()) {
    fields.add_error(prefix, "must be an object, not " + std::string(json_kind(value)));
    return std::nullopt;
  }
  FieldReader leg_fields(value.get_object());
  auto match_id = leg_fields.required_integer("match_id");
  auto selection_text = leg_fields.required_string("selection");
  const boost::json::value* odds = leg_fields.optional_value("odds");
  service::LegAsk leg;
  if (match_id && *match_id <= 0) leg_fields.add_error("match_id", "must be a positive integer");
  if (selection_text) {
    if (auto selection = domain::parse_selection(*selection_text)) {
      leg.selection = *selection;
    } else {
      leg_fields.add_error("selection", "must be \"1\", \"X\" or \"2\"");
    }
  }
  if (odds) {
    any_odds = true;
    leg.price.seen = leg_fields.check(odds_from_json(*odds, "odds"));
    leg.price.policy = policy;
  }
  if (auto s = leg_fields.finish(); !s.ok()) {
    for (const FieldError& e : s.error().field_errors)
      fields.add_error(prefix + "." + e.field, e.message);
    return std::nullopt;
  }
  leg.match_id = *match_id;
  return leg;
}

asio::awaitable<Result<Response>> place_accumulator_now(ApiShard& shard, const Request& req,
                                                        const boost::json::object& body) {
  FieldReader fields(body);
  auto user_id = fields.required_integer("user_id");
  auto stake = fields.required_integer("stake");
  const boost::json::value* legs = fields.optional_value("legs");
  const bool has_policy = fields.has("accept_price_change");
  const auto policy = read_price_change_policy(fields, domain::PriceChangePolicy::none);
  for (const char* single_only : {"match_id", "selection", "odds"}) {
    if (fields.has(single_only)) {
      fields.optional_value(single_only);
      fields.add_error("legs", "cannot come with " + std::string(single_only) +
                                   " (an accumulator names its matches in its legs)");
    }
  }
  service::PlaceAccumulator request;
  if (user_id && *user_id <= 0) fields.add_error("user_id", "must be a positive integer");
  if (stake)
    request.stake = fields.check(domain::stake_from(*stake, "stake")).value_or(domain::Money{});
  bool any_odds = false;
  if (!legs->is_array()) {
    fields.add_error("legs", "must be an array, not " + std::string(json_kind(*legs)));
  } else if (legs->get_array().size() < domain::kMinLegs ||
             legs->get_array().size() > domain::kMaxLegs) {
    fields.add_error("legs", "must have 2 to 10 legs");
  } else {
    bool all_read = true;
    const auto& array = legs->get_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
      auto leg = read_leg(fields, array[i], i, policy, any_odds);
      if (leg) {
        request.legs.push_back(*leg);
      } else {
        all_read = false;
      }
    }
    for (std::size_t i = 0; all_read && i < request.legs.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (request.legs[i].match_id == request.legs[j].match_id) {
          fields.add_error("legs", "must be on distinct matches (match " +
                                       std::to_string(request.legs[i].match_id) + " twice)");
          all_read = false;
          break;
        }
      }
    }
  }
  if (has_policy && !any_odds) {
    fields.add_error("accept_price_change", "is allowed only together with odds on some leg");
  }
  if (auto s = fields.finish(); !s.ok()) co_return std::move(s).error();
  if (*user_id != req.principal.user_id) {
    co_return Error::make(Errc::forbidden, "You can only place bets for yourself.");
  }
  request.user_id = *user_id;
  auto bet = co_await service::place_accumulator(shard.ctx, std::move(request));
  if (!bet.ok()) co_return std::move(bet).error();
  co_return json_response(201, render_bet(*bet));
}

asio::awaitable<Result<Response>> place_bet_now(ApiShard& shard, const Request& req) {
  auto body = json_object_body(req);
  if (!body.ok()) co_return std::move(body).error();
  if (body->contains("legs")) co_return co_await place_accumulator_now(shard, req, *body);
  FieldReader fields(*body);
  auto user_id = fields.required_integer("user_id");
  auto match_id = fields.required_integer("match_id");
  auto selection_text = fields.required_string("selection");
  auto stake = fields.required_integer("stake");

  service::PlaceBet request;
  request.price = read_price_request(fields);
  if (user_id && *user_id <= 0) fields.add_error("user_id", "must be a positive integer");
  if (match_id && *match_id <= 0) fields.add_error("match_id", "must be a positive integer");
  if (selection_text) {
    auto selection = domain::parse_selection(*selection_text);
    if (selection)
      request.selection = *selection;
    else
      fields.add_error("selection", "must be \"1\", \"X\" or \"2\"");
  }
  if (stake)
    request.stake = fields.check(domain::stake_from(*stake, "stake")).value_or(domain::Money{});
  if (auto s = fields.finish(); !s.ok()) co_return std::move(s).error();
  if (*user_id != req.principal.user_id) {
    co_return Error::make(Errc::forbidden, "You can only place bets for yourself.");
  }
  request.user_id = *user_id;
  request.match_id = *match_id;

  auto bet = co_await service::place_bet(shard.ctx, request);
  if (!bet.ok()) co_return std::move(bet).error();
  co_return json_response(201, render_bet(*bet));
}

asio::awaitable<Response> place_bet_checked(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  // Named, not a temporary in the co_await: g++ 12 destroys such temporaries twice.
  Action action = [&shard, &req]() { return place_bet_now(shard, req); };
  co_return co_await idempotent(shard, req, req.principal.user_id,
                                IdempotentRoute{"bets", Errc::bet_in_progress}, std::move(action));
}

asio::awaitable<Response> place_bet(ApiShard& shard, Request& req) {
  Response response = co_await place_bet_checked(shard, req);
  co_return co_await pause_answers_first(shard, req.principal.user_id, std::move(response));
}

asio::awaitable<Response> get_bet(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  // An operator whose role reads no accounts (a trader): 403 before the
  // look-up, so that a 404 tells them nothing of which bets exist.
  if (req.principal.is_operator() && !req.principal.may_read_accounts()) {
    co_return error_response(Error::make(Errc::forbidden, "This role may not read bets."));
  }
  auto bet = co_await service::get_bet(shard.ctx, req.path_ids[0]);
  if (!bet.ok()) co_return error_response(bet.error());
  if (!req.principal.may_read_accounts() && bet->user_id != req.principal.user_id) {
    co_return error_response(Error::make(Errc::forbidden, "This bet belongs to another user."));
  }
  co_return json_response(200, render_bet(*bet));
}

asio::awaitable<Response> settle_match(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  auto body = json_object_body(req);
  if (!body.ok()) co_return error_response(body.error());
  FieldReader fields(*body);
  auto result_text = fields.required_string("result");
  domain::MatchResult result = domain::MatchResult::void_;
  if (result_text) {
    auto parsed = domain::parse_match_result(*result_text);
    if (parsed)
      result = *parsed;
    else
      fields.add_error("result", "must be \"1\", \"X\", \"2\" or \"void\"");
  }
  if (auto s = fields.finish(); !s.ok()) co_return error_response(s.error());

  const std::optional<domain::Actor> actor = domain::Actor{req.principal.actor(), req.request_id};
  auto settled = co_await service::settle_match(shard.ctx, req.path_ids[0], result, actor);
  if (!settled.ok()) co_return error_response(settled.error());
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("match");
  write_match(w, settled->match);
  const auto& t = settled->totals;
  w.key("settled")
      .begin_object()
      .field("won", t.won)
      .field("lost", t.lost)
      .field("void", t.voided)
      .field("paid_out", t.paid_out)
      .field("refunded", t.refunded)
      .end_object();
  w.end_object();
  co_return json_response(200, std::move(out));
}

}  // namespace

void add_bet_routes(http::Router& router, ApiShard& shard) {
  auto bind = [&shard](asio::awaitable<Response> (*fn)(ApiShard&, Request&)) {
    return [&shard, fn](Request& req) { return fn(shard, req); };
  };
  router.add({http::Method::post, "/v1/bets", bettor(shard.auth), bind(place_bet)});
  router.add({http::Method::get, "/v1/bets/{id}", signed_in(shard.auth), bind(get_bet)});
  router.add(
      {http::Method::post, "/v1/matches/{id}/result", trader(shard.auth), bind(settle_match)});
}

}  // namespace betsdb::api

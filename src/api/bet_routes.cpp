// Placing and reading bets, and settling matches (docs/api.md, "Bets").
#include "api/api_shard.hpp"
#include "api/idempotency.hpp"
#include "api/json_input.hpp"
#include "api/odds_input.hpp"
#include "api/query_params.hpp"
#include "api/views.hpp"
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

asio::awaitable<Result<Response>> place_bet_now(ApiShard& shard, const Request& req) {
  auto body = json_object_body(req);
  if (!body.ok()) co_return std::move(body).error();
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

asio::awaitable<Response> place_bet(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  // Named, not a temporary in the co_await: g++ 12 destroys such temporaries twice.
  Action action = [&shard, &req]() { return place_bet_now(shard, req); };
  co_return co_await idempotent(shard, req, req.principal.user_id,
                                IdempotentRoute{"bets", Errc::bet_in_progress}, std::move(action));
}

asio::awaitable<Response> get_bet(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  auto bet = co_await service::get_bet(shard.ctx, req.path_ids[0]);
  if (!bet.ok()) co_return error_response(bet.error());
  if (!req.principal.is_admin() && bet->user_id != req.principal.user_id) {
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

  auto settled = co_await service::settle_match(shard.ctx, req.path_ids[0], result);
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
      {http::Method::post, "/v1/matches/{id}/result", admin_only(shard.auth), bind(settle_match)});
}

}  // namespace betsdb::api

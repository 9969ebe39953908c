// Cash-out: a quote, then its acceptance (docs/api.md, "Cash-out").
#include <boost/json/serialize.hpp>

#include "api/api_shard.hpp"
#include "api/idempotency.hpp"
#include "api/json_input.hpp"
#include "api/query_params.hpp"
#include "api/views.hpp"
#include "service/cash_out.hpp"

namespace betsdb::api {

namespace asio = boost::asio;
using http::Request;
using http::Response;

namespace {

asio::awaitable<Response> quote(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  auto body = optional_json_object_body(req);
  if (!body.ok()) co_return error_response(body.error());
  FieldReader fields(*body);
  if (auto s = fields.finish(); !s.ok()) co_return error_response(s.error());
  auto quoted = co_await service::quote_cash_out(shard.ctx, req.principal.user_id, req.path_ids[0]);
  if (!quoted.ok()) co_return error_response(quoted.error());
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .field("quote_id", quoted->quote_id)
      .field("bet_id", quoted->bet_id)
      .field("amount", quoted->amount.cents())
      .field("expires_at", domain::format_rfc3339(quoted->expires_at))
      .end_object();
  co_return json_response(201, std::move(out));
}

asio::awaitable<Result<Response>> cash_out_now(ApiShard& shard, const Request& req) {
  auto body = json_object_body(req);
  if (!body.ok()) co_return std::move(body).error();
  FieldReader fields(*body);
  // Opaque: sent back as received, a string (as we issue them) or a number.
  const boost::json::value* given = fields.optional_value("quote_id");
  std::string quote_id;
  if (!given) {
    fields.add_error("quote_id", "is required");
  } else if (given->is_string()) {
    quote_id = std::string(given->get_string());
  } else if (given->is_number()) {
    // Ours are strings: a number is a quote we never gave (quote_expired).
    quote_id = "number:" + boost::json::serialize(*given);
  } else {
    fields.add_error("quote_id",
                     "must be a string or a number, not " + std::string(json_kind(*given)));
  }
  if (given && quote_id.empty() && given->is_string()) fields.add_error("quote_id", "is empty");
  if (quote_id.size() > 200) fields.add_error("quote_id", "is too long");
  if (auto s = fields.finish(); !s.ok()) co_return std::move(s).error();
  auto bet = co_await service::accept_cash_out(shard.ctx, req.principal.user_id, req.path_ids[0],
                                               quote_id);
  if (!bet.ok()) co_return std::move(bet).error();
  std::string out;
  JsonWriter w(out);
  write_bet(w, *bet);
  co_return json_response(200, std::move(out));
}

asio::awaitable<Response> cash_out(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  // Named, not a temporary in the co_await: g++ 12 destroys such temporaries twice.
  Action action = [&shard, &req]() { return cash_out_now(shard, req); };
  co_return co_await idempotent(shard, req, req.principal.user_id,
                                IdempotentRoute{"cash-out", Errc::bet_in_progress},
                                std::move(action));
}

}  // namespace

void add_cash_out_routes(http::Router& router, ApiShard& shard) {
  auto bind = [&shard](asio::awaitable<Response> (*fn)(ApiShard&, Request&)) {
    return [&shard, fn](Request& req) { return fn(shard, req); };
  };
  router.add({http::Method::post, "/v1/bets/{id}/cash-out/quote", bettor(shard.auth), bind(quote)});
  router.add({http::Method::post, "/v1/bets/{id}/cash-out", bettor(shard.auth), bind(cash_out)});
}

}  // namespace betsdb::api

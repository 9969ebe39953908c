// The betting cart (docs/api.md, "Cart"): the user's own token only.
#include <boost/json/monotonic_resource.hpp>

#include "api/api_shard.hpp"
#include "api/betting_pause.hpp"
#include "api/idempotency.hpp"
#include "api/json_input.hpp"
#include "api/odds_input.hpp"
#include "api/query_params.hpp"
#include "api/views.hpp"
#include "service/cart.hpp"

namespace betsdb::api {

namespace asio = boost::asio;
namespace json = boost::json;
using http::Request;
using http::Response;

namespace {

void write_cart_line(JsonWriter& w, const service::CartLine& line) {
  const domain::CartItem& item = line.item;
  w.begin_object()
      .field("item_id", item.item_id)
      .field("match_id", item.match_id)
      .field("selection", domain::to_string(item.selection))
      .field("stake", item.stake.cents());
  w.key("odds");
  if (line.odds) {
    w.raw(line.odds->to_string());
  } else {
    w.null();
  }
  w.key("odds_at_add");
  if (item.odds_at_add) {
    w.raw(item.odds_at_add->to_string());
  } else {
    w.null();
  }
  w.field("added_at", domain::format_rfc3339(item.added_at)).end_object();
}

std::string render_line(const service::CartLine& line) {
  std::string out;
  JsonWriter w(out);
  write_cart_line(w, line);
  return out;
}

// Cart routes take no query parameters: any is 400 invalid_parameter.
Status no_query(const Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) return std::move(q).error();
  return {};
}

std::optional<domain::Selection> read_selection(FieldReader& fields,
                                                const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  auto selection = domain::parse_selection(*text);
  if (!selection) fields.add_error("selection", "must be \"1\", \"X\" or \"2\"");
  return selection;
}

std::optional<domain::Money> read_stake(FieldReader& fields,
                                        const std::optional<std::int64_t>& cents) {
  if (!cents) return std::nullopt;
  return fields.check(domain::stake_from(*cents, "stake"));
}

asio::awaitable<Response> get_cart(ApiShard& shard, Request& req) {
  if (auto s = no_query(req); !s.ok()) co_return error_response(s.error());
  auto cart = co_await service::view_cart(shard.ctx, req.path_ids[0]);
  if (!cart.ok()) co_return error_response(cart.error());
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("items").begin_array();
  for (const auto& line : cart->lines) write_cart_line(w, line);
  w.end_array()
      .field("total_stake", cart->total_stake.cents())
      .field("expires_in", static_cast<std::int64_t>(cart->expires_in.count()))
      .end_object();
  co_return json_response(200, std::move(out));
}

// The body of an add, read into a value. A plain function: the parsed JSON
// lives in a stack buffer that is gone before the route first waits.
Result<service::AddCartItem> read_add_item(const Request& req) {
  if (auto s = no_query(req); !s.ok()) return std::move(s).error();
  unsigned char buffer[1024];
  json::monotonic_resource arena(buffer, sizeof buffer);
  auto body = json_object_body(req, &arena);
  if (!body.ok()) return std::move(body).error();
  FieldReader fields(*body);
  auto match_id = fields.required_integer("match_id");
  auto selection = read_selection(fields, fields.required_string("selection"));
  auto stake = read_stake(fields, fields.required_integer("stake"));
  if (match_id && *match_id <= 0) fields.add_error("match_id", "must be a positive integer");
  if (auto s = fields.finish(); !s.ok()) return std::move(s).error();
  return service::AddCartItem{*match_id, *selection, *stake};
}

asio::awaitable<Response> add_item_checked(ApiShard& shard, Request& req) {
  auto request = read_add_item(req);
  if (!request.ok()) co_return error_response(request.error());
  auto line = co_await service::add_to_cart(shard.ctx, req.path_ids[0], *request);
  if (!line.ok()) co_return error_response(line.error());
  co_return json_response(201, render_line(*line));
}

asio::awaitable<Response> change_item_checked(ApiShard& shard, Request& req) {
  if (auto s = no_query(req); !s.ok()) co_return error_response(s.error());
  auto body = json_object_body(req);
  if (!body.ok()) co_return error_response(body.error());
  FieldReader fields(*body);
  domain::CartItemChange change;
  change.selection = read_selection(fields, fields.optional_string("selection"));
  change.stake = read_stake(fields, fields.optional_integer("stake"));
  // A change that names nothing is more likely a client bug than a wish to
  // do nothing (docs/openapi.yaml: minProperties 1).
  if (body->empty()) fields.add_error("body", "must name stake and/or selection");
  if (auto s = fields.finish(); !s.ok()) co_return error_response(s.error());

  auto line =
      co_await service::change_cart_item(shard.ctx, req.path_ids[0], req.path_ids[1], change);
  if (!line.ok()) co_return error_response(line.error());
  co_return json_response(200, render_line(*line));
}

asio::awaitable<Response> remove_item_checked(ApiShard& shard, Request& req) {
  if (auto s = no_query(req); !s.ok()) co_return error_response(s.error());
  auto removed = co_await service::remove_from_cart(shard.ctx, req.path_ids[0], req.path_ids[1]);
  if (!removed.ok()) co_return error_response(removed.error());
  co_return Response::no_content();
}

asio::awaitable<Response> clear_cart_checked(ApiShard& shard, Request& req) {
  if (auto s = no_query(req); !s.ok()) co_return error_response(s.error());
  auto cleared = co_await service::clear_cart(shard.ctx, req.path_ids[0]);
  if (!cleared.ok()) co_return error_response(cleared.error());
  co_return Response::no_content();
}

asio::awaitable<Result<Response>> checkout_now(ApiShard& shard, const Request& req) {
  if (auto s = no_query(req); !s.ok()) co_return std::move(s).error();
  // No body, {}, or the price policy: anything else is a field the contract
  // does not know. Without a policy, items take the odds as of checkout.
  auto body = optional_json_object_body(req);
  if (!body.ok()) co_return std::move(body).error();
  FieldReader fields(*body);
  const domain::PriceChangePolicy policy =
      read_price_change_policy(fields, domain::PriceChangePolicy::any);
  if (auto s = fields.finish(); !s.ok()) co_return std::move(s).error();

  auto placed = co_await service::checkout(shard.ctx, req.path_ids[0], policy);
  if (!placed.ok()) co_return std::move(placed).error();
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("bets").begin_array();
  for (const auto& bet : placed->bets) write_bet(w, bet);
  w.end_array()
      .field("total_stake", placed->total_stake.cents())
      .field("balance", placed->balance.cents())
      .end_object();
  co_return json_response(201, std::move(out));
}

asio::awaitable<Response> checkout_checked(ApiShard& shard, Request& req) {
  // Named, not temporaries inside the co_await: g++ 12 may destroy those twice.
  Action action = [&shard, &req]() { return checkout_now(shard, req); };
  const IdempotentRoute route{"checkout", Errc::checkout_in_progress};
  co_return co_await idempotent(shard, req, req.principal.user_id, route, std::move(action));
}

// Each cart write, with a running pause answering first (api/betting_pause.hpp).
template <asio::awaitable<Response> (*Write)(ApiShard&, Request&)>
asio::awaitable<Response> pause_first(ApiShard& shard, Request& req) {
  Response response = co_await Write(shard, req);
  co_return co_await pause_answers_first(shard, req.path_ids[0], std::move(response));
}
asio::awaitable<Response> add_item(ApiShard& shard, Request& req) {
  return pause_first<add_item_checked>(shard, req);
}
asio::awaitable<Response> change_item(ApiShard& shard, Request& req) {
  return pause_first<change_item_checked>(shard, req);
}
asio::awaitable<Response> remove_item(ApiShard& shard, Request& req) {
  return pause_first<remove_item_checked>(shard, req);
}
asio::awaitable<Response> clear_cart(ApiShard& shard, Request& req) {
  return pause_first<clear_cart_checked>(shard, req);
}
asio::awaitable<Response> checkout(ApiShard& shard, Request& req) {
  return pause_first<checkout_checked>(shard, req);
}

}  // namespace

void add_cart_routes(http::Router& router, ApiShard& shard) {
  auto bind = [&shard](asio::awaitable<Response> (*fn)(ApiShard&, Request&)) {
    return [&shard, fn](Request& req) { return fn(shard, req); };
  };
  router.add({http::Method::get, "/v1/users/{id}/cart", owner_only(shard.auth), bind(get_cart)});
  router.add({http::Method::del, "/v1/users/{id}/cart", owner_only(shard.auth), bind(clear_cart)});
  router.add(
      {http::Method::post, "/v1/users/{id}/cart/items", owner_only(shard.auth), bind(add_item)});
  router.add({http::Method::patch, "/v1/users/{id}/cart/items/{id}", owner_only(shard.auth),
              bind(change_item)});
  router.add({http::Method::del, "/v1/users/{id}/cart/items/{id}", owner_only(shard.auth),
              bind(remove_item)});
  router.add(
      {http::Method::post, "/v1/users/{id}/cart/checkout", owner_only(shard.auth), bind(checkout)});
}

}  // namespace betsdb::api

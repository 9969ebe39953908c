// Users, deposits and the ledger (docs/api.md, "Users").
#include "api/api_shard.hpp"
#include "api/betting_pause.hpp"
#include "api/idempotency.hpp"
#include "api/json_input.hpp"
#include "api/query_params.hpp"
#include "api/views.hpp"
#include "domain/text.hpp"
#include "http/client_address.hpp"
#include "service/accounts.hpp"
#include "service/users.hpp"

namespace betsdb::api {

namespace asio = boost::asio;
using http::Request;
using http::Response;

namespace {

std::string render_user(const domain::User& user) {
  std::string out;
  JsonWriter w(out);
  write_user(w, user);
  return out;
}

asio::awaitable<Response> create_user(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  // Counted before the body: a flood of bad bodies is a flood all the same.
  if (!req.principal.is_admin()) {
    auto allowed =
        co_await service::count_sign_up(shard.ctx, http::client_block(req.client_address));
    if (!allowed.ok()) co_return error_response(allowed.error());
  }
  auto body = json_object_body(req);
  if (!body.ok()) co_return error_response(body.error());
  if (body->contains("balance") && !req.principal.is_admin()) {
    co_return error_response(
        Error::make(Errc::forbidden, "Only the admin may set an initial balance."));
  }
  FieldReader fields(*body);
  auto email = fields.required_string("email");
  auto name = fields.required_string("name");
  auto balance = fields.optional_integer("balance");
  auto password = fields.optional_string("password");
  service::SignUp request;
  if (password) request.password = fields.check(domain::password_from(*password, "password"));
  if (req.principal.is_admin())
    request.actor = domain::Actor{req.principal.actor(), req.request_id};
  if (email) request.email = fields.check(domain::normalize_email(*email)).value_or("");
  if (name) request.name = fields.check(domain::normalize_name(*name, "name")).value_or("");
  if (balance) {
    request.initial_balance =
        fields.check(domain::deposit_from(*balance, "balance")).value_or(domain::Money{});
  }
  if (auto s = fields.finish(); !s.ok()) co_return error_response(s.error());

  auto created = co_await service::sign_up(shard.ctx, std::move(request));
  if (!created.ok()) co_return error_response(created.error());
  std::string out;
  JsonWriter w(out);
  const auto& u = created->user;
  w.begin_object()
      .field("id", u.id)
      .field("email", u.email)
      .field("name", u.name)
      .field("balance", u.balance.cents())
      .field("created_at", domain::format_rfc3339(u.created_at))
      .field("token", created->token)
      .end_object();
  co_return json_response(201, std::move(out));
}

asio::awaitable<Response> get_user(ApiShard& shard, Request& req) {
  if (!req.query.empty()) {
    auto q = QueryParams::parse(req.query, {});
    if (!q.ok()) co_return error_response(q.error());
  }
  auto user = co_await service::get_user(shard.ctx, req.path_ids[0]);
  if (!user.ok()) co_return error_response(user.error());
  co_return json_response(200, render_user(*user));
}

asio::awaitable<Response> deposit_checked(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  auto key = idempotency_key(req);
  if (!key.ok()) co_return error_response(key.error());
  auto body = json_object_body(req);
  if (!body.ok()) co_return error_response(body.error());
  FieldReader fields(*body);
  auto amount = fields.required_integer("amount");
  domain::Money money;
  if (amount)
    money = fields.check(domain::deposit_from(*amount, "amount")).value_or(domain::Money{});
  if (auto s = fields.finish(); !s.ok()) co_return error_response(s.error());
  const domain::Actor actor{req.principal.actor(), req.request_id};
  auto result = co_await service::deposit(shard.ctx, req.path_ids[0], money, *key, actor);
  if (!result.ok()) co_return error_response(result.error());
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("balance", result->deposit.balance.cents()).key("transaction");
  write_ledger_entry(w, result->deposit.entry);
  w.end_object();
  Response response = json_response(201, std::move(out));
  if (result->replayed) response.headers.push_back({"idempotent-replayed", "true"});
  co_return response;
}

// The deposit statement refuses a paused user itself; a refusal for another
// reason yields to the pause (api/betting_pause.hpp).
asio::awaitable<Response> deposit(ApiShard& shard, Request& req) {
  Response response = co_await deposit_checked(shard, req);
  co_return co_await pause_answers_first(shard, req.path_ids[0], std::move(response));
}

asio::awaitable<Response> list_transactions(ApiShard& shard, Request& req) {
  auto q = QueryParams::parse(req.query, {"limit", "offset"});
  if (!q.ok()) co_return error_response(q.error());
  auto page = q->page();
  if (!page.ok()) co_return error_response(page.error());
  auto entries = co_await service::list_transactions(shard.ctx, req.path_ids[0], *page);
  if (!entries.ok()) co_return error_response(entries.error());
  co_return json_response(200, render_page(*entries, *page, write_ledger_entry));
}

asio::awaitable<Response> list_users(ApiShard& shard, Request& req) {
  auto q = QueryParams::parse(req.query, {"q", "limit", "offset"});
  if (!q.ok()) co_return error_response(q.error());
  domain::UserFilter filter;
  if (auto search = q->get("q")) {
    auto s = domain::normalize_search(*search, "q");
    if (!s.ok()) {
      co_return error_response(
          invalid_parameter("q", "must be 2 to 100 characters, without control characters"));
    }
    filter.search = std::move(*s);
  }
  auto page = q->page();
  if (!page.ok()) co_return error_response(page.error());
  auto users = co_await service::list_users(shard.ctx, filter, *page);
  if (!users.ok()) co_return error_response(users.error());
  co_return json_response(200, render_page(*users, *page, write_user));
}

}  // namespace

void add_user_routes(http::Router& router, ApiShard& shard) {
  auto bind = [&shard](asio::awaitable<Response> (*fn)(ApiShard&, Request&)) {
    return [&shard, fn](Request& req) { return fn(shard, req); };
  };
  router.add({http::Method::post, "/v1/users", anyone(shard.auth), bind(create_user)});
  router.add({http::Method::get, "/v1/users", account_reader(shard.auth), bind(list_users)});
  router.add(
      {http::Method::get, "/v1/users/{id}", self_or_account_reader(shard.auth), bind(get_user)});
  router.add(
      {http::Method::post, "/v1/users/{id}/deposits", admin_only(shard.auth), bind(deposit)});
  router.add({http::Method::get, "/v1/users/{id}/transactions", self_or_account_reader(shard.auth),
              bind(list_transactions)});
}

}  // namespace betsdb::api

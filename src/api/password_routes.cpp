// Changing a password (docs/api.md, "Sessions": PUT .../password): a
// bettor's own, an operator's own, or an admin's reset of an operator's.
#include "api/api_shard.hpp"
#include "api/json_input.hpp"
#include "api/query_params.hpp"
#include "http/client_address.hpp"
#include "service/accounts.hpp"

namespace betsdb::api {

namespace asio = boost::asio;
using http::Request;
using http::Response;

namespace {

// The body's fields, checked; `by_holder` says whether current_password may
// be given (an admin's reset has nothing to prove).
Result<service::PasswordChangeRequest> read_change(Request& req, bool by_holder) {
  auto body = json_object_body(req);
  if (!body.ok()) return body.error();
  FieldReader fields(*body);
  service::PasswordChangeRequest change;
  change.by_holder = by_holder;
  change.current = fields.optional_string("current_password");
  if (change.current && !by_holder) {
    fields.add_error("current_password", "is for the operator's own change, not an admin's reset");
  }
  if (auto next = fields.required_string("new_password")) {
    change.new_password =
        fields.check(domain::password_from(*next, "new_password")).value_or(std::string());
  }
  if (auto s = fields.finish(); !s.ok()) return s.error();
  return change;
}

asio::awaitable<Response> answer(ApiShard& shard, Request& req,
                                 service::PasswordChangeRequest change) {
  if (change.by_holder) {
    // The guard let the request in, so it carries a well-formed bearer token.
    change.asked_with = sha256(bearer_token(req).value_or(""));
  }
  const domain::Actor actor{req.principal.actor(), req.request_id};
  // Named: g++ 12 destroys a temporary inside a co_await expression twice.
  const std::string client = http::client_block(req.client_address);
  auto changed = co_await service::change_password(shard.ctx, std::move(change), actor, client);
  if (!changed.ok()) co_return error_response(changed.error());
  co_return Response::no_content();
}

asio::awaitable<Response> change_user_password(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  auto change = read_change(req, true);
  if (!change.ok()) co_return error_response(change.error());
  change->account.id = req.path_ids[0];
  co_return co_await answer(shard, req, std::move(*change));
}

asio::awaitable<Response> change_operator_password(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  const bool own = req.principal.is_operator() && req.principal.operator_id == req.path_ids[0];
  auto change = read_change(req, own);
  if (!change.ok()) co_return error_response(change.error());
  change->account.kind = domain::Account::Kind::operator_account;
  change->account.id = req.path_ids[0];
  co_return co_await answer(shard, req, std::move(*change));
}

}  // namespace

void add_password_routes(http::Router& router, ApiShard& shard) {
  auto bind = [&shard](asio::awaitable<Response> (*fn)(ApiShard&, Request&)) {
    return [&shard, fn](Request& req) { return fn(shard, req); };
  };
  router.add({http::Method::put, "/v1/users/{id}/password", account_holder(shard.auth),
              bind(change_user_password)});
  router.add({http::Method::put, "/v1/operators/{id}/password", operator_self_or_admin(shard.auth),
              bind(change_operator_password)});
}

}  // namespace betsdb::api

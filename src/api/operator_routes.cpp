// Operators and the audit (docs/api.md, "Operators" and "Audit").
#include "api/api_shard.hpp"
#include "api/json_input.hpp"
#include "api/query_params.hpp"
#include "api/views.hpp"
#include "domain/text.hpp"
#include "service/accounts.hpp"

namespace betsdb::api {

namespace asio = boost::asio;
using http::Request;
using http::Response;

namespace {

void write_operator(JsonWriter& w, const domain::Operator& op) {
  std::optional<std::string> disabled_at;
  if (op.disabled_at) disabled_at = domain::format_rfc3339(*op.disabled_at);
  w.begin_object()
      .field("id", op.id)
      .field("email", op.email)
      .field("role", domain::to_string(op.role))
      .field("created_at", domain::format_rfc3339(op.created_at))
      .field("disabled_at", disabled_at)
      .end_object();
}

std::string render_operator(const domain::Operator& op) {
  std::string out;
  JsonWriter w(out);
  write_operator(w, op);
  return out;
}

asio::awaitable<Response> create_operator(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  auto body = json_object_body(req);
  if (!body.ok()) co_return error_response(body.error());
  FieldReader fields(*body);
  auto email = fields.required_string("email");
  auto password = fields.required_string("password");
  auto role_text = fields.required_string("role");
  std::string normalised, checked_password;
  std::optional<domain::OperatorRole> role;
  if (email) normalised = fields.check(domain::normalize_email(*email)).value_or("");
  if (password)
    checked_password = fields.check(domain::password_from(*password, "password")).value_or("");
  if (role_text) {
    role = domain::parse_operator_role(*role_text);
    if (!role) fields.add_error("role", "must be one of admin, trader, support");
  }
  if (auto s = fields.finish(); !s.ok()) co_return error_response(s.error());

  const domain::Actor actor{req.principal.actor(), req.request_id};
  auto created = co_await service::create_operator(shard.ctx, normalised, *role,
                                                   std::move(checked_password), actor);
  if (!created.ok()) co_return error_response(created.error());
  co_return json_response(201, render_operator(*created));
}

asio::awaitable<Response> list_operators(ApiShard& shard, Request& req) {
  auto q = QueryParams::parse(req.query, {"limit", "offset"});
  if (!q.ok()) co_return error_response(q.error());
  auto page = q->page();
  if (!page.ok()) co_return error_response(page.error());
  auto operators = co_await service::list_operators(shard.ctx, *page);
  if (!operators.ok()) co_return error_response(operators.error());
  co_return json_response(200, render_page(*operators, *page, write_operator));
}

asio::awaitable<Response> patch_operator(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  auto body = json_object_body(req);
  if (!body.ok()) co_return error_response(body.error());
  FieldReader fields(*body);
  domain::OperatorChange change;
  if (auto role_text = fields.optional_string("role")) {
    change.role = domain::parse_operator_role(*role_text);
    if (!change.role) fields.add_error("role", "must be one of admin, trader, support");
  }
  change.disabled = fields.optional_boolean("disabled");
  // A change that names nothing is more likely a client bug than a wish to
  // do nothing (docs/openapi.yaml: minProperties 1).
  if (body->empty()) fields.add_error("body", "must name role and/or disabled");
  if (auto s = fields.finish(); !s.ok()) co_return error_response(s.error());
  const domain::Actor actor{req.principal.actor(), req.request_id};
  auto updated = co_await service::update_operator(shard.ctx, req.path_ids[0], change, actor);
  if (!updated.ok()) co_return error_response(updated.error());
  co_return json_response(200, render_operator(*updated));
}

void write_audit_entry(JsonWriter& w, const domain::AuditEntry& e) {
  w.begin_object()
      .field("id", e.id)
      .field("at", domain::format_rfc3339(e.at))
      .field("actor", e.actor)
      .field("action", e.action)
      .field("target", e.target)
      .field("request_id", e.request_id)
      .key("details")
      .raw(e.details)
      .end_object();
}

asio::awaitable<Response> list_audit(ApiShard& shard, Request& req) {
  auto q = QueryParams::parse(req.query, {"limit", "offset", "actor", "action"});
  if (!q.ok()) co_return error_response(q.error());
  auto page = q->page();
  if (!page.ok()) co_return error_response(page.error());
  service::AuditQuery query;
  if (auto actor = q->get("actor")) {
    if (!domain::is_actor_name(*actor)) {
      co_return error_response(invalid_parameter("actor", "must be 'owner' or 'operator:<id>'"));
    }
    query.actor = std::string(*actor);
  }
  if (auto action = q->get("action")) {
    if (!domain::parse_audit_action(*action)) {
      co_return error_response(invalid_parameter("action", "is not an audited action"));
    }
    query.action = std::string(*action);
  }
  auto entries = co_await service::list_audit(shard.ctx, query, *page);
  if (!entries.ok()) co_return error_response(entries.error());
  co_return json_response(200, render_page(*entries, *page, write_audit_entry));
}

}  // namespace

void add_operator_routes(http::Router& router, ApiShard& shard) {
  auto bind = [&shard](asio::awaitable<Response> (*fn)(ApiShard&, Request&)) {
    return [&shard, fn](Request& req) { return fn(shard, req); };
  };
  router.add({http::Method::post, "/v1/operators", admin_only(shard.auth), bind(create_operator)});
  router.add({http::Method::get, "/v1/operators", admin_only(shard.auth), bind(list_operators)});
  router.add(
      {http::Method::patch, "/v1/operators/{id}", admin_only(shard.auth), bind(patch_operator)});
  router.add({http::Method::get, "/v1/audit", admin_only(shard.auth), bind(list_audit)});
}

}  // namespace betsdb::api

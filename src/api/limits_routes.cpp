// Responsible gambling (docs/api.md, "Responsible gambling"): a bettor's
// limits, self-exclusion and time-outs.
#include "api/api_shard.hpp"
#include "api/json_input.hpp"
#include "api/query_params.hpp"
#include "api/views.hpp"
#include "domain/limits.hpp"
#include "service/responsible_gambling.hpp"

namespace betsdb::api {

namespace asio = boost::asio;
using http::Request;
using http::Response;

namespace {

void write_amount(JsonWriter& w, const std::optional<domain::Money>& amount) {
  if (amount) {
    w.value(amount->cents());
  } else {
    w.null();
  }
}

void write_until(JsonWriter& w, std::string_view name,
                 const std::optional<domain::Timestamp>& until) {
  w.key(name);
  if (until) {
    w.value(domain::format_rfc3339(*until));
  } else {
    w.null();
  }
}

std::string render_limits(const domain::Limits& limits) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  for (domain::LimitKind kind : domain::kLimitKinds) {
    const auto& by_period = kind == domain::LimitKind::deposit ? limits.deposit : limits.stake;
    w.key(to_string(kind)).begin_object();
    for (domain::LimitPeriod period : domain::kLimitPeriods) {
      w.key(to_string(period));
      write_amount(w, by_period[static_cast<std::size_t>(period)]);
    }
    w.end_object();
  }
  w.key("pending").begin_array();
  for (const auto& p : limits.pending) {
    w.begin_object().field("kind", to_string(p.kind)).field("period", to_string(p.period));
    w.key("amount");
    write_amount(w, p.amount);
    w.field("effective_at", domain::format_rfc3339(p.effective_at)).end_object();
  }
  w.end_array();
  write_until(w, "self_excluded_until", limits.self_excluded_until);
  write_until(w, "timeout_until", limits.timeout_until);
  w.end_object();
  return out;
}

// One kind's object of a PUT body; its problems are named "<kind>.<period>".
void read_changes(FieldReader& fields, domain::LimitKind kind,
                  std::vector<domain::UserLimitChange>& changes) {
  const std::string_view name = to_string(kind);
  const boost::json::object* object = fields.optional_object(name);
  if (!object) return;
  FieldReader inner(*object);
  for (domain::LimitPeriod period : domain::kLimitPeriods) {
    const std::string_view period_name = to_string(period);
    auto value = inner.optional_nullable_integer(period_name);
    if (!value) continue;
    domain::UserLimitChange change{kind, period, std::nullopt};
    if (*value) {
      auto amount = inner.check(domain::limit_from(**value, period_name));
      if (!amount) continue;
      change.amount = *amount;
    }
    changes.push_back(change);
  }
  if (auto s = inner.finish(); !s.ok()) {
    for (const auto& e : s.error().field_errors) {
      fields.add_error(std::string(name) + "." + e.field, e.message);
    }
  }
}

asio::awaitable<Response> get_limits(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  auto limits = co_await service::get_limits(shard.ctx, req.path_ids[0]);
  if (!limits.ok()) co_return error_response(limits.error());
  co_return json_response(200, render_limits(*limits));
}

asio::awaitable<Response> put_limits(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  auto body = json_object_body(req);
  if (!body.ok()) co_return error_response(body.error());
  FieldReader fields(*body);
  std::vector<domain::UserLimitChange> changes;
  for (domain::LimitKind kind : domain::kLimitKinds) read_changes(fields, kind, changes);
  if (auto s = fields.finish(); !s.ok()) co_return error_response(s.error());
  auto limits = co_await service::change_limits(shard.ctx, req.path_ids[0], changes);
  if (!limits.ok()) co_return error_response(limits.error());
  co_return json_response(200, render_limits(*limits));
}

asio::awaitable<Response> answer_pause(ApiShard& shard, Request& req,
                                       const domain::PauseRequest& pause, std::string_view name) {
  auto until = co_await service::pause_betting(shard.ctx, req.path_ids[0], pause);
  if (!until.ok()) co_return error_response(until.error());
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  write_until(w, name, *until);
  w.end_object();
  co_return json_response(201, std::move(out));
}

asio::awaitable<Response> self_exclude(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  auto body = json_object_body(req);
  if (!body.ok()) co_return error_response(body.error());
  FieldReader fields(*body);
  auto period = fields.required_string("period");
  std::optional<domain::PauseRequest> pause;
  if (period) pause = fields.check(domain::self_exclusion_from(*period, "period"));
  if (auto s = fields.finish(); !s.ok()) co_return error_response(s.error());
  co_return co_await answer_pause(shard, req, *pause, "self_excluded_until");
}

asio::awaitable<Response> time_out(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  auto body = json_object_body(req);
  if (!body.ok()) co_return error_response(body.error());
  FieldReader fields(*body);
  auto hours = fields.required_integer("hours");
  std::string interval;
  std::optional<domain::PauseRequest> pause;
  if (hours) pause = fields.check(domain::timeout_from(*hours, "hours", interval));
  if (auto s = fields.finish(); !s.ok()) co_return error_response(s.error());
  co_return co_await answer_pause(shard, req, *pause, "timeout_until");
}

}  // namespace

void add_limits_routes(http::Router& router, ApiShard& shard) {
  auto bind = [&shard](asio::awaitable<Response> (*fn)(ApiShard&, Request&)) {
    return [&shard, fn](Request& req) { return fn(shard, req); };
  };
  router.add({http::Method::get, "/v1/users/{id}/limits", self_or_account_reader(shard.auth),
              bind(get_limits)});
  router.add(
      {http::Method::put, "/v1/users/{id}/limits", account_holder(shard.auth), bind(put_limits)});
  router.add({http::Method::post, "/v1/users/{id}/self-exclusion", account_holder(shard.auth),
              bind(self_exclude)});
  router.add(
      {http::Method::post, "/v1/users/{id}/timeout", account_holder(shard.auth), bind(time_out)});
}

}  // namespace betsdb::api

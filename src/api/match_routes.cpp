// Matches and their odds (docs/api.md, "Matches").
#include <array>
#include <cmath>

#include "api/api_shard.hpp"
#include "api/json_input.hpp"
#include "api/odds_input.hpp"
#include "api/query_params.hpp"
#include "api/views.hpp"
#include "domain/text.hpp"
#include "service/matches.hpp"

namespace betsdb::api {

namespace asio = boost::asio;
namespace json = boost::json;
using http::Request;
using http::Response;

namespace {

// Reads an odds object. With allow_null, a null value means "withdraw".
// Returns which selections were named and their values.
domain::OddsChange read_odds(FieldReader& fields, const json::object& odds, bool allow_null) {
  domain::OddsChange change;
  for (const auto& kv : odds) {
    const std::string field = "odds." + std::string(kv.key());
    auto selection = domain::parse_selection(kv.key());
    if (!selection) {
      fields.add_error(field, "is not a selection (use \"1\", \"X\" or \"2\")");
      continue;
    }
    change.touched[domain::index_of(*selection)] = true;
    if (kv.value().is_null() && allow_null) continue;  // withdraw
    if (auto o = fields.check(odds_from_json(kv.value(), field))) change.values.set(*selection, *o);
  }
  return change;
}

// Reads "max_stake" and "max_liability" (cents, or null for no limit).
domain::LimitChange read_limit(FieldReader& fields, std::string_view name,
                               Result<domain::Money> (*from)(std::int64_t, std::string_view)) {
  domain::LimitChange change;
  auto value = fields.optional_nullable_integer(name);
  if (!value) return change;
  change.touched = true;
  if (*value) change.value = fields.check(from(**value, name));
  return change;
}

domain::LimitChange read_max_stake(FieldReader& fields) {
  return read_limit(fields, "max_stake", &domain::max_stake_from);
}

domain::LimitChange read_max_liability(FieldReader& fields) {
  return read_limit(fields, "max_liability", &domain::max_liability_from);
}

// Reads "competition": a name, or null for none.
domain::CompetitionChange read_competition(FieldReader& fields) {
  domain::CompetitionChange change;
  auto value = fields.optional_nullable_string("competition");
  if (!value) return change;
  change.touched = true;
  if (*value) {
    change.value = fields.check(domain::normalize_competition(**value, "competition"));
  }
  return change;
}

asio::awaitable<Response> create_match(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  auto body = json_object_body(req);
  if (!body.ok()) co_return error_response(body.error());
  FieldReader fields(*body);
  auto team_1 = fields.required_string("team_1");
  auto team_2 = fields.required_string("team_2");
  auto date = fields.required_string("date");
  const json::object* odds = fields.required_object("odds");

  domain::NewMatch match;
  match.limits.max_stake = read_max_stake(fields).value;
  match.limits.max_liability = read_max_liability(fields).value;
  match.competition = read_competition(fields).value;
  if (team_1) match.team_1 = fields.check(domain::normalize_team(*team_1, "team_1")).value_or("");
  if (team_2) match.team_2 = fields.check(domain::normalize_team(*team_2, "team_2")).value_or("");
  if (!match.team_1.empty() && !match.team_2.empty() &&
      domain::same_team(match.team_1, match.team_2)) {
    fields.add_error("team_2", "must differ from team_1");
  }
  if (date) {
    if (auto t = fields.check(domain::parse_rfc3339(*date, "date"))) match.date = *t;
  }
  if (odds) {
    auto change = read_odds(fields, *odds, /*allow_null=*/false);
    match.odds = change.values;
    // Only for an empty object: invalid values have their own errors already.
    if (odds->empty()) {
      if (auto offered = domain::require_offered(match.odds, "odds"); !offered.ok()) {
        fields.merge(offered.error());
      }
    }
  }
  if (auto s = fields.finish(); !s.ok()) co_return error_response(s.error());

  match.actor = domain::Actor{req.principal.actor(), req.request_id};
  auto created = co_await service::create_match(shard.ctx, std::move(match));
  if (!created.ok()) co_return error_response(created.error());
  co_return json_response(201, render_match(*created));
}

asio::awaitable<Response> get_match(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  auto match = co_await service::get_match(shard.ctx, req.path_ids[0]);
  if (!match.ok()) co_return error_response(match.error());
  co_return json_response(200, render_match(*match));
}

Result<domain::MatchFilter> match_filter(const QueryParams& q) {
  domain::MatchFilter f;
  if (auto status = q.get("status")) {
    f.status = domain::parse_match_status(*status);
    if (!f.status) return invalid_parameter("status", "must be 'open', 'suspended' or 'settled'");
  }
  if (auto team = q.get("team")) {
    auto t = domain::normalize_team(*team, "team");
    if (!t.ok()) return invalid_parameter("team", "must be a team name of 1 to 100 characters");
    f.team = std::move(*t);
  }
  if (auto competition = q.get("competition")) {
    auto c = domain::normalize_competition(*competition, "competition");
    if (!c.ok()) return invalid_parameter("competition", "must be a name of 1 to 100 characters");
    f.competition = std::move(*c);
  }
  if (auto search = q.get("q")) {
    auto s = domain::normalize_search(*search, "q");
    if (!s.ok()) {
      return invalid_parameter("q", "must be 2 to 100 characters, without control characters");
    }
    f.search = std::move(*s);
  }
  for (auto [name, slot] : {std::pair{"from", &f.from}, std::pair{"to", &f.to}}) {
    if (auto text = q.get(name)) {
      auto t = domain::parse_rfc3339(*text, name);
      if (!t.ok())
        return invalid_parameter(name, "must be an RFC 3339 time such as 2026-12-01T19:45:00Z");
      *slot = *t;
    }
  }
  if (auto sort = q.get("sort")) {
    if (*sort == "-date")
      f.newest_first = true;
    else if (*sort != "date")
      return invalid_parameter("sort", "must be 'date' or '-date'");
  }
  return f;
}

asio::awaitable<Response> list_matches(ApiShard& shard, Request& req) {
  auto q = QueryParams::parse(
      req.query, {"status", "team", "competition", "q", "from", "to", "sort", "limit", "offset"});
  if (!q.ok()) co_return error_response(q.error());
  auto filter = match_filter(*q);
  if (!filter.ok()) co_return error_response(filter.error());
  auto page = q->page();
  if (!page.ok()) co_return error_response(page.error());
  // Named, not temporaries in the co_await: g++ 12 destroys such temporaries twice.
  service::Render<service::MatchPage> render = [page = *page](const service::MatchPage& matches) {
    return render_page(matches, page, write_match);
  };
  auto json = co_await service::list_matches(shard.ctx, *filter, *page, std::move(render));
  if (!json.ok()) co_return error_response(json.error());
  co_return json_response(200, std::move(*json));
}

asio::awaitable<Response> patch_match(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  auto body = json_object_body(req);
  if (!body.ok()) co_return error_response(body.error());
  FieldReader fields(*body);
  const json::object* odds = fields.optional_object("odds");
  domain::MatchChange change;
  if (odds) {
    change.odds = read_odds(fields, *odds, /*allow_null=*/true);
    if (odds->empty()) fields.add_error("odds", "must name at least one selection");
  }
  change.max_stake = read_max_stake(fields);
  change.max_liability = read_max_liability(fields);
  change.competition = read_competition(fields);
  // A change that names nothing is more likely a client bug than a wish to
  // do nothing (docs/openapi.yaml: minProperties 1).
  if (body->empty()) {
    fields.add_error("body", "must name odds, max_stake, max_liability and/or competition");
  }
  if (auto s = fields.finish(); !s.ok()) co_return error_response(s.error());
  change.actor = domain::Actor{req.principal.actor(), req.request_id};
  // As parsed, not as sent: a number may be written with more digits than
  // PostgreSQL's numeric keeps (2.1 and 16,400 zeros is the price 2.10).
  change.details = json::serialize(*body);
  auto updated = co_await service::change_match(shard.ctx, req.path_ids[0], change);
  if (!updated.ok()) co_return error_response(updated.error());
  co_return json_response(200, render_match(*updated));
}

// Suspend and resume take no body, or {}.
Status no_body_fields(const Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) return std::move(q).error();
  auto body = optional_json_object_body(req);
  if (!body.ok()) return std::move(body).error();
  FieldReader fields(*body);
  return fields.finish();
}

asio::awaitable<Response> suspend_match(ApiShard& shard, Request& req) {
  if (auto s = no_body_fields(req); !s.ok()) co_return error_response(s.error());
  const std::optional<domain::Actor> actor = domain::Actor{req.principal.actor(), req.request_id};
  auto match = co_await service::suspend_match(shard.ctx, req.path_ids[0], actor);
  if (!match.ok()) co_return error_response(match.error());
  co_return json_response(200, render_match(*match));
}

asio::awaitable<Response> resume_match(ApiShard& shard, Request& req) {
  if (auto s = no_body_fields(req); !s.ok()) co_return error_response(s.error());
  const std::optional<domain::Actor> actor = domain::Actor{req.principal.actor(), req.request_id};
  auto match = co_await service::resume_match(shard.ctx, req.path_ids[0], actor);
  if (!match.ok()) co_return error_response(match.error());
  co_return json_response(200, render_match(*match));
}

void write_by_selection(JsonWriter& w, std::string_view name,
                        const std::array<std::int64_t, 3>& values) {
  w.key(name).begin_object();
  for (auto s : domain::kAllSelections) w.field(domain::to_string(s), values[domain::index_of(s)]);
  w.end_object();
}

asio::awaitable<Response> get_exposure(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  auto found = co_await service::match_exposure(shard.ctx, req.path_ids[0]);
  if (!found.ok()) co_return error_response(found.error());
  const domain::Exposure& e = found->exposure;
  std::array<std::int64_t, 3> stakes{}, payouts{}, liability{};
  for (auto s : domain::kAllSelections) {
    const std::size_t i = domain::index_of(s);
    stakes[i] = e.stakes[i].cents();
    payouts[i] = e.payouts[i].cents();
    liability[i] = e.liability(s);
  }
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("match_id", found->match_id).field("bets", e.bets);
  write_by_selection(w, "stakes", stakes);
  write_by_selection(w, "payouts", payouts);
  write_by_selection(w, "liability", liability);
  write_optional_money(w, "max_liability", found->limits.max_liability);
  w.end_object();
  co_return json_response(200, std::move(out));
}

}  // namespace

void add_match_routes(http::Router& router, ApiShard& shard) {
  auto bind = [&shard](asio::awaitable<Response> (*fn)(ApiShard&, Request&)) {
    return [&shard, fn](Request& req) { return fn(shard, req); };
  };
  router.add({http::Method::post, "/v1/matches", trader(shard.auth), bind(create_match)});
  router.add({http::Method::get, "/v1/matches", anyone(shard.auth), bind(list_matches)});
  router.add({http::Method::get, "/v1/matches/{id}", anyone(shard.auth), bind(get_match)});
  router.add({http::Method::patch, "/v1/matches/{id}", trader(shard.auth), bind(patch_match)});
  router.add(
      {http::Method::post, "/v1/matches/{id}/suspend", trader(shard.auth), bind(suspend_match)});
  router.add(
      {http::Method::post, "/v1/matches/{id}/resume", trader(shard.auth), bind(resume_match)});
  router.add(
      {http::Method::get, "/v1/matches/{id}/exposure", trader(shard.auth), bind(get_exposure)});
}

}  // namespace betsdb::api

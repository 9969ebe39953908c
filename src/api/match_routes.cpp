// Matches and their odds (docs/api.md, "Matches").
#include <cmath>

#include "api/api_shard.hpp"
#include "api/json_input.hpp"
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

std::string render_match(const domain::Match& m) {
  std::string out;
  JsonWriter w(out);
  write_match(w, m);
  return out;
}

Result<domain::Odds> odds_from_json(const json::value& v, const std::string& field) {
  if (v.is_int64()) return domain::odds_from_integer(v.get_int64(), field);
  if (v.is_double()) return domain::odds_from_number(v.get_double(), field);
  if (v.is_uint64()) return domain::odds_from_number(static_cast<double>(v.get_uint64()), field);
  return Error::validation(field, "must be a number, not " + std::string(json_kind(v)));
}

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
    if (!f.status) return invalid_parameter("status", "must be 'open' or 'settled'");
  }
  if (auto team = q.get("team")) {
    auto t = domain::normalize_team(*team, "team");
    if (!t.ok()) return invalid_parameter("team", "must be a team name of 1 to 100 characters");
    f.team = std::move(*t);
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
  auto q =
      QueryParams::parse(req.query, {"status", "team", "from", "to", "sort", "limit", "offset"});
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
  const json::object* odds = fields.required_object("odds");
  domain::OddsChange change;
  if (odds) {
    change = read_odds(fields, *odds, /*allow_null=*/true);
    if (odds->empty()) fields.add_error("odds", "must name at least one selection");
  }
  if (auto s = fields.finish(); !s.ok()) co_return error_response(s.error());
  auto updated = co_await service::change_odds(shard.ctx, req.path_ids[0], change);
  if (!updated.ok()) co_return error_response(updated.error());
  co_return json_response(200, render_match(*updated));
}

}  // namespace

void add_match_routes(http::Router& router, ApiShard& shard) {
  auto bind = [&shard](asio::awaitable<Response> (*fn)(ApiShard&, Request&)) {
    return [&shard, fn](Request& req) { return fn(shard, req); };
  };
  router.add({http::Method::post, "/v1/matches", admin_only(shard.auth), bind(create_match)});
  router.add({http::Method::get, "/v1/matches", anyone(shard.auth), bind(list_matches)});
  router.add({http::Method::get, "/v1/matches/{id}", anyone(shard.auth), bind(get_match)});
  router.add({http::Method::patch, "/v1/matches/{id}", admin_only(shard.auth), bind(patch_match)});
}

}  // namespace betsdb::api

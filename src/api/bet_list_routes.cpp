// The cached read side of bets: lists and the summary (docs/api.md, "Bets").
#include "api/api_shard.hpp"
#include "api/query_params.hpp"
#include "api/views.hpp"
#include "service/bet_reads.hpp"

namespace betsdb::api {

namespace asio = boost::asio;
using http::Request;
using http::Response;

namespace {

constexpr std::int64_t kMaxStakeFilter = domain::kMaxStake;

Result<domain::BetFilter> bet_filter(const QueryParams& q) {
  domain::BetFilter f;
  auto match_id = q.integer("match_id", 1, std::numeric_limits<std::int64_t>::max());
  if (!match_id.ok()) return std::move(match_id).error();
  f.match_id = *match_id;
  if (auto status = q.get("status")) {
    f.status = domain::parse_bet_status(*status);
    if (!f.status)
      return invalid_parameter("status", "must be pending, won, lost, void or cashed_out");
  }
  if (auto selection = q.get("selection")) {
    f.selection = domain::parse_selection(*selection);
    if (!f.selection) return invalid_parameter("selection", "must be 1, X or 2");
  }
  auto min_stake = q.integer("min_stake", 0, kMaxStakeFilter);
  if (!min_stake.ok()) return std::move(min_stake).error();
  f.min_stake = *min_stake;
  auto max_stake = q.integer("max_stake", 0, kMaxStakeFilter);
  if (!max_stake.ok()) return std::move(max_stake).error();
  f.max_stake = *max_stake;
  if (auto sort = q.get("sort")) {
    if (*sort == "-created_at")
      f.sort = domain::BetSort::newest;
    else if (*sort == "created_at")
      f.sort = domain::BetSort::oldest;
    else if (*sort == "stake")
      f.sort = domain::BetSort::stake_ascending;
    else if (*sort == "-stake")
      f.sort = domain::BetSort::stake_descending;
    else
      return invalid_parameter("sort", "must be -created_at, created_at, stake or -stake");
  }
  return f;
}

struct ListRequest {
  domain::BetFilter filter;
  domain::Page page;
};

Result<ListRequest> list_request(const Request& req) {
  auto q = QueryParams::parse(req.query, {"match_id", "status", "selection", "min_stake",
                                          "max_stake", "sort", "limit", "offset"});
  if (!q.ok()) return std::move(q).error();
  auto filter = bet_filter(*q);
  if (!filter.ok()) return std::move(filter).error();
  auto page = q->page();
  if (!page.ok()) return std::move(page).error();
  return ListRequest{std::move(*filter), *page};
}

service::Render<service::BetPage> page_renderer(const domain::Page& page) {
  return [page](const service::BetPage& bets) { return render_page(bets, page, write_bet); };
}

asio::awaitable<Response> list_all_bets(ApiShard& shard, Request& req) {
  auto list = list_request(req);
  if (!list.ok()) co_return error_response(list.error());
  // Named, not temporaries in the co_await: g++ 12 destroys such temporaries twice.
  service::Render<service::BetPage> render = page_renderer(list->page);
  auto json = co_await service::list_bets(shard.ctx, list->filter, list->page, std::move(render));
  if (!json.ok()) co_return error_response(json.error());
  co_return json_response(200, std::move(*json));
}

asio::awaitable<Response> list_user_bets(ApiShard& shard, Request& req) {
  auto list = list_request(req);
  if (!list.ok()) co_return error_response(list.error());
  service::Render<service::BetPage> render = page_renderer(list->page);
  auto json = co_await service::list_user_bets(shard.ctx, req.path_ids[0], list->filter, list->page,
                                               std::move(render));
  if (!json.ok()) co_return error_response(json.error());
  co_return json_response(200, std::move(*json));
}

void write_figures(JsonWriter& w, std::string_view name, const domain::CountAndStake& f) {
  w.key(name).begin_object().field("count", f.count).field("stake", f.stake).end_object();
}

std::string render_summary(const domain::BetSummary& s) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("total_bets", s.total.count).field("total_stake", s.total.stake);
  w.key("by_status").begin_object();
  for (auto status : {domain::BetStatus::pending, domain::BetStatus::won, domain::BetStatus::lost,
                      domain::BetStatus::void_, domain::BetStatus::cashed_out}) {
    write_figures(w, domain::to_string(status), s.by_status[static_cast<std::size_t>(status)]);
  }
  w.end_object();
  w.key("by_type").begin_object();
  for (auto type : {domain::BetType::single, domain::BetType::accumulator}) {
    write_figures(w, domain::to_string(type), s.by_type[static_cast<std::size_t>(type)]);
  }
  w.end_object();
  w.key("by_selection").begin_object();
  for (auto selection : domain::kAllSelections) {
    write_figures(w, domain::to_string(selection), s.by_selection[domain::index_of(selection)]);
  }
  w.end_object();
  w.key("top_matches").begin_array();
  for (const auto& m : s.top_matches) {
    w.begin_object()
        .field("match_id", m.match_id)
        .field("bets", m.bets)
        .field("stake", m.stake)
        .end_object();
  }
  w.end_array();
  w.end_object();
  return out;
}

asio::awaitable<Response> bet_summary(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  service::Render<domain::BetSummary> render = render_summary;
  auto json = co_await service::bet_summary(shard.ctx, std::move(render));
  if (!json.ok()) co_return error_response(json.error());
  co_return json_response(200, std::move(*json));
}

}  // namespace

void add_bet_list_routes(http::Router& router, ApiShard& shard) {
  auto bind = [&shard](asio::awaitable<Response> (*fn)(ApiShard&, Request&)) {
    return [&shard, fn](Request& req) { return fn(shard, req); };
  };
  router.add({http::Method::get, "/v1/bets", account_reader(shard.auth), bind(list_all_bets)});
  router.add({http::Method::get, "/v1/bets/summary", admin_only(shard.auth), bind(bet_summary)});
  router.add({http::Method::get, "/v1/users/{id}/bets", self_or_account_reader(shard.auth),
              bind(list_user_bets)});
}

}  // namespace betsdb::api

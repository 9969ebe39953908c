#include "app/metrics_text.hpp"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

namespace betsdb::app {
namespace {

using namespace std::chrono_literals;

http::Router router_with_a_duplicate() {
  auto handler = [](http::Request&) -> boost::asio::awaitable<http::Response> {
    co_return http::Response{};
  };
  http::Router router;
  router.add({http::Method::get, "/v1/matches/{id}", {}, handler});
  router.add({http::Method::post, "/v1/bets", {}, handler});
  router.add({http::Method::get, "/v1/matches/{id}", {}, handler});  // never answered
  return router;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(AppendReadiness, SaysReadyOnlyWhenEveryDependencyAnswersAndTheStreamServes) {
  std::string ready;
  append_readiness(ready, true, true, true);
  EXPECT_TRUE(has_line(ready, "# TYPE betsdb_ready gauge")) << ready;
  EXPECT_TRUE(has_line(ready, "betsdb_ready 1")) << ready;
  EXPECT_TRUE(has_line(ready, "betsdb_dependency_up{dependency=\"postgres\"} 1")) << ready;
  EXPECT_TRUE(has_line(ready, "betsdb_dependency_up{dependency=\"redis\"} 1")) << ready;

  std::string redis_down;
  append_readiness(redis_down, true, false, true);
  EXPECT_TRUE(has_line(redis_down, "betsdb_ready 0")) << redis_down;
  EXPECT_TRUE(has_line(redis_down, "betsdb_dependency_up{dependency=\"postgres\"} 1"));
  EXPECT_TRUE(has_line(redis_down, "betsdb_dependency_up{dependency=\"redis\"} 0"));

  std::string stream_starting;
  append_readiness(stream_starting, true, true, false);
  EXPECT_TRUE(has_line(stream_starting, "betsdb_ready 0")) << stream_starting;
}

TEST(RenderMetrics, AddsTheShardsUpPerRouteMethodAndStatus) {
  const auto router = router_with_a_duplicate();
  http::RequestMetrics a(router), b(router);
  a.record("/v1/matches/{id}", http::Method::get, 200, 2ms);
  b.record("/v1/matches/{id}", http::Method::get, 200, 30ms);
  b.record("/v1/matches/{id}", http::Method::get, 404, 1ms);
  a.record("", http::Method::get, 404, 1ms);
  ScrapeInput in;
  in.requests = {&a, &b};
  in.shard_count = 2;
  const auto text = render_metrics(in);

  EXPECT_TRUE(has_line(
      text, R"(betsdb_http_requests_total{route="/v1/matches/{id}",method="GET",status="200"} 2)"))
      << text;
  EXPECT_TRUE(has_line(
      text, R"(betsdb_http_requests_total{route="/v1/matches/{id}",method="GET",status="404"} 1)"));
  EXPECT_TRUE(has_line(
      text, R"(betsdb_http_requests_total{route="unmatched",method="GET",status="404"} 1)"));
  EXPECT_TRUE(has_line(
      text,
      R"(betsdb_http_request_duration_seconds_count{route="/v1/matches/{id}",method="GET"} 3)"));
  EXPECT_TRUE(has_line(
      text,
      R"(betsdb_http_request_duration_seconds_bucket{route="/v1/matches/{id}",method="GET",le="0.025"} 2)"));
  // A route nobody called has no series yet.
  EXPECT_EQ(text.find(R"(route="/v1/bets")"), std::string::npos);
}

TEST(RenderMetrics, WritesEverySeriesOnceEvenForADuplicateRoute) {
  const auto router = router_with_a_duplicate();
  http::RequestMetrics a(router);
  a.record("/v1/matches/{id}", http::Method::get, 200, 2ms);
  ScrapeInput in;
  in.requests = {&a};
  std::set<std::string> series;
  std::istringstream lines(render_metrics(in));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto series_name = line.substr(0, line.rfind(' '));
    EXPECT_TRUE(series.insert(series_name).second) << "twice: " << series_name;
  }
}

TEST(RenderMetrics, ReportsEveryCacheNamespaceAndOutcomeEvenAtZero) {
  const auto text = render_metrics(ScrapeInput{});
  for (const char* ns : {"matches:list", "bets:list", "bets_by_email", "bets_summary"}) {
    for (const char* event : {"hit", "miss", "error", "load", "invalidation"}) {
      const std::string series = std::string(R"(betsdb_cache_events_total{namespace=")") + ns +
                                 R"(",event=")" + event + R"("})";
      EXPECT_NE(text.find(series), std::string::npos) << series;
    }
  }
  for (const char* line : {R"(betsdb_bet_lock_total{outcome="conflict"})",
                           R"(betsdb_checkouts_total{outcome="in_progress"})",
                           "betsdb_settlements_total ", "betsdb_bets_placed_total "}) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
}

TEST(RenderMetrics, SumsThePoolsAndRedisClientsOfTheShards) {
  ShardSnapshot s1, s2;
  s1.redis_connected = true;
  s1.redis.commands_sent = 10;
  s1.redis.transport_errors = 1;
  s2.redis.commands_sent = 5;
  s2.redis.timeouts = 2;
  s1.pg_max = s2.pg_max = 4;
  s1.pg_idle = 1;
  s2.pg_busy = 3;
  s1.pg.connect_failures = 1;
  s2.pg.acquire_timeouts = 2;
  s1.requests_in_flight = 1;
  s1.stream_passes = 7;
  s2.stream_passes = 5;
  s2.stream_held_passes = 2;
  ScrapeInput in;
  in.shards = {s1, s2};
  in.shard_count = 2;
  const auto text = render_metrics(in);
  EXPECT_TRUE(has_line(text, "betsdb_redis_commands_total 15"));
  EXPECT_TRUE(has_line(text, "betsdb_redis_errors_total 3"));
  EXPECT_TRUE(has_line(text, "betsdb_redis_connected 1"));
  EXPECT_TRUE(has_line(text, "betsdb_pg_pool_max_connections 8"));
  EXPECT_TRUE(has_line(text, R"(betsdb_pg_pool_connections{state="idle"} 1)"));
  EXPECT_TRUE(has_line(text, R"(betsdb_pg_pool_connections{state="busy"} 3)"));
  EXPECT_TRUE(has_line(text, "betsdb_pg_pool_errors_total 3"));
  EXPECT_TRUE(has_line(text, "betsdb_http_requests_in_flight 1"));
  EXPECT_TRUE(has_line(text, "betsdb_shards 2"));
  EXPECT_TRUE(has_line(text, "betsdb_stream_fan_out_passes_total 12"));
  EXPECT_TRUE(has_line(text, "betsdb_stream_held_passes_total 2"));
}

// Each shard retires a node that left the cluster at its own next map load:
// until all have, the node's counters add every shard's (so they never go
// down), and once all have, it has no series (its gauge would read 0 for
// ever).
TEST(RenderMetrics, ANodeEveryShardRetiredHasNoSeriesAndUntilThenCountsEveryShard) {
  using NodeStats = redis::Commands::NodeStats;
  ShardSnapshot s1, s2;
  s1.redis.nodes.push_back(NodeStats{"127.0.0.1:7001", true, 10, 0, 0, 0, false});
  s2.redis.nodes.push_back(NodeStats{"127.0.0.1:7001", true, 20, 0, 0, 0, false});
  s1.redis.nodes.push_back(NodeStats{"127.0.0.1:7002", false, 3, 4, 0, 0, true});
  s2.redis.nodes.push_back(NodeStats{"127.0.0.1:7002", false, 5, 2, 0, 0, false});
  ScrapeInput in;
  in.shards = {s1, s2};
  in.shard_count = 2;
  auto text = render_metrics(in);
  EXPECT_TRUE(has_line(text, R"(betsdb_redis_node_commands_total{node="127.0.0.1:7002"} 8)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(betsdb_redis_node_errors_total{node="127.0.0.1:7002"} 6)"));
  EXPECT_TRUE(has_line(text, R"(betsdb_redis_node_connections{node="127.0.0.1:7002"} 0)"));

  in.shards[1].redis.nodes[1].retired = true;
  text = render_metrics(in);
  EXPECT_EQ(text.find("127.0.0.1:7002"), std::string::npos) << text;
  EXPECT_TRUE(has_line(text, R"(betsdb_redis_node_commands_total{node="127.0.0.1:7001"} 30)"));
  EXPECT_TRUE(has_line(text, R"(betsdb_redis_node_connections{node="127.0.0.1:7001"} 2)"));
}

}  // namespace
}  // namespace betsdb::app

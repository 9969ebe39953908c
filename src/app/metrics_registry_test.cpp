#include "app/metrics_registry.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

namespace betsdb::app {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

http::Router one_route_router() {
  http::Router router;
  router.add(
      {http::Method::get, "/healthz", {}, [](http::Request&) -> asio::awaitable<http::Response> {
         co_return http::Response{};
       }});
  return router;
}

// A shard stand-in: a loop on its own thread.
struct LoopThread {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  std::thread thread{[this] { ioc.run(); }};
  ~LoopThread() {
    work.reset();
    ioc.stop();
    thread.join();
  }
};

template <class T>
T run_on(asio::io_context& ioc, asio::awaitable<T> task) {
  std::optional<T> out;
  asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    out = std::move(value);
  });
  ioc.run();
  ioc.restart();
  return std::move(*out);
}

TEST(MetricsRegistry, GathersEachShardsSnapshotOnThatShardsThread) {
  const auto router = one_route_router();
  http::RequestMetrics requests_a(router), requests_b(router);
  LoopThread shard_b;
  asio::io_context shard_a{1};  // the scraping shard, run by this thread

  std::thread::id seen_a, seen_b;
  MetricsRegistry registry;
  registry.add_shard({shard_a.get_executor(),
                      [&] {
                        seen_a = std::this_thread::get_id();
                        ShardSnapshot s;
                        s.connections = 2;
                        s.redis_connected = true;
                        return s;
                      },
                      &requests_a});
  registry.add_shard({shard_b.ioc.get_executor(),
                      [&] {
                        seen_b = std::this_thread::get_id();
                        ShardSnapshot s;
                        s.connections = 3;
                        return s;
                      },
                      &requests_b});

  auto snapshots = run_on(shard_a, registry.gather(5s));
  ASSERT_EQ(snapshots.size(), 2u);
  ASSERT_TRUE(snapshots[0] && snapshots[1]);
  EXPECT_EQ(snapshots[0]->connections, 2u);
  EXPECT_EQ(snapshots[1]->connections, 3u);
  EXPECT_EQ(seen_a, std::this_thread::get_id());
  EXPECT_EQ(seen_b, shard_b.thread.get_id());
}

TEST(MetricsRegistry, ReportsAShardThatDoesNotAnswerWithItsLastSnapshotAndCountsItStale) {
  const auto router = one_route_router();
  http::RequestMetrics requests_a(router), requests_b(router);
  asio::io_context shard_a{1};
  auto shard_b = std::make_unique<LoopThread>();
  std::atomic<bool> b_stuck{false};
  std::atomic<bool> release{false};

  MetricsRegistry registry;
  registry.add_shard({shard_a.get_executor(), [] { return ShardSnapshot{}; }, &requests_a});
  registry.add_shard({shard_b->ioc.get_executor(),
                      [&] {
                        ShardSnapshot s;
                        s.pg.connects = 7;
                        return s;
                      },
                      &requests_b});
  requests_b.record("/healthz", http::Method::get, 200, 1ms);

  auto first = run_on(shard_a, registry.render(5s));
  EXPECT_NE(first.find("betsdb_pg_pool_connects_total 7\n"), std::string::npos) << first;
  EXPECT_NE(first.find("betsdb_metrics_stale_shards 0\n"), std::string::npos);

  // Block shard B's loop so it cannot answer the next scrape.
  asio::post(shard_b->ioc, [&] {
    b_stuck = true;
    while (!release) std::this_thread::yield();
  });
  while (!b_stuck) std::this_thread::yield();
  auto second = run_on(shard_a, registry.render(50ms));
  release = true;
  EXPECT_NE(second.find("betsdb_pg_pool_connects_total 7\n"), std::string::npos) << second;
  EXPECT_NE(second.find("betsdb_metrics_stale_shards 1\n"), std::string::npos);
  // Request counters are atomics: always current, whatever the shard's loop does.
  EXPECT_NE(second.find(
                "betsdb_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1\n"),
            std::string::npos);
  shard_b.reset();  // its late answer, if any, is dropped safely
}

}  // namespace
}  // namespace betsdb::app

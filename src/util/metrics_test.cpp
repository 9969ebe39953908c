#include "util/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace betsdb::metrics {
namespace {

using namespace std::chrono_literals;

TEST(Counter, CountsFromManyThreadsWithoutLosingIncrements) {
  Counter counter;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) counter.add();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.value(), std::uint64_t{kThreads * kPerThread});
}

TEST(Gauge, GoesUpAndDown) {
  Gauge gauge;
  gauge.add(3);
  gauge.sub();
  EXPECT_EQ(gauge.value(), 2);
  gauge.set(-5);
  EXPECT_EQ(gauge.value(), -5);
}

TEST(Histogram, PutsEachDurationInTheFirstBucketWhoseBoundHoldsIt) {
  Histogram h;
  h.observe(0ns);
  h.observe(500us);   // on the bound: belongs to le=0.0005
  h.observe(501us);   // just over: le=0.001
  h.observe(3ms);     // le=0.005
  h.observe(2500ms);  // the last finite bound
  h.observe(10s);     // overflow
  h.observe(-1ns);    // a clock step backwards counts as zero
  const auto s = h.snapshot();
  EXPECT_EQ(s.buckets[0], 3u);
  EXPECT_EQ(s.buckets[1], 1u);
  EXPECT_EQ(s.buckets[3], 1u);
  EXPECT_EQ(s.buckets[11], 1u);
  EXPECT_EQ(s.buckets[12], 1u);
  EXPECT_EQ(s.count(), 7u);
  EXPECT_EQ(s.sum_ns, std::uint64_t{(500us + 501us + 3ms + 2500ms + 10s) / 1ns});
}

TEST(Histogram, SnapshotsAdd) {
  Histogram a, b;
  a.observe(1ms);
  b.observe(1ms);
  b.observe(1s);
  auto s = a.snapshot();
  s += b.snapshot();
  EXPECT_EQ(s.count(), 3u);
  EXPECT_EQ(s.buckets[1], 2u);
  EXPECT_EQ(s.sum_ns, std::uint64_t{(2ms + 1s) / 1ns});
}

TEST(PrometheusWriter, WritesHelpTypeAndLabelledSamples) {
  std::string out;
  PrometheusWriter w(out);
  w.family("betsdb_things_total", "counter", "Things.\nMore \\ help.");
  const Label labels[] = {{"route", "/v1/users/{id}"}, {"note", "say \"hi\"\\\n"}};
  w.sample("betsdb_things_total", labels, std::uint64_t{7});
  w.sample("betsdb_level", std::int64_t{-2});
  w.sample("betsdb_ratio", {}, 0.25);
  EXPECT_EQ(out,
            "# HELP betsdb_things_total Things.\\nMore \\\\ help.\n"
            "# TYPE betsdb_things_total counter\n"
            "betsdb_things_total{route=\"/v1/users/{id}\",note=\"say \\\"hi\\\"\\\\\\n\"} 7\n"
            "betsdb_level -2\n"
            "betsdb_ratio 0.25\n");
}

TEST(PrometheusWriter, WritesCumulativeBucketsSumAndCount) {
  Histogram h;
  h.observe(200us);
  h.observe(700us);
  h.observe(700us);
  h.observe(5s);
  std::string out;
  PrometheusWriter w(out);
  const Label labels[] = {{"route", "/healthz"}};
  w.histogram("lat_seconds", labels, h.snapshot());
  EXPECT_EQ(out,
            "lat_seconds_bucket{route=\"/healthz\",le=\"0.0005\"} 1\n"
            "lat_seconds_bucket{route=\"/healthz\",le=\"0.001\"} 3\n"
            "lat_seconds_bucket{route=\"/healthz\",le=\"0.002\"} 3\n"
            "lat_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 3\n"
            "lat_seconds_bucket{route=\"/healthz\",le=\"0.01\"} 3\n"
            "lat_seconds_bucket{route=\"/healthz\",le=\"0.025\"} 3\n"
            "lat_seconds_bucket{route=\"/healthz\",le=\"0.05\"} 3\n"
            "lat_seconds_bucket{route=\"/healthz\",le=\"0.1\"} 3\n"
            "lat_seconds_bucket{route=\"/healthz\",le=\"0.25\"} 3\n"
            "lat_seconds_bucket{route=\"/healthz\",le=\"0.5\"} 3\n"
            "lat_seconds_bucket{route=\"/healthz\",le=\"1\"} 3\n"
            "lat_seconds_bucket{route=\"/healthz\",le=\"2.5\"} 3\n"
            "lat_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{route=\"/healthz\"} 5.0016\n"
            "lat_seconds_count{route=\"/healthz\"} 4\n");
}

}  // namespace
}  // namespace betsdb::metrics

// Lock-free metric primitives for /metrics, and a writer of the Prometheus
// text exposition format (version 0.0.4).
//
// Recording is one or two relaxed atomic adds, never a lock and never an
// allocation, so a metric may sit on every request of every shard. Readers
// (the scrape) see each value as of some instant while writers go on; a scrape
// is not one consistent snapshot across values, which Prometheus does not
// need, except that a histogram's _count is the sum of its buckets, so the
// two always agree within one scrape.
//
// Thread-safety: Counter, Gauge and Histogram may be used from any thread.
// PrometheusWriter appends to one string: one thread at a time.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace betsdb::metrics {

// Only grows (a process restart starts it over, which Prometheus detects).
class Counter final {
 public:
  void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// Goes up and down.
class Gauge final {
 public:
  void add(std::int64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  void sub(std::int64_t n = 1) noexcept { value_.fetch_sub(n, std::memory_order_relaxed); }
  void set(std::int64_t n) noexcept { value_.store(n, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Upper bounds of the latency buckets. They span what a request to this
// server can take: a cache hit (well under 1 ms), a database round trip (a
// few ms), waits for a pooled connection (up to the 2 s acquire timeout),
// with roughly 2-2.5x steps so a percentile read off them is within a step.
inline constexpr std::array<std::chrono::microseconds, 12> kLatencyBuckets{
    std::chrono::microseconds{500},       std::chrono::microseconds{1'000},
    std::chrono::microseconds{2'000},     std::chrono::microseconds{5'000},
    std::chrono::microseconds{10'000},    std::chrono::microseconds{25'000},
    std::chrono::microseconds{50'000},    std::chrono::microseconds{100'000},
    std::chrono::microseconds{250'000},   std::chrono::microseconds{500'000},
    std::chrono::microseconds{1'000'000}, std::chrono::microseconds{2'500'000}};

// The same bounds as the text of the `le` label, in seconds.
inline constexpr std::array<std::string_view, kLatencyBuckets.size()> kLatencyBucketLabels{
    "0.0005", "0.001", "0.002", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5"};

// A latency histogram over kLatencyBuckets, plus an overflow (+Inf) bucket.
class Histogram final {
 public:
  static constexpr std::size_t kBuckets = kLatencyBuckets.size() + 1;

  // Counts per bucket (not cumulative; the last is the overflow), and the sum.
  struct Snapshot {
    std::array<std::uint64_t, kBuckets> buckets{};
    std::uint64_t sum_ns = 0;

    std::uint64_t count() const noexcept;
    Snapshot& operator+=(const Snapshot& other) noexcept;
  };

  void observe(std::chrono::nanoseconds duration) noexcept;
  Snapshot snapshot() const noexcept;

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

struct Label {
  std::string_view name;
  std::string_view value;
};

// Appends the text format to `out`:
//   family("betsdb_bets_placed_total", "counter", "Bets placed.");
//   sample("betsdb_bets_placed_total", {}, 42);
// Call family() once per metric name before its samples; label values are
// escaped, names are the caller's constants and written as they are.
class PrometheusWriter final {
 public:
  explicit PrometheusWriter(std::string& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, std::span<const Label> labels, std::uint64_t value);
  void sample(std::string_view name, std::span<const Label> labels, std::int64_t value);
  void sample(std::string_view name, std::span<const Label> labels, double value);
  // name_bucket{labels...,le="..."} (cumulative), name_sum, name_count.
  void histogram(std::string_view name, std::span<const Label> labels,
                 const Histogram::Snapshot& snapshot);

  // Helpers for callers without a span at hand.
  void sample(std::string_view name, std::uint64_t value) { sample(name, {}, value); }
  void sample(std::string_view name, std::int64_t value) { sample(name, {}, value); }

 private:
  void series(std::string_view name, std::span<const Label> labels, const Label* extra = nullptr);

  std::string& out_;
};

// Label values may hold anything; the format needs \\, \" and \n escaped.
void append_label_value(std::string& out, std::string_view value);

}  // namespace betsdb::metrics

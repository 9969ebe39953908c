// Request counts by status and latency histograms per (route template,
// method), for /metrics.
//
// Every slot is made up front from the router's routes, plus one "unmatched"
// slot per method for requests that matched no route (404, 405), so labels
// stay bounded whatever paths clients send. After construction the slot table
// never changes: record() is a binary search over the route templates and
// three relaxed atomic adds, with no lock and no allocation.
//
// One RequestMetrics per shard, so the shards' hot paths never write the same
// cache lines; a scrape adds the shards up (find() + the slots' atomics).
//
// Thread-safety: record() and every read may run on any thread at once; the
// object must outlive the server that records into it.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"
#include "http/router.hpp"
#include "util/metrics.hpp"

namespace betsdb::http {

struct RequestRecord;

// The route label of requests that matched no route.
inline constexpr std::string_view kUnmatchedRoute = "unmatched";

class RequestMetrics final {
 public:
  // HTTP status codes are 100..599; one counter each keeps record() a plain
  // index, at 4 KB per slot.
  static constexpr int kMinStatus = 100;
  static constexpr int kMaxStatus = 599;

  struct Slot {
    std::string route;  // the template, e.g. "/v1/users/{id}", or "unmatched"
    Method method = Method::get;
    std::array<metrics::Counter, kMaxStatus - kMinStatus + 1> by_status;
    metrics::Counter other_status;  // a status outside 100..599 (a bug somewhere)
    metrics::Histogram latency;

    std::uint64_t requests(int status) const noexcept;
  };

  explicit RequestMetrics(const Router& router);
  RequestMetrics(const RequestMetrics&) = delete;
  RequestMetrics& operator=(const RequestMetrics&) = delete;

  void record(const RequestRecord& record) noexcept;
  // `route` empty or unknown: the unmatched slot of `method`.
  void record(std::string_view route, Method method, int status,
              std::chrono::nanoseconds latency) noexcept;

  // In the order the router lists its routes, then the unmatched slots.
  const std::vector<std::unique_ptr<Slot>>& slots() const noexcept { return slots_; }
  // The slot a request of this route and method is counted in (never null).
  const Slot& find(std::string_view route, Method method) const noexcept;

 private:
  static constexpr std::size_t kMethods = static_cast<std::size_t>(Method::other) + 1;
  struct Entry {
    std::string_view route;                   // views the slot's own string
    std::array<Slot*, kMethods> by_method{};  // null: no route of this method
  };
  Slot* lookup(std::string_view route, Method method) const noexcept;

  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<Entry> entries_;  // sorted by route, for binary search
  std::array<Slot*, kMethods> unmatched_{};
};

}  // namespace betsdb::http

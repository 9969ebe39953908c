#include "http/request_metrics.hpp"

#include <algorithm>

#include "http/server.hpp"

namespace betsdb::http {

std::uint64_t RequestMetrics::Slot::requests(int status) const noexcept {
  if (status < kMinStatus || status > kMaxStatus) return other_status.value();
  return by_status[static_cast<std::size_t>(status - kMinStatus)].value();
}

RequestMetrics::RequestMetrics(const Router& router) {
  for (const auto& route : router.routes()) {
    auto slot = std::make_unique<Slot>();
    slot->route = route.pattern;
    slot->method = route.method;
    slots_.push_back(std::move(slot));
  }
  for (std::size_t m = 0; m < kMethods; ++m) {
    auto slot = std::make_unique<Slot>();
    slot->route = std::string(kUnmatchedRoute);
    slot->method = static_cast<Method>(m);
    unmatched_[m] = slot.get();
    slots_.push_back(std::move(slot));
  }
  for (const auto& slot : slots_) {
    if (slot->route == kUnmatchedRoute) continue;
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [&](const Entry& e) { return e.route == slot->route; });
    if (it == entries_.end()) {
      entries_.push_back(Entry{slot->route, {}});
      it = std::prev(entries_.end());
    }
    auto& target = it->by_method[static_cast<std::size_t>(slot->method)];
    // The router answers the first of duplicate routes; count them there too.
    if (!target) target = slot.get();
  }
  std::sort(entries_.begin(), entries_.end(),
            [](const Entry& a, const Entry& b) { return a.route < b.route; });
}

RequestMetrics::Slot* RequestMetrics::lookup(std::string_view route, Method method) const noexcept {
  const auto m = static_cast<std::size_t>(method);
  if (m >= kMethods) return unmatched_[kMethods - 1];
  if (!route.empty()) {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), route,
                               [](const Entry& e, std::string_view r) { return e.route < r; });
    if (it != entries_.end() && it->route == route && it->by_method[m]) return it->by_method[m];
  }
  return unmatched_[m];
}

const RequestMetrics::Slot& RequestMetrics::find(std::string_view route,
                                                 Method method) const noexcept {
  return *lookup(route, method);
}

void RequestMetrics::record(const RequestRecord& r) noexcept {
  if (!r.request) return;
  record(r.request->route, r.request->method, r.status, r.latency);
}

void RequestMetrics::record(std::string_view route, Method method, int status,
                            std::chrono::nanoseconds latency) noexcept {
  Slot& slot = *lookup(route, method);
  if (status < kMinStatus || status > kMaxStatus) {
    slot.other_status.add();
  } else {
    slot.by_status[static_cast<std::size_t>(status - kMinStatus)].add();
  }
  slot.latency.observe(latency);
}

}  // namespace betsdb::http

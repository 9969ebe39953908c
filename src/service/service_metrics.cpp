#include "service/service_metrics.hpp"

namespace betsdb::service {

ServiceCounters& service_counters() noexcept {
  static ServiceCounters counters;
  return counters;
}

}  // namespace betsdb::service

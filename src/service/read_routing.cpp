#include "service/read_routing.hpp"

namespace betsdb::service {

ReadRoute route_read(bool replica_configured, std::optional<std::uint64_t> written_position,
                     const ReplicaView& replica) noexcept {
  if (!replica_configured) return {ReadSource::primary, RouteReason::no_replica};
  if (!written_position) return {ReadSource::primary, RouteReason::no_position};
  switch (replica.state) {
    case ReplicaView::State::down:
      return {ReadSource::primary, RouteReason::replica_down};
    case ReplicaView::State::unknown:
      return {ReadSource::primary, RouteReason::replica_unknown};
    case ReplicaView::State::replayed:
      break;
  }
  if (replica.position < *written_position) {
    return {ReadSource::primary, RouteReason::replica_lagging};
  }
  return {ReadSource::replica, RouteReason::caught_up};
}

std::string_view to_string(RouteReason reason) noexcept {
  switch (reason) {
    case RouteReason::caught_up:
      return "caught_up";
    case RouteReason::no_replica:
      return "no_replica";
    case RouteReason::no_position:
      return "no_position";
    case RouteReason::replica_down:
      return "down";
    case RouteReason::replica_unknown:
      return "unknown";
    case RouteReason::replica_lagging:
      return "lagging";
    case RouteReason::replica_replaced:
      return "replaced";
  }
  return "unknown";
}

}  // namespace betsdb::service

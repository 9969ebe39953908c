// Whether a cache miss may be loaded from the standby: the pure rule
// (docs/architecture.md, "Reading from a standby").
//
// Each cache namespace remembers, next to its generation counter, a WAL
// position at or past the commit of every write that bumped it (the
// "written position", store/redis/cache.hpp). A read that found the
// namespace's generation also found that position, in the same atomic Redis
// read; the standby may serve it only if it has replayed at least that far.
// Anything unknown sends the read to the primary: no standby configured, no
// written position (never recorded, deleted by a write that could not learn
// its position, or recorded by another Redis process, so possibly rolled
// back), a standby that is down or whose sample is stale.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "service/ports/read_replica.hpp"

namespace betsdb::service {

enum class ReadSource { primary, replica };

enum class RouteReason {
  caught_up,         // replica: it has replayed past every write of the namespace
  no_replica,        // primary: none configured
  no_position,       // primary: the namespace's written position is unknown
  replica_down,      // primary: the standby did not answer, or is no standby now
  replica_unknown,   // primary: no recent sample of its replay position yet
  replica_lagging,   // primary: it has not replayed the namespace's last write yet
  replica_replaced,  // primary: a new standby connection since the sample (see still_valid)
};
inline constexpr std::size_t kRouteReasons = 7;

struct ReadRoute {
  ReadSource source = ReadSource::primary;
  RouteReason reason = RouteReason::no_replica;
};

ReadRoute route_read(bool replica_configured, std::optional<std::uint64_t> written_position,
                     const ReplicaView& replica) noexcept;

// "caught_up", "lagging", ...: the reason label of the metrics.
std::string_view to_string(RouteReason reason) noexcept;

}  // namespace betsdb::service

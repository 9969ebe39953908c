// Whether the dependencies answer, for the readiness probe.
// Thread-safety: one shard's thread, like the Context that holds it.
#pragma once

#include "service/ports/async.hpp"

namespace betsdb::service {

class DependencyProbe {
 public:
  virtual ~DependencyProbe() = default;

  // One trivial round trip each; service_unavailable when it fails.
  virtual Async<void> database() = 0;
  virtual Async<void> redis() = 0;
};

}  // namespace betsdb::service

// Rate-limit windows and revocation marks (Redis behind it in production):
// the parts of access control every instance must share.
//
// Errors: service_unavailable when Redis cannot answer. Thread-safety: one
// shard's thread, like the Context that holds it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "service/ports/async.hpp"
#include "util/token.hpp"

namespace betsdb::service {

// A fixed window, opened by its first event.
struct WindowCount {
  std::int64_t count = 0;
  std::chrono::milliseconds remaining{0};  // until it closes; 0 when none is open
};

// take(): whether the event was counted (the window held fewer than the
// limit), and the window as it is now.
struct TakenAttempt {
  bool taken = false;
  WindowCount window;
};

// A revocation check. A store can lose a mark it took (a Redis master that
// died before its replica had it, a restart that lost the AOF's last second)
// and then say "absent" of a revoked token: `answerer_since` is when the
// store's process that answered began to answer for the mark, and only a
// token verified in the database after it may be trusted on this answer.
struct RevocationCheck {
  bool revoked = false;
  std::chrono::steady_clock::time_point answerer_since;
};

class AccessLimits {
 public:
  virtual ~AccessLimits() = default;

  // Adds one event to the window of `key`, opening one of `window` if none is.
  virtual Async<WindowCount> count(std::string key, std::chrono::milliseconds window) = 0;
  // Counts one event only while the window holds fewer than `limit`: an
  // attempt reserved before it is judged. give_back() uncounts one that did
  // not count after all; a window left empty closes.
  virtual Async<TakenAttempt> take(std::string key, std::int64_t limit,
                                   std::chrono::milliseconds window) = 0;
  virtual Async<void> give_back(std::string key) = 0;
  // Marks a token revoked for `ttl`; processes that still remember it check.
  // `account` names the token's owner ("7", "operator:3"): the mark lives beside its data.
  virtual Async<void> mark_revoked(const std::string& account, const Digest& token,
                                   std::chrono::seconds ttl) = 0;
  // Whether the token's mark is set, and since when the store that said so
  // could have said it (RevocationCheck).
  virtual Async<RevocationCheck> revoked(const std::string& account, const Digest& token) = 0;
};

}  // namespace betsdb::service

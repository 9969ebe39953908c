// Redis for accounts and access: rate-limit windows (sign-in failures per
// email, sign-ups per client address) and revocation marks for tokens that
// processes may still hold in memory (api/auth.hpp).
//
// Keys (docs/operations.md): each command touches one key, so any slot does.
//   signin:{<sha256 hex of the email>}   failed sign-ins, 15-minute window
//   signup:{<client address>}            sign-ups, one-minute window
//   auth:revoked:{<account>}:<sha256 hex>  set when a token is revoked; tagged
//     like the account's other keys (a user's cart: {<user id>}), so on a
//     cluster a request depends on no master but its account's. With a
//     tracking connection, a shard keeps a mark's absence while Redis
//     reports no change to it, and a check then costs only the tracker's
//     fence (invalidation_tracker.hpp)
//
// Errors: service_unavailable when Redis cannot answer.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "store/redis/commands.hpp"
#include "util/token.hpp"

namespace betsdb::redis {

// Where revocation marks live; a shard's tracker may keep their absence.
inline constexpr std::string_view kRevocationKeyPrefix = "auth:revoked:";

// A fixed window: it opens with its first event and lasts its length.
struct WindowCount {
  std::int64_t count = 0;
  std::chrono::milliseconds remaining{0};  // until the window closes; 0 when none is open
};

// Counts one event in the window of `key`, opening one when none is.
boost::asio::awaitable<Result<WindowCount>> count_event(Commands& redis, std::string key,
                                                        std::chrono::milliseconds window);
// Counts one event in the window of `key` only if it holds fewer than
// `limit`: an attempt reserved before it is judged (a sign-in's password
// check), so that attempts made side by side cannot pass the limit together.
struct TakenEvent {
  bool taken = false;
  WindowCount window;
};
boost::asio::awaitable<Result<TakenEvent>> take_event(Commands& redis, std::string key,
                                                      std::int64_t limit,
                                                      std::chrono::milliseconds window);
// Takes back an event that turned out not to count (a sign-in that
// succeeded); a window left empty is closed.
boost::asio::awaitable<Status> give_back_event(Commands& redis, std::string key);

// A revocation check: whether the mark is set, and since when the Redis
// process that said so has been reached by this shard's connection to it
// (Served::origin_since; "now" when the process is unknown). A mark is lost
// when the process that took it dies before its replica (or its AOF) had it:
// the process that answers next, a restarted or promoted one, says "absent"
// of a revoked token. So a remembered token may be trusted on "absent" only
// if it was verified in the database after that process was reached
// (api/auth.cpp). What this misses is the same process, reached all along,
// losing the mark without a restart (a failover away and back; see
// docs/architecture.md).
struct RevocationCheck {
  bool revoked = false;
  std::chrono::steady_clock::time_point answerer_since;
};

// `account`: the hash tag's text, a user's id or "operator:<id>".
boost::asio::awaitable<Status> mark_revoked(Commands& redis, const std::string& account,
                                            const Digest& token, std::chrono::seconds ttl);
boost::asio::awaitable<Result<RevocationCheck>> is_marked_revoked(Commands& redis,
                                                                  const std::string& account,
                                                                  const Digest& token);

}  // namespace betsdb::redis

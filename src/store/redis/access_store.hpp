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
#include <unordered_map>

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

// Since when each slot's revocation checks have been answered by the Redis
// process answering them now, as one shard saw it. A mark is lost when the
// process that took it dies before its replica (or its AOF) had it: the
// next process to answer for the slot says "absent" of a revoked token. So
// a remembered token vouched for by Redis must have been verified in the
// database after that process began to answer (api/auth.cpp). A change is
// seen as a new origin (the run_id's prefix, commands.hpp): a restart or a
// failover. What it misses is the same process answering again after a
// failover away and back that lost the mark (docs/architecture.md).
//
// Thread-safety: none; one per shard.
class AnswererWatch final {
 public:
  using Clock = std::chrono::steady_clock;
  // Records that `origin` answered for `slot` at `now`; returns since when
  // it has, as far as this watch knows. An unknown origin (empty) is never
  // trusted: it answers "now".
  Clock::time_point answered(std::uint16_t slot, std::string_view origin, Clock::time_point now);

 private:
  struct Answerer {
    std::string origin;
    Clock::time_point since;
  };
  std::unordered_map<std::uint16_t, Answerer> slots_;
};

// A revocation check: whether the mark is set, and since when the Redis
// process that said so has answered for the mark's slot (AnswererWatch).
struct RevocationCheck {
  bool revoked = false;
  AnswererWatch::Clock::time_point answerer_since;
};

// `account`: the hash tag's text, a user's id or "operator:<id>".
boost::asio::awaitable<Status> mark_revoked(Commands& redis, const std::string& account,
                                            const Digest& token, std::chrono::seconds ttl);
boost::asio::awaitable<Result<RevocationCheck>> is_marked_revoked(Commands& redis,
                                                                  AnswererWatch& answerers,
                                                                  const std::string& account,
                                                                  const Digest& token);

}  // namespace betsdb::redis

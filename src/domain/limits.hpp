// Responsible gambling (API.md, "Responsible gambling"): a bettor's deposit
// and stake limits over rolling windows, the changes waiting to apply, and
// the self-exclusions and time-outs that pause their betting.
//
// Thread-safety: plain value types.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "domain/money.hpp"
#include "domain/timestamp.hpp"
#include "util/result.hpp"

namespace betsdb::domain {

enum class LimitKind { deposit, stake };
// Rolling windows: a day is the last 24 h, a week 7 days, a month 30 days.
enum class LimitPeriod { day, week, month };

inline constexpr std::array kLimitKinds{LimitKind::deposit, LimitKind::stake};
inline constexpr std::array kLimitPeriods{LimitPeriod::day, LimitPeriod::week, LimitPeriod::month};

std::string_view to_string(LimitKind kind);
std::string_view to_string(LimitPeriod period);
std::optional<LimitPeriod> parse_limit_period(std::string_view text);

// A limit's amount in cents: 0 (nothing at all) .. the largest deposit.
inline constexpr std::int64_t kMaxLimitAmount = kMaxDeposit;
Result<Money> limit_from(std::int64_t cents, std::string_view field);

// What a bettor asks of one limit: an amount, or none (std::nullopt) to remove it.
struct UserLimitChange {
  LimitKind kind = LimitKind::deposit;
  LimitPeriod period = LimitPeriod::day;
  std::optional<Money> amount;
};

// A raise or removal waiting for its time (amount std::nullopt: a removal).
struct PendingLimit {
  LimitKind kind = LimitKind::deposit;
  LimitPeriod period = LimitPeriod::day;
  std::optional<Money> amount;
  Timestamp effective_at;
};

// Per period, in kLimitPeriods' order; std::nullopt: no limit.
using LimitsByPeriod = std::array<std::optional<Money>, 3>;

struct Limits {
  LimitsByPeriod deposit;
  LimitsByPeriod stake;
  std::vector<PendingLimit> pending;  // by effective_at, then kind, then period
  // Only while they run.
  std::optional<Timestamp> self_excluded_until;
  std::optional<Timestamp> timeout_until;

  LimitsByPeriod& of(LimitKind kind) { return kind == LimitKind::deposit ? deposit : stake; }
};

// A pause of one's own betting. Its length is a PostgreSQL interval, so the
// calendar (months, leap years) is the database's, as is the clock.
enum class PauseKind { self_exclusion, timeout };
struct PauseRequest {
  PauseKind kind = PauseKind::timeout;
  std::string_view interval;  // e.g. "6 months", "72 hours"
};

// What came of asking for a pause.
struct PauseOutcome {
  bool user_found = false;
  bool started = false;            // false: one of its kind runs and ends later
  std::optional<Timestamp> until;  // the new end, or the running one's
};

// self_excluded (403): the bettor's betting is paused until `until` (RFC 3339).
Error betting_paused(std::string_view until);

// "6m" | "1y" | "5y" -> the interval; else validation_failed on `field`.
Result<PauseRequest> self_exclusion_from(std::string_view period, std::string_view field);
inline constexpr std::int64_t kMinTimeoutHours = 24;
inline constexpr std::int64_t kMaxTimeoutHours = 1008;  // six weeks
// Hours 24 .. 1008; `interval_text` receives the interval (it must outlive the request).
Result<PauseRequest> timeout_from(std::int64_t hours, std::string_view field,
                                  std::string& interval_text);

}  // namespace betsdb::domain

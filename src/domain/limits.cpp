#include "domain/limits.hpp"

#include <string>

namespace betsdb::domain {

std::string_view to_string(LimitKind kind) {
  return kind == LimitKind::deposit ? "deposit" : "stake";
}

std::string_view to_string(LimitPeriod period) {
  switch (period) {
    case LimitPeriod::day:
      return "day";
    case LimitPeriod::week:
      return "week";
    case LimitPeriod::month:
      return "month";
  }
  return "day";
}

std::optional<LimitPeriod> parse_limit_period(std::string_view text) {
  for (LimitPeriod period : kLimitPeriods) {
    if (to_string(period) == text) return period;
  }
  return std::nullopt;
}

Result<Money> limit_from(std::int64_t cents, std::string_view field) {
  if (cents < 0 || cents > kMaxLimitAmount) {
    return Error::validation(std::string(field), "must be between 0 and " +
                                                     std::to_string(kMaxLimitAmount) + " or null");
  }
  return Money(cents);
}

Error betting_paused(std::string_view until) {
  Error e = Error::make(Errc::self_excluded, "Your betting is paused until " + std::string(until) +
                                                 " (a self-exclusion or time-out you took).");
  e.extras.emplace_back("until", "\"" + std::string(until) + "\"");
  return e;
}

Result<PauseRequest> self_exclusion_from(std::string_view period, std::string_view field) {
  struct Known {
    std::string_view period;
    std::string_view interval;
  };
  static constexpr Known kKnown[] = {{"6m", "6 months"}, {"1y", "1 year"}, {"5y", "5 years"}};
  for (const Known& known : kKnown) {
    if (known.period == period) return PauseRequest{PauseKind::self_exclusion, known.interval};
  }
  return Error::validation(std::string(field), "must be one of \"6m\", \"1y\", \"5y\"");
}

Result<PauseRequest> timeout_from(std::int64_t hours, std::string_view field,
                                  std::string& interval_text) {
  if (hours < kMinTimeoutHours || hours > kMaxTimeoutHours) {
    return Error::validation(std::string(field), "must be between " +
                                                     std::to_string(kMinTimeoutHours) + " and " +
                                                     std::to_string(kMaxTimeoutHours));
  }
  interval_text = std::to_string(hours) + " hours";
  return PauseRequest{PauseKind::timeout, interval_text};
}

}  // namespace betsdb::domain

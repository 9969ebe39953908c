#include "domain/trading.hpp"

#include <algorithm>

namespace betsdb::domain {

std::string_view to_string(PriceChangePolicy policy) noexcept {
  switch (policy) {
    case PriceChangePolicy::none:
      return "none";
    case PriceChangePolicy::better:
      return "better";
    case PriceChangePolicy::any:
      return "any";
  }
  return "?";  // unreachable for a valid enumerator
}

std::optional<PriceChangePolicy> parse_price_change_policy(std::string_view text) noexcept {
  if (text == "none") return PriceChangePolicy::none;
  if (text == "better") return PriceChangePolicy::better;
  if (text == "any") return PriceChangePolicy::any;
  return std::nullopt;
}

Result<Money> max_stake_from(std::int64_t cents, std::string_view field) {
  return stake_from(cents, field);
}

Result<Money> max_liability_from(std::int64_t cents, std::string_view field) {
  if (cents < 1 || cents > kMaxDeposit) {
    return Error::validation(std::string(field), "must be between 1 and 1000000000000 (cents)");
  }
  return Money(cents);
}

std::int64_t Exposure::worst_liability() const noexcept {
  return std::max(
      {liability(Selection::home), liability(Selection::draw), liability(Selection::away)});
}

}  // namespace betsdb::domain

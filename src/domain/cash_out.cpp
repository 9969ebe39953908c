#include "domain/cash_out.hpp"

#include <boost/multiprecision/cpp_int.hpp>

namespace betsdb::domain {

std::optional<Margin> Margin::parse(std::string_view text) noexcept {
  // "0" or "0." followed by 1..4 digits: a fraction below 1.
  if (text == "0") return Margin(0);
  if (text.size() < 3 || text.size() > 6 || text.substr(0, 2) != "0.") return std::nullopt;
  std::int64_t bp = 0;
  std::size_t digits = 0;
  for (char c : text.substr(2)) {
    if (c < '0' || c > '9') return std::nullopt;
    bp = bp * 10 + (c - '0');
    ++digits;
  }
  for (; digits < 4; ++digits) bp *= 10;
  return Margin(bp);
}

Money cash_out_amount(Money stake, std::span<const CashOutLeg> legs, Margin margin) {
  using Big = boost::multiprecision::cpp_int;
  Big numerator = Big(stake.cents()) * (10'000 - margin.basis_points());
  Big denominator = 10'000;
  for (const CashOutLeg& leg : legs) {
    switch (leg.status) {
      case BetStatus::won:
        numerator *= leg.taken.hundredths();
        denominator *= 100;
        break;
      case BetStatus::pending:
        numerator *= leg.taken.hundredths();
        denominator *= leg.current.hundredths();
        break;
      case BetStatus::void_:
      case BetStatus::lost:
      case BetStatus::cashed_out:
        break;
    }
  }
  return Money((numerator / denominator).convert_to<std::int64_t>());
}

}  // namespace betsdb::domain

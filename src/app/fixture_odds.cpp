#include "app/fixture_odds.hpp"

#include <algorithm>

#include "domain/odds.hpp"

namespace betsdb::app {

namespace {

// Probabilities in basis points (1/100 of a percent).
constexpr std::int64_t kWhole = 10'000;
constexpr std::int64_t kMinHome = 1'500, kHomeSpread = 5'000;  // 15 % .. 65 %
constexpr std::int64_t kMinDraw = 2'000, kDrawSpread = 1'000;  // 20 % .. 30 %
// The bookmaker's margin: the odds' implied probabilities add up to 105 %.
constexpr std::int64_t kMarginPercent = 105;

// FNV-1a, 64 bit: small, stable across platforms and releases (std::hash is neither).
constexpr std::uint64_t kFnvOffset = 1469598103934665603ull;
constexpr std::uint64_t kFnvPrime = 1099511628211ull;

void mix(std::uint64_t& h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= kFnvPrime;
  }
}

domain::Odds odds_for(std::int64_t probability_bp) {
  // hundredths = 100 * (1 / p) / margin = 100 * 10000 * 100 / (p_bp * 105), rounded.
  const std::int64_t denominator = probability_bp * kMarginPercent;
  const std::int64_t hundredths = (2 * 100 * kWhole * 100 / denominator + 1) / 2;
  auto odds = domain::odds_from_hundredths(
      std::clamp(hundredths, domain::kMinOddsHundredths, domain::kMaxOddsHundredths), "odds");
  return odds.ok() ? *odds : domain::Odds{};
}

}  // namespace

domain::OddsBook fixture_odds(std::string_view team_1, std::string_view team_2,
                              std::uint64_t seed) {
  std::uint64_t h = kFnvOffset;
  for (int i = 0; i < 8; ++i) {
    const char byte = static_cast<char>((seed >> (8 * i)) & 0xff);
    mix(h, std::string_view(&byte, 1));
  }
  mix(h, team_1);
  mix(h, std::string_view("\0", 1));  // "ab"+"c" and "a"+"bc" must differ
  mix(h, team_2);

  const auto home = kMinHome + static_cast<std::int64_t>(h % (kHomeSpread + 1));
  const auto draw = kMinDraw + static_cast<std::int64_t>((h >> 32) % (kDrawSpread + 1));
  const auto away = kWhole - home - draw;  // >= 10000 - 6500 - 3000 = 500

  domain::OddsBook book;
  book.set(domain::Selection::home, odds_for(home));
  book.set(domain::Selection::draw, odds_for(draw));
  book.set(domain::Selection::away, odds_for(away));
  return book;
}

}  // namespace betsdb::app

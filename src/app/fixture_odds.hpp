// Plausible 1X2 odds for an imported fixture, which comes without any.
//
// Deterministic: the same teams and seed always give the same odds, so a
// re-import or another machine agrees, and a different --odds-seed gives a
// different but equally plausible book. The teams' names are hashed into win
// probabilities (home 15..65 %, draw 20..30 %, away the rest, at least 5 %),
// and the odds are their inverse with a 5 % bookmaker margin, in hundredths:
// e.g. 1.47 .. 19.05, always within the contract's 1.01 .. 1000.00.
//
// Thread-safety: a pure function.
#pragma once

#include <cstdint>
#include <string_view>

#include "domain/selection.hpp"

namespace betsdb::app {

domain::OddsBook fixture_odds(std::string_view team_1, std::string_view team_2, std::uint64_t seed);

}  // namespace betsdb::app

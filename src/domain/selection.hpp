// Selection: what a bet backs. Wire names are the contract's "1" (team_1 wins),
// "X" (draw) and "2" (team_2 wins). OddsBook: the odds a match offers, one
// optional Odds per selection (a match offers a non-empty subset).
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "domain/odds.hpp"
#include "util/result.hpp"

namespace betsdb::domain {

enum class Selection { home, draw, away };

// In wire order, for iterating ("1", "X", "2").
inline constexpr std::array<Selection, 3> kAllSelections = {Selection::home, Selection::draw,
                                                            Selection::away};

// Exact, case-sensitive: "x" is not a selection.
std::optional<Selection> parse_selection(std::string_view text) noexcept;
std::string_view to_string(Selection selection) noexcept;
// 0, 1, 2 in wire order; an index into OddsBook::odds.
constexpr std::size_t index_of(Selection selection) noexcept {
  return static_cast<std::size_t>(selection);
}

struct OddsBook {
  std::array<std::optional<Odds>, 3> odds{};

  std::optional<Odds> get(Selection selection) const noexcept { return odds[index_of(selection)]; }
  // std::nullopt withdraws the selection.
  void set(Selection selection, std::optional<Odds> value) noexcept {
    odds[index_of(selection)] = value;
  }
  bool offered(Selection selection) const noexcept { return get(selection).has_value(); }
  bool empty() const noexcept;
  std::size_t offered_count() const noexcept;

  friend bool operator==(const OddsBook&, const OddsBook&) = default;
};

// A match must offer at least one selection (API.md, POST and PATCH /v1/matches):
// validation_failed on `field` (normally "odds") when the book is empty.
Status require_offered(const OddsBook& book, std::string_view field);

}  // namespace betsdb::domain

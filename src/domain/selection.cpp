#include "domain/selection.hpp"

#include <algorithm>
#include <string>

namespace betsdb::domain {

std::optional<Selection> parse_selection(std::string_view text) noexcept {
  if (text == "1") return Selection::home;
  if (text == "X") return Selection::draw;
  if (text == "2") return Selection::away;
  return std::nullopt;
}

std::string_view to_string(Selection selection) noexcept {
  switch (selection) {
    case Selection::home:
      return "1";
    case Selection::draw:
      return "X";
    case Selection::away:
      return "2";
  }
  return "?";  // unreachable for a valid enumerator
}

bool OddsBook::empty() const noexcept {
  return offered_count() == 0;
}

std::size_t OddsBook::offered_count() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(odds.begin(), odds.end(), [](const auto& o) { return o.has_value(); }));
}

Status require_offered(const OddsBook& book, std::string_view field) {
  if (book.empty()) {
    return Error::validation(std::string(field), "must offer at least one selection");
  }
  return {};
}

}  // namespace betsdb::domain

// A named SQL statement. Store code declares each one once, as
//   inline constexpr pg::Statement kUserById{"user_by_id", "SELECT ... WHERE id = $1"};
// and a Connection prepares it the first time it runs there (see connection.hpp).
//
// The name identifies the prepared statement on every connection, so one name
// must always mean the same SQL in the whole program. Both views must outlive
// every execution (string literals do).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>

namespace betsdb::pg {

struct Statement {
  std::string_view name;
  std::string_view sql;
};

namespace detail {
template <const std::string_view&... Parts>
inline constexpr auto joined_text = [] {
  std::array<char, (Parts.size() + ...)> text{};
  auto at = text.begin();
  ((at = std::copy(Parts.begin(), Parts.end(), at)), ...);
  return text;
}();
}  // namespace detail

// SQL text made at compile time from fragments (constexpr string_views of
// static storage), for statements that must share a part word for word.
template <const std::string_view&... Parts>
inline constexpr std::string_view joined_sql{detail::joined_text<Parts...>.data(),
                                             detail::joined_text<Parts...>.size()};

}  // namespace betsdb::pg

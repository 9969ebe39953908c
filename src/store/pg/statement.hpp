// A named SQL statement. Store code declares each one once, as
//   inline constexpr pg::Statement kUserById{"user_by_id", "SELECT ... WHERE id = $1"};
// and a Connection prepares it the first time it runs there (see connection.hpp).
//
// The name identifies the prepared statement on every connection, so one name
// must always mean the same SQL in the whole program. Both views must outlive
// every execution (string literals do).
#pragma once

#include <string_view>

namespace betsdb::pg {

struct Statement {
  std::string_view name;
  std::string_view sql;
};

}  // namespace betsdb::pg

#include "store/pg/rows.hpp"

#include <cstring>

namespace betsdb::pg {

Rows& Rows::operator=(Rows&& other) noexcept {
  if (this != &other) {
    if (result_) PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

Rows::~Rows() {
  if (result_) PQclear(result_);
}

int Rows::column(std::string_view name) const noexcept {
  // Not PQfnumber: it case-folds and parses quotes, and needs a C string.
  for (int i = 0, n = columns(); i < n; ++i) {
    if (name == PQfname(result_, i)) return i;
  }
  return -1;
}

std::int64_t Rows::affected() const noexcept {
  if (!result_) return 0;
  const char* tuples = PQcmdTuples(result_);
  std::int64_t count = 0;
  // "" (a command without a count) leaves 0.
  (void)std::from_chars(tuples, tuples + std::strlen(tuples), count);
  return count;
}

std::string_view Rows::command() const noexcept {
  if (!result_) return {};
  const char* tag = PQcmdStatus(result_);
  return tag ? std::string_view(tag) : std::string_view();
}

}  // namespace betsdb::pg

// WAL positions: PostgreSQL's pg_lsn text ("16/B374D848": two hexadecimal
// 32-bit halves) as the 64-bit number it stands for, so positions compare as
// integers. Pure; used by replica routing (store/pg/wal.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace betsdb::pg {

using Lsn = std::uint64_t;

// nullopt unless `text` is two 1..8-digit hexadecimal numbers around a '/'.
std::optional<Lsn> parse_lsn(std::string_view text) noexcept;
// The pg_lsn text form ("16/B374D848"), as PostgreSQL prints it.
std::string format_lsn(Lsn lsn);

}  // namespace betsdb::pg

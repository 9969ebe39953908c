#include "store/pg/wal.hpp"

namespace betsdb::pg {

namespace {

constexpr Statement kInsertPosition{"wal_insert_position", "SELECT pg_current_wal_insert_lsn()"};
constexpr Statement kReplayPosition{"wal_replay_position",
                                    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()"};

Error unreadable(std::string_view what) {
  return Error::internal(std::string("unreadable WAL position from ") + std::string(what));
}

}  // namespace

boost::asio::awaitable<Result<Lsn>> wal_insert_position(Pool& primary) {
  const Params none;
  auto rows = co_await primary.execute(kInsertPosition, none);
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->size() != 1) co_return unreadable("pg_current_wal_insert_lsn()");
  auto lsn = parse_lsn((*rows)[0].get<std::string_view>(0));
  if (!lsn) co_return unreadable("pg_current_wal_insert_lsn()");
  co_return *lsn;
}

boost::asio::awaitable<Result<std::optional<Lsn>>> replay_position(Pool& standby) {
  const Params none;
  auto rows = co_await standby.execute(kReplayPosition, none);
  if (!rows.ok()) co_return std::move(rows).error();
  if (rows->size() != 1) co_return unreadable("pg_last_wal_replay_lsn()");
  const auto row = (*rows)[0];
  if (!row.get<bool>(0)) co_return std::optional<Lsn>{};
  // NULL while in recovery: a standby that has replayed nothing yet.
  auto text = row.get<std::optional<std::string_view>>(1);
  if (!text) co_return std::optional<Lsn>{};
  auto lsn = parse_lsn(*text);
  if (!lsn) co_return unreadable("pg_last_wal_replay_lsn()");
  co_return lsn;
}

}  // namespace betsdb::pg

// `betsdb check`: the ledger invariant, every bet's ledger rows, the book's
// exposure, the accumulators' duplicate guard, the running totals of the
// responsible-gambling windows and the summary's kept totals, over the whole
// database.
#include <iostream>

#include "app/cli.hpp"
#include "app/cli_support.hpp"
#include "store/pg/accumulator_guard_audit.hpp"
#include "store/pg/bet_ledger_audit.hpp"
#include "store/pg/bet_totals.hpp"
#include "store/pg/exposure_audit.hpp"
#include "store/pg/ledger_audit.hpp"
#include "store/pg/limit_window_audit.hpp"
#include "store/pg/pool.hpp"

namespace betsdb::app {

namespace asio = boost::asio;

std::string check_usage() {
  return "Usage: betsdb check [--database-url=URL]\n\n"
         "Verifies the ledger invariant: every user's balance equals the sum of\n"
         "their ledger amounts, and no balance is negative; every bet's ledger rows:\n"
         "its stake, and the payout, refund or cash-out its status calls for, of the\n"
         "right amount; the book's exposure: every match's exposure equals the\n"
         "sums over its pending single bets; and the accumulators' duplicate guard:\n"
         "one pending_accumulators row for each pending accumulator, none for others;\n"
         "and the running totals the stake and deposit limits are computed from:\n"
         "each stake and deposit row carries its user's running sum, in time order;\n"
         "and the summary's kept totals: per type, selection and status, and per\n"
         "match, they equal a count of the bets.\n"
         "Each check reads one consistent snapshot, so it is safe against a\n"
         "running server.\n\n"
         "Prints each user and match that breaks them. Exit status: 0 all consistent,\n"
         "1 inconsistencies found, 2 the check could not run.\n\n"
         "Uses BETSDB_DATABASE_URL / --database-url (see `betsdb --help`).\n";
}

int run_check(const Config& config) {
  return run_on_private_loop<int>([&](asio::any_io_executor executor) -> asio::awaitable<int> {
    pg::PoolConfig pool_config;
    pool_config.conninfo = config.database_url;
    pool_config.size = 1;
    // A full scan of the ledger may take longer than a request's statement.
    pool_config.query_timeout = std::chrono::minutes(10);
    auto pool = pg::Pool::create(executor, pool_config);
    auto audit = co_await store::audit_ledger(*pool);
    if (!audit.ok()) {
      pool->close();
      std::cerr << "betsdb check: " << audit.error().detail << "\n";
      co_return kExitUsage;
    }
    auto exposure = co_await store::audit_exposure(*pool);
    if (!exposure.ok()) {
      pool->close();
      std::cerr << "betsdb check: " << exposure.error().detail << "\n";
      co_return kExitUsage;
    }
    auto bets = co_await store::audit_bet_ledger(*pool);
    if (!bets.ok()) {
      pool->close();
      std::cerr << "betsdb check: " << bets.error().detail << "\n";
      co_return kExitUsage;
    }
    auto windows = co_await store::audit_limit_windows(*pool);
    if (!windows.ok()) {
      pool->close();
      std::cerr << "betsdb check: " << windows.error().detail << "\n";
      co_return kExitUsage;
    }
    auto guards = co_await store::audit_accumulator_guards(*pool);
    if (!guards.ok()) {
      pool->close();
      std::cerr << "betsdb check: " << guards.error().detail << "\n";
      co_return kExitUsage;
    }
    auto totals = co_await store::audit_bet_totals(*pool);
    pool->close();
    if (!totals.ok()) {
      std::cerr << "betsdb check: " << totals.error().detail << "\n";
      co_return kExitUsage;
    }
    for (const auto& m : audit->mismatches) {
      std::cout << "user " << m.user_id << " <" << m.email << ">: balance " << m.balance
                << ", ledger sum " << m.ledger_sum;
      if (m.balance < 0) std::cout << ", negative balance";
      std::cout << "\n";
    }
    for (auto match_id : exposure->mismatched_matches) {
      std::cout << "match " << match_id
                << ": exposure differs from the sums over its pending single bets\n";
    }
    for (auto bet_id : bets->mismatched_bets) {
      std::cout << "bet " << bet_id << ": its ledger rows do not match its status and amounts\n";
    }
    for (auto bet_id : guards->mismatched_bets) {
      std::cout << "bet " << bet_id
                << ": its duplicate guard (pending_accumulators) does not match its status\n";
    }
    if (audit->mismatches.empty()) {
      std::cout << "ledger consistent: " << audit->users_checked
                << " users checked, every balance equals the sum of its ledger\n";
    } else {
      std::cout << "ledger INCONSISTENT: " << audit->mismatches.size() << " of "
                << audit->users_checked << " users\n";
    }
    if (exposure->mismatched_matches.empty()) {
      std::cout << "exposure consistent: " << exposure->matches_checked
                << " matches checked, each equals its pending single bets\n";
    } else {
      std::cout << "exposure INCONSISTENT: " << exposure->mismatched_matches.size() << " of "
                << exposure->matches_checked << " matches\n";
    }
    if (bets->mismatched_bets.empty()) {
      std::cout << "bets consistent: " << bets->bets_checked
                << " bets checked, each has the ledger rows its status calls for\n";
    } else {
      std::cout << "bets INCONSISTENT: " << bets->mismatched_bets.size() << " of "
                << bets->bets_checked << " bets\n";
    }
    if (guards->mismatched_bets.empty()) {
      std::cout << "accumulator guards consistent: " << guards->pending_checked
                << " pending accumulators checked, each guarded once, nothing else\n";
    } else {
      std::cout << "accumulator guards INCONSISTENT: " << guards->mismatched_bets.size()
                << " bets\n";
    }
    if (windows->mismatched_users.empty()) {
      std::cout << "limit windows consistent: " << windows->users_checked
                << " users checked, running totals equal their ledger\n";
    } else {
      std::cout << "limit windows INCONSISTENT: " << windows->mismatched_users.size() << " of "
                << windows->users_checked << " users:";
      for (std::int64_t id : windows->mismatched_users) std::cout << " " << id;
      std::cout << "\n";
    }
    for (auto match_id : totals->mismatched_matches) {
      std::cout << "match " << match_id
                << ": the summary's kept totals differ from a count of its single bets\n";
    }
    if (totals->groups_mismatched == 0 && totals->mismatched_matches.empty()) {
      std::cout << "summary totals consistent: " << totals->groups_checked << " groups and "
                << totals->matches_checked << " matches checked, each equals a count of the bets\n";
    } else {
      std::cout << "summary totals INCONSISTENT: " << totals->groups_mismatched << " of "
                << totals->groups_checked << " groups, " << totals->mismatched_matches.size()
                << " of " << totals->matches_checked << " matches\n";
    }
    const bool clean = audit->mismatches.empty() && exposure->mismatched_matches.empty() &&
                       bets->mismatched_bets.empty() && guards->mismatched_bets.empty() &&
                       windows->mismatched_users.empty() && totals->groups_mismatched == 0 &&
                       totals->mismatched_matches.empty();
    co_return clean ? kExitOk : kExitFindings;
  });
}

}  // namespace betsdb::app

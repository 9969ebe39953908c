// `betsdb import FILE`: matches from an openfootball fixture file.
//
// Matches go in one by one through the same use cases as the API
// (service::create_match, service::settle_match), so constraints, odds ranges
// and the ledger behave exactly as for admin requests. Each created match
// records its fixture's identity (file name, round, teams, kick-off as in the
// file), and --shift-to-future reuses the shift of the file's first import,
// so the same file maps to the same matches every time: a re-run skips them,
// finishes an interrupted import, and applies results to them. The use cases
// also invalidate the caches of a running server, as they do for API writes.
#include <unistd.h>

#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/cli.hpp"
#include "app/cli_support.hpp"
#include "app/fixture_odds.hpp"
#include "app/openfootball.hpp"
#include "app/progress_bar.hpp"
#include "app/redis_connect.hpp"
#include "service/bets.hpp"
#include "service/matches.hpp"
#include "service/read_cache.hpp"
#include "service/wiring.hpp"
#include "store/pg/match_import.hpp"
#include "store/pg/migrations.hpp"
#include "store/pg/pool.hpp"
#include "store/redis/redis_client.hpp"
#include "store/redis/redis_config.hpp"

namespace betsdb::app {

namespace asio = boost::asio;

namespace {

// How long the import waits for Redis to invalidate the caches before giving
// up with a warning (the entries then expire by their TTL).
constexpr std::chrono::milliseconds kRedisWait{2000};

struct ImportOptions {
  std::string file;
  bool shift_to_future = false;
  bool apply_results = false;
  // Settle matches that have not kicked off yet too (normally refused: their
  // bettors would be paid or lose on a result that cannot be known yet).
  bool force_settle_before_kickoff = false;
  std::uint64_t odds_seed = 0;
};

struct Tally {
  std::size_t created = 0;
  std::size_t duplicates = 0;
  std::size_t settled = 0;
  std::size_t already_settled = 0;   // same result entered before
  std::size_t result_conflicts = 0;  // settled before with another result: left alone
  std::size_t before_kickoff = 0;    // a result for a match still to be played: left open
  std::size_t failed = 0;
};

Result<ImportOptions> parse_import_args(const std::vector<std::string>& args) {
  ImportOptions o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--shift-to-future") {
      o.shift_to_future = true;
    } else if (arg == "--apply-results") {
      o.apply_results = true;
    } else if (arg == "--force-settle-before-kickoff") {
      o.force_settle_before_kickoff = true;
    } else if (arg == "--odds-seed" || arg.starts_with("--odds-seed=")) {
      std::string_view value;
      if (arg == "--odds-seed") {
        if (i + 1 >= args.size()) return Error::validation("--odds-seed", "needs a value");
        value = args[++i];
      } else {
        value = arg.substr(std::string_view("--odds-seed=").size());
      }
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), o.odds_seed);
      if (ec != std::errc{} || end != value.data() + value.size()) {
        return Error::validation("--odds-seed", "must be a non-negative integer");
      }
    } else if (arg.starts_with("-") && arg != "-") {
      return Error::validation(std::string(arg), "unknown option (see betsdb import --help)");
    } else if (o.file.empty()) {
      o.file = std::string(arg);
    } else {
      return Error::validation(std::string(arg), "unexpected argument: import takes one FILE");
    }
  }
  if (o.file.empty()) return Error::validation("FILE", "missing (see betsdb import --help)");
  if (o.force_settle_before_kickoff && !o.apply_results) {
    return Error::validation("--force-settle-before-kickoff", "needs --apply-results");
  }
  return o;
}

Result<std::string> read_file(const std::string& path) {
  if (path == "-") {
    std::ostringstream all;
    all << std::cin.rdbuf();
    return all.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::validation(path, "cannot be opened");
  std::ostringstream all;
  all << in.rdbuf();
  if (in.bad()) return Error::validation(path, "cannot be read");
  return all.str();
}

// The whole number of days that moves the earliest fixture to tomorrow (UTC).
int days_to_future(const std::vector<Fixture>& fixtures, domain::Timestamp now) {
  if (fixtures.empty()) return 0;
  using std::chrono::days;
  auto earliest = fixtures.front().date;
  for (const auto& f : fixtures) earliest = std::min(earliest, f.date);
  const auto shift = (std::chrono::floor<days>(now) + days(1)) - std::chrono::floor<days>(earliest);
  return static_cast<int>(std::chrono::duration_cast<days>(shift).count());
}

// Times of day and the gaps between matches stay.
void shift_by_days(std::vector<Fixture>& fixtures, int shift) {
  for (auto& f : fixtures) f.date += std::chrono::days(shift);
}

void report(const Error& e, const Fixture& f, std::string_view what) {
  std::cerr << "match #" << f.index << " (" << f.team_1 << " - " << f.team_2 << "): " << what
            << ": " << e.detail << "\n";
}

// A match the file's fixture maps to: created now or by an earlier import.
struct Target {
  std::int64_t id = 0;
  domain::Timestamp date;
};

// Applies the fixture's result to `target`; false only for an outage.
asio::awaitable<bool> settle(service::Context& ctx, Target target, const Fixture& f,
                             const ImportOptions& o, Tally& tally) {
  if (target.date > ctx.now() && !o.force_settle_before_kickoff) {
    // Settled already (by an earlier forced run, or by an operator): then
    // settle_match below only tells whether the result agrees.
    auto match = co_await service::get_match(ctx, target.id);
    if (!match.ok()) {
      report(match.error(), f, "not found again");
      ++tally.failed;
      co_return !match.error().is(Errc::service_unavailable);
    }
    if (match->status != domain::MatchStatus::settled) {
      std::cerr << "match #" << f.index << " (" << f.team_1 << " - " << f.team_2 << "): kicks off "
                << domain::format_rfc3339(target.date) << ", still in the future; not settled\n";
      ++tally.before_kickoff;
      co_return true;
    }
  }
  auto settled = co_await service::settle_match(ctx, target.id, *f.result, std::nullopt);
  if (settled.ok()) {
    ++(settled->changed ? tally.settled : tally.already_settled);
    co_return true;
  }
  if (settled.error().is(Errc::already_settled)) {
    std::cerr << "match #" << f.index << " (" << f.team_1 << " - " << f.team_2
              << "): settled before with another result; left alone\n";
    ++tally.result_conflicts;
    co_return true;
  }
  report(settled.error(), f, "not settled");
  ++tally.failed;
  co_return !settled.error().is(Errc::service_unavailable);
}

// The match an earlier import made of this fixture, else the one with its
// teams and date (made another way, or before imports recorded identities).
asio::awaitable<Result<std::optional<Target>>> find_existing(pg::Pool& db, const Fixture& f) {
  auto imported = co_await store::find_imported_match(db, f.identity);
  if (!imported.ok()) co_return std::move(imported).error();
  if (*imported) co_return std::optional<Target>{Target{(*imported)->id, (*imported)->date}};
  auto same = co_await store::find_match_id(db, f.team_1, f.team_2, f.date);
  if (!same.ok()) co_return std::move(same).error();
  if (!*same) co_return std::optional<Target>{};
  co_return std::optional<Target>{Target{**same, f.date}};
}

// One fixture; false only for an outage (the import then stops).
asio::awaitable<bool> import_one(service::Context& ctx, pg::Pool& db,
                                 const std::optional<std::string>& competition, const Fixture& f,
                                 const ImportOptions& o, Tally& tally) {
  auto existing = co_await store::find_imported_match(db, f.identity);
  if (!existing.ok()) {
    report(existing.error(), f, "not looked up");
    ++tally.failed;
    co_return !existing.error().is(Errc::service_unavailable);
  }
  std::optional<Target> target;
  if (*existing) {
    ++tally.duplicates;
    target = Target{(*existing)->id, (*existing)->date};
  } else {
    domain::NewMatch match{
        f.team_1, f.team_2,     f.date,      fixture_odds(f.team_1, f.team_2, o.odds_seed),
        {},       std::nullopt, competition, f.identity};
    auto created = co_await service::create_match(ctx, match);
    if (created.ok()) {
      ++tally.created;
      target = Target{created->id, created->date};
    } else if (created.error().is(Errc::duplicate_match)) {
      ++tally.duplicates;
      if (o.apply_results && f.result) {
        auto found = co_await find_existing(db, f);
        if (!found.ok()) {
          report(found.error(), f, "not found again");
          ++tally.failed;
          co_return !found.error().is(Errc::service_unavailable);
        }
        target = *found;
      }
    } else {
      report(created.error(), f, "not created");
      ++tally.failed;
      co_return !created.error().is(Errc::service_unavailable);
    }
  }
  if (o.apply_results && f.result && target) co_return co_await settle(ctx, *target, f, o, tally);
  co_return true;
}

asio::awaitable<int> import_file(asio::any_io_executor executor, const Config& config,
                                 const ImportOptions& options, FixtureFile file) {
  pg::PoolConfig pool_config;
  pool_config.conninfo = config.database_url;
  pool_config.size = 1;
  auto pool = pg::Pool::create(executor, pool_config);
  auto migrated = co_await pg::migrate(*pool, pg::embedded_migrations());
  if (!migrated.ok()) {
    pool->close();
    std::cerr << "betsdb import: " << migrated.error().detail << "\n";
    co_return kExitUsage;
  }
  if (options.shift_to_future) {
    // The file's first import chooses the shift; later runs reuse it, so a
    // fixture keeps its date and its match.
    const std::string source = file.name.empty() ? options.file : file.name;
    const auto now =
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    auto days =
        co_await store::import_shift_days(*pool, source, days_to_future(file.fixtures, now));
    if (!days.ok()) {
      pool->close();
      std::cerr << "betsdb import: " << days.error().detail << "\n";
      co_return kExitUsage;
    }
    shift_by_days(file.fixtures, *days);
  }
  if (options.force_settle_before_kickoff) {
    std::cerr << "betsdb import: warning: --force-settle-before-kickoff: matches that have not "
                 "kicked off yet are settled now, and their bets paid out or lost on that "
                 "result\n";
  }

  // The caches of a running server are invalidated by the use cases as for
  // API writes, when Redis answers; without it the import goes on without
  // them and says so (their entries then expire by their TTL).
  auto redis = make_redis(executor, config);
  bool caches_reachable = false;
  if (redis.ok()) {
    (*redis)->start();
    caches_reachable = (co_await (*redis)->wait_connected(kRedisWait)).ok();
  }
  redis::CommandsPtr commands =
      redis.ok() ? *redis : redis::Client::create(executor, redis::Config{});  // never started
  service::Wiring wiring{pool, commands, std::chrono::seconds(1)};
  wiring.cache = caches_reachable;
  wiring.background_retries = false;
  service::Context ctx = service::connect_context(wiring);

  Tally tally;
  bool outage = false;
  {
    ProgressBar bar("importing", file.fixtures.size(), ::isatty(STDERR_FILENO) == 1);
    for (const auto& fixture : file.fixtures) {
      if (!co_await import_one(ctx, *pool, file.competition, fixture, options, tally)) {
        outage = true;
        break;
      }
      bar.advance();
    }
  }
  pool->close();
  commands->stop();
  const bool wrote = tally.created > 0 || tally.settled > 0;
  const bool caches_invalidated = !wrote || (caches_reachable && ctx.cache->overdue() == 0);

  std::cout << "imported " << (file.name.empty() ? options.file : file.name) << ":\n"
            << "  " << (file.fixtures.size() + file.problems.size()) << " matches in the file\n"
            << "  " << tally.created << " created\n"
            << "  " << tally.duplicates << " duplicates skipped (already in the database)\n"
            << "  " << file.problems.size() << " invalid skipped\n";
  if (options.apply_results) {
    std::cout << "  " << tally.settled << " settled, " << tally.already_settled
              << " already settled, " << tally.result_conflicts
              << " settled before with another result\n";
    if (tally.before_kickoff > 0) {
      std::cout << "  " << tally.before_kickoff
                << " not settled: kick-off still in the future (--force-settle-before-kickoff "
                   "settles them)\n";
    }
  }
  if (tally.failed > 0) std::cout << "  " << tally.failed << " failed\n";
  if (outage) {
    std::cerr << "betsdb import: stopped: the database stopped answering. Running the same "
                 "command again continues (imported matches are skipped).\n";
  }
  if (!caches_invalidated) {
    std::cerr
        << "betsdb import: warning: could not reach " << describe_redis(config)
        << " to invalidate cached match lists; a running server may serve lists without "
           "the imported matches until their cache entries expire (BETSDB_CACHE_TTL + 10 s)\n";
  }
  const bool complete = !outage && tally.failed == 0 && tally.result_conflicts == 0 &&
                        tally.before_kickoff == 0 && file.problems.empty();
  co_return complete ? kExitOk : kExitFindings;
}

}  // namespace

std::string import_usage() {
  return "Usage: betsdb import FILE [--shift-to-future] [--apply-results\n"
         "                     [--force-settle-before-kickoff]] [--odds-seed=N]\n\n"
         "Creates the matches of an openfootball JSON fixture file\n"
         "(github.com/openfootball/football.json; FILE - reads stdin), with the\n"
         "file's name as their competition. Applies pending migrations first.\n\n"
         "  --shift-to-future  move every match by the same number of days so the\n"
         "                     earliest is tomorrow (times and gaps kept); the\n"
         "                     shift of a file's first import is kept for later runs\n"
         "  --apply-results    settle each match that has a full-time score\n"
         "                     (1, X or 2) and has kicked off, as\n"
         "                     POST /v1/matches/{id}/result does\n"
         "  --force-settle-before-kickoff\n"
         "                     DANGEROUS: with --apply-results, also settle matches\n"
         "                     that have not kicked off yet (their bets are paid\n"
         "                     out or lost on a result not yet played)\n"
         "  --odds-seed=N      vary the generated odds (default 0); odds are\n"
         "                     derived from the team names, so re-imports agree\n\n"
         "Kick-off times without a zone are UTC; a match without a time starts at\n"
         "12:00 UTC. Each match remembers its fixture (file name, round, teams,\n"
         "kick-off in the file): running the same file again skips the matches it\n"
         "made, whatever --shift-to-future did, so it is safe. Malformed entries\n"
         "are reported and skipped. Shows a progress bar when stderr is a terminal.\n\n"
         "Exit status: 0 every match imported (or already there), 1 some could not\n"
         "be imported or settled (a result before kick-off included), 2 bad\n"
         "arguments, unreadable file or database.\n\n"
         "Uses BETSDB_DATABASE_URL and BETSDB_REDIS_URL (to invalidate the caches\n"
         "of a running server); see `betsdb --help`.\n";
}

int run_import(const Config& config) {
  auto options = parse_import_args(config.command_args);
  if (!options.ok()) {
    const auto& e = options.error();
    std::cerr << "betsdb import: " << e.field_errors.front().field << " "
              << e.field_errors.front().message << "\n";
    return kExitUsage;
  }
  auto text = read_file(options->file);
  if (!text.ok()) {
    std::cerr << "betsdb import: " << text.error().field_errors.front().field << " "
              << text.error().field_errors.front().message << "\n";
    return kExitUsage;
  }
  auto file = parse_openfootball(*text);
  if (!file.ok()) {
    std::cerr << "betsdb import: " << options->file << " "
              << file.error().field_errors.front().message << "\n";
    return kExitUsage;
  }
  for (const auto& p : file->problems) {
    std::cerr << "match #" << p.index << ": " << p.message << "; skipped\n";
  }
  return run_on_private_loop<int>([&](asio::any_io_executor executor) {
    return import_file(executor, config, *options, std::move(*file));
  });
}

std::string command_usage(std::string_view command) {
  if (command == "check") return check_usage();
  if (command == "import") return import_usage();
  if (command == "migrate") {
    return "Usage: betsdb migrate [--database-url=URL]\n\n"
           "Applies pending schema migrations (embedded in the binary) and exits.\n"
           "`betsdb serve` does the same before serving. Safe to run concurrently.\n";
  }
  if (command == "version") return "Usage: betsdb version\n\nPrints the version.\n";
  if (command == "serve") {
    return "Usage: betsdb serve [options]\n\n"
           "Applies pending migrations, then serves the HTTP API until SIGINT or\n"
           "SIGTERM. Logs are JSON lines on stdout.\n\n" +
           options_usage();
  }
  return usage();
}

}  // namespace betsdb::app

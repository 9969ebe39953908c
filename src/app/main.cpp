// betsdb: the Sports Bets DB server and its tools. Wiring only:
// configuration, logging, migrations, one shard per thread, signals and
// graceful shutdown; the tools (check, import) live in cli_*.cpp.
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>
#include <optional>

#include "app/cli.hpp"
#include "app/config.hpp"
#include "app/metrics_registry.hpp"
#include "app/shard.hpp"
#include "app/stream_reader.hpp"
#include "service/password_pool.hpp"
#include "store/pg/migrations.hpp"
#include "store/pg/pool.hpp"
#include "store/redis/redis_config.hpp"
#include "util/logging.hpp"

extern char** environ;

namespace asio = boost::asio;
using namespace betsdb;

namespace {
// Sign-ins that may wait for a hashing thread before more are refused (503).
constexpr std::size_t kPasswordsWaitingAtMost = 256;

// Migrations run before serving, on a private loop: start-up may block, the
// serving loops may not.
int run_migrations(const app::Config& config) {
  asio::io_context ioc;
  pg::PoolConfig pool_config;
  pool_config.conninfo = config.database_url;
  pool_config.size = 1;
  auto pool = pg::Pool::create(ioc.get_executor(), pool_config);
  std::optional<Result<int>> outcome;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        outcome.emplace(co_await pg::migrate(*pool, pg::embedded_migrations()));
        pool->close();
      },
      asio::detached);
  ioc.run();
  if (!outcome) {
    spdlog::error("migrations did not finish");
    return 1;
  }
  auto& applied = *outcome;
  if (!applied.ok()) {
    spdlog::error("migrations failed: {}", applied.error().detail);
    return 1;
  }
  spdlog::info("database schema up to date ({} migration(s) applied)", *applied);
  return 0;
}

int serve(const app::Config& config) {
  if (auto s = app::check_admin_tokens(config); !s.ok()) {
    const auto& problem = s.error().field_errors.front();
    std::cerr << "betsdb: " << problem.field << " " << problem.message << "\n";
    return 2;
  }
  if (!config.redis_cluster.empty()) {
    if (auto r = redis::parse_cluster_seeds(config.redis_cluster); !r.ok()) {
      std::cerr << "betsdb: invalid BETSDB_REDIS_CLUSTER: " << r.error().detail << "\n";
      return 2;
    }
  } else if (auto r = redis::parse_url(config.redis_url); !r.ok()) {
    std::cerr << "betsdb: invalid BETSDB_REDIS_URL: " << r.error().detail << "\n";
    return 2;
  }
  if (int rc = run_migrations(config); rc != 0) return rc;

  boost::system::error_code ec;
  auto address = asio::ip::make_address(config.listen_host, ec);
  if (ec) {
    std::cerr << "betsdb: invalid listen address '" << config.listen_host << "'\n";
    return 2;
  }
  const unsigned per_shard_pool = std::max(1u, config.pg_pool_size / config.threads);
  // Declared before the shards: they register with it and must die first.
  app::MetricsRegistry metrics;
  auto passwords = std::make_shared<service::PasswordPool>(
      config.password_threads, kPasswordsWaitingAtMost, config.sign_ins_per_client);
  auto streams = std::make_shared<api::StreamAdmission>(config.stream_max_clients);
  std::vector<std::unique_ptr<app::Shard>> shards;
  asio::ip::tcp::endpoint endpoint(address, config.listen_port);
  for (unsigned i = 0; i < config.threads; ++i) {
    auto shard = std::make_unique<app::Shard>(config, per_shard_pool, metrics, passwords, streams);
    auto bound = shard->listen(endpoint);
    if (!bound.ok()) {
      std::cerr << "betsdb: " << bound.error().detail << "\n";
      return 1;
    }
    endpoint = *bound;  // later shards join the port the first one got (port 0 case)
    shards.push_back(std::move(shard));
  }
  // Every shard is joined below before any is destroyed, so peers outlive
  // the loops that post to them.
  for (auto& s : shards) {
    std::vector<app::Shard*> peers;
    for (auto& other : shards) {
      if (other != s) peers.push_back(other.get());
    }
    s->share_verified_tokens_with(std::move(peers));
  }
  shards.front()->keep_house();
  for (auto& s : shards) s->start();
  // Joined in stop(), before the shards it posts to are destroyed.
  app::StreamReader stream_reader(
      config,
      [&shards](std::shared_ptr<const api::FrameBatch> batch) {
        for (auto& s : shards) s->deliver_stream_events(batch);
      },
      [&shards] {
        for (auto& s : shards) s->open_stream();
      },
      [&shards] {
        for (auto& s : shards) s->end_streams();
      });
  stream_reader.start();
  spdlog::info("betsdb {} listening on http://{}:{} with {} thread(s)", BETSDB_VERSION,
               endpoint.address().to_string(), endpoint.port(), config.threads);

  asio::io_context signals_ioc;
  asio::signal_set signals(signals_ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    spdlog::info("signal {} received: finishing in-flight requests", signal);
    for (auto& s : shards) s->request_stop();
  });
  signals_ioc.run();
  stream_reader.stop();
  for (auto& s : shards) s->join();
  // While the shards' io_contexts still exist: a hash finishing now hands its
  // answer to a loop that has stopped, not to one destroyed.
  passwords->stop();
  spdlog::info("betsdb stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  auto config = app::load_config(args, environ);
  if (!config.ok()) {
    const auto& e = config.error();
    std::cerr << "betsdb: "
              << (e.field_errors.empty()
                      ? e.detail
                      : e.field_errors[0].field + " " + e.field_errors[0].message)
              << "\n\n"
              << app::usage();
    return 2;
  }
  if (config->command == "help") {
    std::cout << (config->command_args.empty() ? app::usage()
                                               : app::command_usage(config->command_args.front()));
    return 0;
  }
  if (config->help) {
    const bool named_command = !args.empty() && !args.front().starts_with("-");
    std::cout << (named_command ? app::command_usage(config->command) : app::usage());
    return 0;
  }
  if (config->command == "version") {
    std::cout << "betsdb " << BETSDB_VERSION << "\n";
    return 0;
  }
  // load_config accepted only known level names.
  const auto level = logging::parse_level(config->log_level).value_or(spdlog::level::info);
  // The server's lines go to stdout through a background writer; the tools
  // log to stderr, leaving stdout to their results.
  logging::setup_logging(level, config->command == "serve" ? logging::Output::stdout_async
                                                           : logging::Output::stderr_sync);
  struct FlushLogsOnExit {
    ~FlushLogsOnExit() { logging::shutdown_logging(); }
  } flush_logs;
  if (config->command == "migrate") return run_migrations(*config);
  if (config->command == "check") return app::run_check(*config);
  if (config->command == "import") return app::run_import(*config);
  return serve(*config);
}

// redis::ClusterClient against scripted fake Redis nodes on 127.0.0.1
// (fake_redis_node.hpp): routing, MOVED, ASK, retries, a master down and a
// failover, a connection lost under a command, the origin of replies, and
// connected(). No real Redis; every wait is bounded.
#include "store/redis/cluster_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/redis/fake_redis_node.hpp"
#include "store/redis/redis_test_support.hpp"

namespace betsdb::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::kFastFailBound;
using testing::run_async;
using Clock = std::chrono::steady_clock;
using Node = testing::FakeRedisNode;
using Argv = Node::Argv;
using Answer = Node::Answer;
using SlotRange = Node::SlotRange;
namespace wire = testing::wire;

constexpr std::uint16_t kLastSlot = kClusterSlots - 1;
constexpr std::uint16_t kHalf = kClusterSlots / 2;  // A: 0-8191, B: 8192-16383
// What may pass beyond a retry budget before a command has failed.
constexpr auto kBudgetMargin = 250ms;
// Bounds every wait for something the client does in the background.
constexpr auto kEventually = 5s;

// --- Helpers (plain functions: g++ 12 mishandles braced lists in coroutines) ---

// A key whose slot is in [first, last].
std::string key_in(std::uint16_t first, std::uint16_t last, const std::string& prefix) {
  for (int i = 0;; ++i) {
    std::string key = prefix + ":" + std::to_string(i);
    const std::uint16_t slot = key_slot(key);
    if (slot >= first && slot <= last) return key;
  }
}

template <class... Args>
Argv argv(const Args&... args) {
  Argv out;
  (out.push_back(std::string(args)), ...);
  return out;
}

SlotRange range(std::uint16_t first, std::uint16_t last, const Node& master) {
  SlotRange r;
  r.first = first;
  r.last = last;
  r.master = master.address();
  return r;
}

// A owns 0-8191 and B 8192-16383.
std::vector<SlotRange> split(const Node& a, const Node& b) {
  std::vector<SlotRange> map;
  map.push_back(range(0, kHalf - 1, a));
  map.push_back(range(kHalf, kLastSlot, b));
  return map;
}

// As split(a, b), with `slot` (of A's half) migrated to B.
std::vector<SlotRange> split_with_slot_on_b(const Node& a, const Node& b, std::uint16_t slot) {
  std::vector<SlotRange> map;
  if (slot > 0) map.push_back(range(0, static_cast<std::uint16_t>(slot - 1), a));
  map.push_back(range(slot, slot, b));
  if (slot + 1 < kHalf) map.push_back(range(static_cast<std::uint16_t>(slot + 1), kHalf - 1, a));
  map.push_back(range(kHalf, kLastSlot, b));
  return map;
}

// Every node given answers CLUSTER SLOTS with `map` from now on.
template <class... Nodes>
void publish(const std::vector<SlotRange>& map, Nodes&... nodes) {
  (nodes.set_slots(map), ...);
}

template <class... Nodes>
ClusterConfig config_for(std::chrono::milliseconds retry_budget, const Nodes&... seeds) {
  ClusterConfig cfg;
  (cfg.seeds.push_back(ClusterConfig::Seed{"127.0.0.1", seeds.port()}), ...);
  cfg.connect_timeout = 500ms;
  cfg.command_timeout = 1000ms;
  cfg.retry_budget = retry_budget;
  return cfg;
}

asio::awaitable<std::shared_ptr<ClusterClient>> connected_cluster(asio::io_context& io,
                                                                  ClusterConfig cfg) {
  auto client = ClusterClient::create(io.get_executor(), std::move(cfg));
  client->start();
  const Status up = co_await client->wait_connected(kEventually);
  EXPECT_TRUE(up.ok()) << (up.ok() ? "" : up.error().detail);
  co_return client;
}

// Runs the io_context until `condition` holds, for at most `bound`.
template <class Condition>
asio::awaitable<bool> eventually(Condition condition,
                                 std::chrono::steady_clock::duration bound = kEventually) {
  const auto deadline = Clock::now() + bound;
  asio::steady_timer poll(co_await asio::this_coro::executor);
  while (!condition()) {
    if (Clock::now() >= deadline) co_return false;
    poll.expires_after(2ms);
    co_await poll.async_wait(testing::kAwait);
  }
  co_return true;
}

Commands::NodeStats node_stats(const Commands::Stats& stats, const std::string& name) {
  for (const auto& node : stats.nodes) {
    if (node.node == name) return node;
  }
  ADD_FAILURE() << "no stats for node " << name;
  return {};
}

bool names_key(const Argv& command, const std::string& key) {
  return command.size() > 1 && command[1] == key;
}

std::string describe(const Result<Reply>& reply) {
  return reply.ok() ? reply->describe() : "error: " + reply.error().detail;
}

// --- 1. Routing ------------------------------------------------------------

TEST(ClusterClient, RoutesEachKeyToTheMasterOfItsSlot) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    Node a(io);
    Node b(io);
    publish(split(a, b), a, b);
    // Only A is a seed: B is learnt from the map.
    auto client = co_await connected_cluster(io, config_for(2000ms, a));
    CO_ASSERT(client->connected(), client->last_error());
    EXPECT_EQ(client->master_of(0), a.name());
    EXPECT_EQ(client->master_of(kHalf - 1), a.name());
    EXPECT_EQ(client->master_of(kHalf), b.name());
    EXPECT_EQ(client->master_of(kLastSlot), b.name());

    const std::string on_a = key_in(0, kHalf - 1, "route");
    const std::string on_b = key_in(kHalf, kLastSlot, "route");
    a.set(on_a, "value-on-a");
    b.set(on_b, "value-on-b");
    auto get_a = co_await client->command("GET", on_a);
    EXPECT_EQ(describe(get_a), Reply::string("value-on-a").describe());
    auto get_b = co_await client->command("GET", on_b);
    EXPECT_EQ(describe(get_b), Reply::string("value-on-b").describe());

    // Many keys: each lands on its slot's master and nowhere else; hash tags
    // decide the slot when there is one.
    std::vector<std::string> keys;
    for (int i = 0; i < 40; ++i) keys.push_back("many:" + std::to_string(i));
    keys.push_back("cart:{" + on_a + "}");
    keys.push_back("cart:{" + on_b + "}:seq");
    for (const auto& key : keys) {
      auto set = co_await client->command("SET", key, "v");
      CO_ASSERT(set.ok() && set->is_ok(), key << ": " << describe(set));
    }
    for (const auto& key : keys) {
      const bool owned_by_a = key_slot(key) < kHalf;
      EXPECT_EQ(a.count("SET", key), owned_by_a ? 1u : 0u) << key;
      EXPECT_EQ(b.count("SET", key), owned_by_a ? 0u : 1u) << key;
    }

    // A command without a key goes to one master (either will do).
    const std::size_t pings = a.count("PING") + b.count("PING");
    auto ping = co_await client->command("PING");
    EXPECT_EQ(describe(ping), Reply::status("PONG").describe());
    EXPECT_EQ(a.count("PING") + b.count("PING"), pings + 1);
    client->stop();
  });
}

TEST(ClusterClient, EvalshaGoesByItsFirstKeyAndFallsBackToEvalOnTheSameNode) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    Node a(io);
    Node b(io);
    publish(split(a, b), a, b);
    // Neither node knows the script yet.
    auto scripting = [](const Argv& command) -> std::optional<Answer> {
      if (testing::same_word(command[0], "EVALSHA")) {
        return wire::error("NOSCRIPT No matching script. Please use EVAL.");
      }
      if (testing::same_word(command[0], "EVAL")) return wire::integer(42);
      return std::nullopt;
    };
    a.on_command(scripting);
    b.on_command(scripting);
    auto client = co_await connected_cluster(io, config_for(2000ms, a, b));
    CO_ASSERT(client->connected(), client->last_error());

    const Script script("return 42");
    const std::string first = key_in(kHalf, kLastSlot, "script");  // B's
    const std::string second = key_in(0, kHalf - 1, "script");     // A's
    std::vector<std::string> keys;
    keys.push_back(first);
    keys.push_back(second);
    std::vector<std::string> args;
    args.push_back("arg");
    auto reply = co_await client->eval(script, keys, args);
    EXPECT_EQ(describe(reply), Reply::integer(42).describe());

    // Both on B, the first key's master: EVALSHA, then EVAL with the source.
    std::vector<Argv> scripts;
    for (const auto& received : b.received()) {
      if (testing::same_word(received.argv[0], "EVALSHA") ||
          testing::same_word(received.argv[0], "EVAL")) {
        scripts.push_back(received.argv);
      }
    }
    CO_ASSERT(scripts.size() == 2u, "B received " << scripts.size() << " script commands");
    EXPECT_EQ(scripts[0], argv("EVALSHA", script.sha1(), "2", first, second, "arg"));
    EXPECT_EQ(scripts[1], argv("EVAL", script.source(), "2", first, second, "arg"));
    EXPECT_EQ(a.count("EVALSHA"), 0u);
    EXPECT_EQ(a.count("EVAL"), 0u);
    client->stop();
  });
}

// --- 2. MOVED ----------------------------------------------------------------

TEST(ClusterClient, MovedIsFollowedCountedAndTheMapReloaded) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    Node a(io);
    Node b(io);
    publish(split(a, b), a, b);
    auto client = co_await connected_cluster(io, config_for(2000ms, a));
    CO_ASSERT(client->connected(), client->last_error());

    const std::string key = key_in(0, kHalf - 1, "moved");
    const std::uint16_t slot = key_slot(key);
    CO_ASSERT(client->master_of(slot) == a.name(), client->master_of(slot));
    // The slot migrates to B: the map says so, A redirects, B has the data.
    b.set(key, "on-b");
    publish(split_with_slot_on_b(a, b, slot), a, b);
    const std::string moved = "MOVED " + std::to_string(slot) + " " + b.name();
    a.on_command([&](const Argv& command) -> std::optional<Answer> {
      if (names_key(command, key)) return wire::error(moved);
      return std::nullopt;
    });
    const Commands::Stats before = client->stats();
    const std::size_t maps_asked = a.count("CLUSTER") + b.count("CLUSTER");

    auto reply = co_await client->command("GET", key);
    EXPECT_EQ(describe(reply), Reply::string("on-b").describe());
    EXPECT_EQ(a.count("GET", key), 1u);
    EXPECT_EQ(b.count("GET", key), 1u);
    const Commands::Stats after = client->stats();
    EXPECT_EQ(after.moved, before.moved + 1);
    EXPECT_EQ(after.ask, before.ask);
    EXPECT_EQ(node_stats(after, a.name()).moved, 1u);  // counted where the MOVED came from
    EXPECT_EQ(node_stats(after, b.name()).moved, 0u);
    EXPECT_EQ(client->master_of(slot), b.name());  // recorded at once

    // The map is read again.
    const bool reloaded = co_await eventually([&] {
      return a.count("CLUSTER") + b.count("CLUSTER") > maps_asked &&
             client->stats().slot_refreshes > before.slot_refreshes;
    });
    CO_ASSERT(reloaded, "CLUSTER SLOTS was not asked again after MOVED");
    EXPECT_EQ(client->master_of(slot), b.name());
    EXPECT_EQ(client->master_of(static_cast<std::uint16_t>(slot + 1)), a.name());

    // Later commands for the slot go straight to B.
    for (int i = 0; i < 3; ++i) {
      auto again = co_await client->command("GET", key);
      EXPECT_EQ(describe(again), Reply::string("on-b").describe());
    }
    EXPECT_EQ(a.count("GET", key), 1u);
    EXPECT_EQ(b.count("GET", key), 4u);
    EXPECT_EQ(client->stats().moved, before.moved + 1);
    client->stop();
  });
}

// --- 3. ASK ------------------------------------------------------------------

TEST(ClusterClient, AskSendsAskingWithTheCommandToTheTargetAndKeepsTheMap) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    Node a(io);
    Node b(io);
    publish(split(a, b), a, b);
    auto client = co_await connected_cluster(io, config_for(2000ms, a, b));
    CO_ASSERT(client->connected(), client->last_error());

    const std::string key = key_in(0, kHalf - 1, "ask");
    const std::uint16_t slot = key_slot(key);
    a.set(key, "on-a");
    b.set(key, "on-b");
    // The slot is being migrated from A to B: A sends this one key's next
    // command to B, once.
    bool asked = false;
    const std::string ask = "ASK " + std::to_string(slot) + " " + b.name();
    a.on_command([&](const Argv& command) -> std::optional<Answer> {
      if (!asked && names_key(command, key)) {
        asked = true;
        return wire::error(ask);
      }
      return std::nullopt;
    });
    const Commands::Stats before = client->stats();
    const std::size_t maps_asked = a.count("CLUSTER") + b.count("CLUSTER");

    auto reply = co_await client->command("GET", key);
    EXPECT_EQ(describe(reply), Reply::string("on-b").describe());
    const Commands::Stats after = client->stats();
    EXPECT_EQ(after.ask, before.ask + 1);
    EXPECT_EQ(after.moved, before.moved);
    EXPECT_EQ(node_stats(after, a.name()).ask, 1u);
    EXPECT_EQ(node_stats(after, b.name()).ask, 0u);

    // B got ASKING and the command back to back on one connection.
    EXPECT_EQ(b.count("ASKING"), 1u);
    CO_ASSERT(b.count("GET", key) == 1u, "B received GET " << b.count("GET", key) << " times");
    int connection = 0;
    for (const auto& received : b.received()) {
      if (names_key(received.argv, key)) connection = received.connection;
    }
    const std::vector<Argv> stream = b.stream(connection);
    const auto get = std::find(stream.begin(), stream.end(), argv("GET", key));
    CO_ASSERT(get != stream.end() && get != stream.begin(), "no GET after ASKING");
    EXPECT_EQ(*(get - 1), argv("ASKING"));

    // The map is left alone: the next command for the slot goes to A again.
    auto again = co_await client->command("GET", key);
    EXPECT_EQ(describe(again), Reply::string("on-a").describe());
    EXPECT_EQ(a.count("GET", key), 2u);
    EXPECT_EQ(b.count("GET", key), 1u);
    EXPECT_EQ(b.count("ASKING"), 1u);
    EXPECT_EQ(client->master_of(slot), a.name());
    EXPECT_EQ(client->stats().slot_refreshes, before.slot_refreshes);
    EXPECT_EQ(a.count("CLUSTER") + b.count("CLUSTER"), maps_asked);
    client->stop();
  });
}

// --- 4. TRYAGAIN and CLUSTERDOWN --------------------------------------------------

TEST(ClusterClient, TryAgainIsRetriedUntilAnswered) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    Node a(io);
    Node b(io);
    publish(split(a, b), a, b);
    auto client = co_await connected_cluster(io, config_for(2000ms, a, b));
    CO_ASSERT(client->connected(), client->last_error());

    const std::string key = key_in(0, kHalf - 1, "tryagain");
    int refusals = 2;
    a.on_command([&](const Argv& command) -> std::optional<Answer> {
      if (refusals > 0 && names_key(command, key)) {
        --refusals;
        return wire::error("TRYAGAIN Multiple keys request during rehashing of slot");
      }
      return std::nullopt;
    });
    const std::uint64_t retries = client->stats().retries;

    auto served = co_await client->command_served(argv("SET", key, "v"));
    CO_ASSERT(served.ok(), served.error().detail);
    EXPECT_EQ(served->reply.describe(), Reply::status("OK").describe());
    EXPECT_FALSE(served->first_send) << "a retried command counted as sent once";
    EXPECT_EQ(client->stats().retries, retries + 2);
    EXPECT_EQ(a.count("SET", key), 3u);
    EXPECT_EQ(b.count_key(key), 0u);
    client->stop();
  });
}

TEST(ClusterClient, ClusterDownFailsWithinTheRetryBudget) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    Node a(io);
    Node b(io);
    publish(split(a, b), a, b);
    constexpr auto kBudget = 300ms;
    auto client = co_await connected_cluster(io, config_for(kBudget, a, b));
    CO_ASSERT(client->connected(), client->last_error());

    const std::string key = key_in(0, kHalf - 1, "clusterdown");
    a.on_command([&](const Argv& command) -> std::optional<Answer> {
      if (names_key(command, key)) return wire::error("CLUSTERDOWN The cluster is down");
      return std::nullopt;
    });
    const std::uint64_t retries = client->stats().retries;

    const auto started = Clock::now();
    auto reply = co_await client->command("GET", key);
    const auto took = Clock::now() - started;
    CO_ASSERT(!reply.ok(), "CLUSTERDOWN came back as " << reply->describe());
    EXPECT_EQ(reply.error().code, Errc::service_unavailable);
    EXPECT_NE(reply.error().detail.find("CLUSTERDOWN"), std::string::npos) << reply.error().detail;
    EXPECT_LT(took, kBudget + kBudgetMargin);
    EXPECT_GE(a.count("GET", key), 2u);  // it was retried
    EXPECT_GE(client->stats().retries, retries + 1);
    EXPECT_EQ(b.count_key(key), 0u);

    // Other slots are served all along.
    const std::string on_b = key_in(kHalf, kLastSlot, "clusterdown");
    auto other = co_await client->command("SET", on_b, "v");
    EXPECT_EQ(describe(other), Reply::status("OK").describe());
    client->stop();
  });
}

// --- 5. A master down, then a failover ----------------------------------------

TEST(ClusterClient, DownMasterFailsWithinTheBudgetAndRecoversAfterAFailover) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    Node a(io);
    Node b(io);
    Node c(io);  // A's replica
    std::vector<SlotRange> map = split(a, b);
    map[0].replicas.push_back(c.address());
    publish(map, a, b, c);
    constexpr auto kBudget = 300ms;
    auto client = co_await connected_cluster(io, config_for(kBudget, a, b));
    CO_ASSERT(client->connected(), client->last_error());
    EXPECT_EQ(c.connections(), 0);  // replicas are not used

    a.shut_down();  // crashed: connections reset, the port refuses
    const bool noticed = co_await eventually([&] { return !client->connected(); });
    CO_ASSERT(noticed, "the client did not notice that A is down");

    const std::string key = key_in(0, kHalf - 1, "failover");
    const std::uint64_t retries = client->stats().retries;
    const auto started = Clock::now();
    auto down = co_await client->command("SET", key, "v");
    const auto took = Clock::now() - started;
    CO_ASSERT(!down.ok(), "SET to a down master answered " << down->describe());
    EXPECT_EQ(down.error().code, Errc::service_unavailable);
    EXPECT_NE(down.error().detail.find(a.name()), std::string::npos) << down.error().detail;
    EXPECT_LT(took, kBudget + kBudgetMargin);
    EXPECT_GE(client->stats().retries, retries + 1);
    // Never sent anywhere else.
    EXPECT_EQ(b.count_key(key), 0u);
    EXPECT_EQ(c.count_key(key), 0u);
    // B's slots are served all along.
    const std::string on_b = key_in(kHalf, kLastSlot, "failover");
    auto other = co_await client->command("SET", on_b, "v");
    EXPECT_EQ(describe(other), Reply::status("OK").describe());

    // The replica is promoted: the map names C, A's port stays gone.
    std::vector<SlotRange> promoted;
    promoted.push_back(range(0, kHalf - 1, c));
    promoted.push_back(range(kHalf, kLastSlot, b));
    publish(promoted, b, c);
    Result<Reply> up = Error::internal("not sent");
    int attempts = 0;
    const auto deadline = Clock::now() + kEventually;
    while (Clock::now() < deadline) {
      ++attempts;
      up = co_await client->command("SET", key, "v");
      if (up.ok()) break;
    }
    CO_ASSERT(up.ok(), "no recovery after " << attempts << " attempts: " << describe(up));
    EXPECT_TRUE(up->is_ok()) << up->describe();
    EXPECT_EQ(c.count("SET", key), 1u);
    EXPECT_EQ(b.count_key(key), 0u);
    EXPECT_EQ(client->master_of(key_slot(key)), c.name());
    const bool all_up = co_await eventually([&] { return client->connected(); });
    EXPECT_TRUE(all_up) << "not connected to C and B: " << client->last_error();
    EXPECT_TRUE(node_stats(client->stats(), c.name()).connected);
    client->stop();
  });
}

// Every command for a down master's slots asks for the map again, and each
// load finds the map it had until a replica takes over: loads back off then,
// instead of following one another every few milliseconds.
TEST(ClusterClient, ADownMasterDoesNotHaveTheMapReloadedIncessantly) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    Node a(io);
    Node b(io);
    publish(split(a, b), a, b);
    auto client = co_await connected_cluster(io, config_for(100ms, a, b));
    CO_ASSERT(client->connected(), client->last_error());
    a.shut_down();
    const bool noticed = co_await eventually([&] { return !client->connected(); });
    CO_ASSERT(noticed, "the client did not notice that A is down");
    const std::uint64_t before = client->stats().slot_refreshes;
    const std::string key = key_in(0, kHalf - 1, "storm");
    const auto until = Clock::now() + 1s;
    int commands = 0;
    while (Clock::now() < until) {
      auto down = co_await client->command("SET", key, "v");
      EXPECT_FALSE(down.ok());
      ++commands;
    }
    const std::uint64_t loads = client->stats().slot_refreshes - before;
    // 5, 10, 20, ... 250 ms apart: about ten in the second.
    EXPECT_LE(loads, 15U) << "in 1 s of " << commands << " commands";
    EXPECT_GE(loads, 3U);
    client->stop();
  });
}

// A master that crashed and was failed over is not named by the new map:
// the shard stops connecting to it (once a second, for ever, before) and it
// leaves the per-node figures, while the totals keep what it counted. When
// a map names it again (failed back), it is connected and used again.
TEST(ClusterClient, ANodeThatLeftTheMapIsDroppedUntilAMapNamesItAgain) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    Node a(io);
    Node b(io);  // D's replica, and a seed
    Node d(io);  // not a seed: learnt from the map
    std::vector<SlotRange> map = split(a, d);
    map[1].replicas.push_back(b.address());
    publish(map, a, b, d);
    auto client = co_await connected_cluster(io, config_for(300ms, a, b));
    CO_ASSERT(client->connected(), client->last_error());
    const std::string key = key_in(kHalf, kLastSlot, "departed");
    for (int i = 0; i < 50; ++i) {
      auto first = co_await client->command("SET", key, "v");
      EXPECT_EQ(describe(first), Reply::status("OK").describe());
    }
    EXPECT_EQ(d.count("SET", key), 50u);
    const std::uint64_t sent_to_d = node_stats(client->stats(), d.name()).commands_sent;

    // D crashes; B takes its slots. D is in no map any more.
    d.shut_down();
    publish(split(a, b), a, b);
    const auto listed = [&](const Node& node) {  // and not retired
      const auto nodes = client->stats().nodes;
      return std::any_of(nodes.begin(), nodes.end(),
                         [&](const auto& n) { return n.node == node.name() && !n.retired; });
    };
    const bool dropped = co_await eventually([&] {
      client->request_refresh();
      return client->master_of(key_slot(key)) == b.name() && !listed(d);
    });
    CO_ASSERT(dropped,
              "D is still listed, or B is not the master: " << client->master_of(key_slot(key)));
    EXPECT_TRUE(listed(a));
    EXPECT_TRUE(listed(b));
    // No more attempts to reach D: its client's pauses between attempts are at
    // most 1 s, so 1.5 s without a new transport error shows it stopped.
    const std::uint64_t errors = client->stats().transport_errors;
    const std::uint64_t sent = client->stats().commands_sent;
    const bool tried_again =
        co_await eventually([&] { return client->stats().transport_errors > errors; }, 1500ms);
    EXPECT_FALSE(tried_again) << "the shard still connects to the departed node";
    EXPECT_GE(client->stats().commands_sent, sent) << "the totals lost D's commands";

    // D restarts and the map gives it its slots back.
    d.restart();
    publish(split(a, d), a, b, d);
    Result<Reply> back = Error::internal("not sent");
    const auto deadline = Clock::now() + kEventually;
    while (Clock::now() < deadline && d.count("SET", key) < 51) {
      client->request_refresh();
      back = co_await client->command("SET", key, "v");
    }
    EXPECT_EQ(d.count("SET", key), 51u) << describe(back);
    EXPECT_TRUE(listed(d));
    EXPECT_TRUE(node_stats(client->stats(), d.name()).connected);
    EXPECT_GT(node_stats(client->stats(), d.name()).commands_sent, sent_to_d)
        << "its counters go on from those of its first client";
    client->stop();
  });
}

// A node that a MOVED or ASK has just named is not in the map (an empty
// master a slot moves to is in no CLUSTER SLOTS range) and is not connected
// yet: a map load then must not retire it, or the command would retry a
// stopped client until its budget ends. Here the target's handshake never
// finishes (it listens but never accepts, so AUTH gets no answer until the
// connect timeout): loads that come meanwhile leave it live; once its
// connection has failed, a load retires it.
TEST(ClusterClient, AnAskTargetStillConnectingIsNotRetired) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    Node a(io);
    asio::ip::tcp::acceptor silent(io, {asio::ip::address_v4::loopback(), 0});  // never accepts
    const std::string target = "127.0.0.1:" + std::to_string(silent.local_endpoint().port());
    std::vector<SlotRange> map;
    map.push_back(range(0, kLastSlot, a));
    publish(map, a);
    const std::string key = key_in(0, kLastSlot, "connecting");
    bool ask = false;
    a.on_command([&](const Argv& command) -> std::optional<Answer> {
      if (testing::same_word(command[0], "AUTH")) return wire::status("OK");
      if (ask && names_key(command, key)) {
        return wire::error("ASK " + std::to_string(key_slot(key)) + " " + target);
      }
      return std::nullopt;
    });
    auto cfg = config_for(3000ms, a);
    cfg.password = "secret";
    cfg.connect_timeout = 1000ms;
    auto client = co_await connected_cluster(io, cfg);
    CO_ASSERT(client->connected(), client->last_error());

    ask = true;
    std::optional<Result<Reply>> answer;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { answer = co_await client->command("GET", key); },
        asio::detached);
    const auto listed_live = [&] {
      for (const auto& n : client->stats().nodes) {
        if (n.node == target) return !n.retired;
      }
      return false;
    };
    const bool named = co_await eventually(listed_live);
    CO_ASSERT(named, "the ASK target was never added");
    const std::uint64_t loads = client->stats().slot_refreshes;
    // The not-connected target asks for loads; two of them come well within
    // its 1 s connect timeout (at most 250 ms apart).
    const bool loaded =
        co_await eventually([&] { return client->stats().slot_refreshes >= loads + 2; }, 900ms);
    CO_ASSERT(loaded, "no map load while the target was connecting");
    EXPECT_TRUE(listed_live()) << "a node still connecting was retired";
    EXPECT_EQ(node_stats(client->stats(), target).transport_errors, 0u);

    // The migration ends (A answers for the key again), and the target's
    // handshake times out: retired, the command leaves it for the slot's
    // master, which answers, well within the command's 3 s budget.
    ask = false;
    const bool done = co_await eventually([&] { return answer.has_value(); });
    CO_ASSERT(done, "the command never ended");
    EXPECT_EQ(describe(*answer), Reply::nil().describe());
    const bool retired = co_await eventually([&] {
      client->request_refresh();
      return !listed_live();
    });
    EXPECT_TRUE(retired) << "the failed target was never retired";
    client->stop();
  });
}

// --- 6. A connection lost under a command -------------------------------------

TEST(ClusterClient, ConnectionLostAfterSendFailsAtOnceAndReloadsTheMap) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    Node a(io);
    Node b(io);
    publish(split(a, b), a, b);
    auto client = co_await connected_cluster(io, config_for(2000ms, a, b));  // a long budget
    CO_ASSERT(client->connected(), client->last_error());

    const std::string key = key_in(0, kHalf - 1, "lost");
    a.on_command([&](const Argv& command) -> std::optional<Answer> {
      if (names_key(command, key)) return Answer::hang_up();
      return std::nullopt;
    });
    const Commands::Stats before = client->stats();
    const std::size_t maps_asked = b.count("CLUSTER");

    const auto started = Clock::now();
    auto lost = co_await client->command("INCR", key);
    const auto took = Clock::now() - started;
    CO_ASSERT(!lost.ok(), "INCR answered " << lost->describe());
    EXPECT_EQ(lost.error().code, Errc::service_unavailable);
    EXPECT_LT(took, kFastFailBound);  // at once, not after the 2 s budget
    EXPECT_EQ(client->stats().retries, before.retries);

    // The map is read again (from B: A's connection is gone).
    const bool reloaded = co_await eventually([&] {
      return b.count("CLUSTER") > maps_asked &&
             client->stats().slot_refreshes > before.slot_refreshes;
    });
    EXPECT_TRUE(reloaded) << "CLUSTER SLOTS was not asked again";
    // A comes back (the client reconnects); the command was not sent again.
    const bool reconnected =
        co_await eventually([&] { return client->connected() && a.connections() == 2; });
    EXPECT_TRUE(reconnected) << client->last_error();
    const std::string other = key_in(0, kHalf - 1, "lost-other");
    auto after = co_await client->command("SET", other, "v");  // a round trip on the new connection
    EXPECT_EQ(describe(after), Reply::status("OK").describe());
    EXPECT_EQ(a.count("INCR", key), 1u);
    EXPECT_EQ(b.count_key(key), 0u);
    client->stop();
  });
}

// --- 7. Origin -----------------------------------------------------------------

TEST(ClusterClient, OriginIsTheRunIdOfTheNodeThatAnswered) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    Node a(io);
    Node b(io);
    publish(split(a, b), a, b);
    auto client = co_await connected_cluster(io, config_for(2000ms, a));
    CO_ASSERT(client->connected(), client->last_error());
    CO_ASSERT(a.origin() != b.origin(), "two nodes share a run_id prefix");

    const std::string on_a = key_in(0, kHalf - 1, "origin");
    const std::string on_b = key_in(kHalf, kLastSlot, "origin");
    a.set(on_a, "on-a");
    b.set(on_b, "on-b");
    // Each node's INFO server is answered before any reply to a command sent
    // after it: one round trip after INFO arrived, the run_id is known.
    const bool asked = co_await eventually([&] { return a.count("INFO") && b.count("INFO"); });
    CO_ASSERT(asked, "INFO server was not asked");
    auto warm_a = co_await client->command("GET", on_a);
    auto warm_b = co_await client->command("GET", on_b);
    EXPECT_TRUE(warm_a.ok() && warm_b.ok());

    auto from_a = co_await client->command_served(argv("GET", on_a));
    CO_ASSERT(from_a.ok(), from_a.error().detail);
    EXPECT_EQ(from_a->reply, Reply::string("on-a"));
    EXPECT_EQ(from_a->origin, a.origin());
    EXPECT_EQ(from_a->origin.size(), 12u);
    EXPECT_TRUE(from_a->first_send);
    auto from_b = co_await client->command_served(argv("GET", on_b));
    CO_ASSERT(from_b.ok(), from_b.error().detail);
    EXPECT_EQ(from_b->reply, Reply::string("on-b"));
    EXPECT_EQ(from_b->origin, b.origin());

    // After a MOVED, the origin is that of the node that answered: B.
    const std::uint16_t slot = key_slot(on_a);
    b.set(on_a, "moved-to-b");
    publish(split_with_slot_on_b(a, b, slot), a, b);
    const std::string moved = "MOVED " + std::to_string(slot) + " " + b.name();
    a.on_command([&](const Argv& command) -> std::optional<Answer> {
      if (names_key(command, on_a)) return wire::error(moved);
      return std::nullopt;
    });
    const auto before_moved = Clock::now();
    EXPECT_LT(from_a->origin_since, before_moved);
    auto redirected = co_await client->command_served(argv("GET", on_a));
    CO_ASSERT(redirected.ok(), redirected.error().detail);
    EXPECT_EQ(redirected->reply, Reply::string("moved-to-b"));
    EXPECT_EQ(redirected->origin, b.origin());
    EXPECT_EQ(client->stats().moved, 1u);
    // Sent twice: what was sent beside it may have run on B before it.
    EXPECT_FALSE(redirected->first_send);
    // B was reached long before, but owns the slot only since the MOVED:
    // what it holds for the slot counts from then (Served::origin_since).
    EXPECT_GE(redirected->origin_since, before_moved);
    EXPECT_LT(from_b->origin_since, before_moved);

    // Scripts report it too.
    b.on_command([](const Argv& command) -> std::optional<Answer> {
      if (testing::same_word(command[0], "EVALSHA")) return wire::integer(7);
      return std::nullopt;
    });
    const Script script("return 7");
    std::vector<std::string> keys;
    keys.push_back(on_b);
    const std::vector<std::string> no_args;
    auto evaluated = co_await client->eval_served(script, keys, no_args);
    CO_ASSERT(evaluated.ok(), evaluated.error().detail);
    EXPECT_EQ(evaluated->reply, Reply::integer(7));
    EXPECT_EQ(evaluated->origin, b.origin());
    client->stop();
  });
}

// --- 8. connected() --------------------------------------------------------------

TEST(ClusterClient, ConnectedOnlyOnceTheMapIsLoadedAndEveryMasterIsUp) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    Node a(io);
    Node b(io, Node::Listen::no);  // refuses connections for now
    publish(split(a, b), a, b);
    auto client = ClusterClient::create(io.get_executor(), config_for(2000ms, a));
    EXPECT_FALSE(client->connected());
    client->start();
    EXPECT_FALSE(client->connected());  // no map yet

    // The map is loaded and A is connected, but B is not.
    const bool loaded = co_await eventually([&] {
      return client->stats().slot_refreshes >= 1 && !client->master_of(kLastSlot).empty() &&
             node_stats(client->stats(), a.name()).connected;
    });
    CO_ASSERT(loaded, "the map was not loaded: " << client->last_error());
    EXPECT_EQ(client->master_of(kLastSlot), b.name());
    EXPECT_FALSE(node_stats(client->stats(), b.name()).connected);
    EXPECT_FALSE(client->connected());
    const Status early = co_await client->wait_connected(50ms);
    EXPECT_FALSE(early.ok());

    b.listen();
    const bool up = co_await eventually([&] { return client->connected(); });
    CO_ASSERT(up, "not connected once B listens: " << client->last_error());
    const Status waited = co_await client->wait_connected(50ms);
    EXPECT_TRUE(waited.ok());

    b.shut_down();
    const bool down = co_await eventually([&] { return !client->connected(); });
    EXPECT_TRUE(down) << "still connected with B down";
    EXPECT_TRUE(node_stats(client->stats(), a.name()).connected);
    EXPECT_FALSE(node_stats(client->stats(), b.name()).connected);

    client->stop();
    EXPECT_FALSE(client->connected());
  });
}

// --- 9. BETSDB_REDIS_CLUSTER -----------------------------------------------------

TEST(ClusterSeeds, ParsesSeedsCredentialsAndIpv6) {
  auto plain = parse_cluster_seeds("10.0.0.1:7000,10.0.0.2:7001");
  ASSERT_TRUE(plain.ok()) << plain.error().detail;
  ASSERT_EQ(plain->seeds.size(), 2u);
  EXPECT_EQ(plain->seeds[0].host, "10.0.0.1");
  EXPECT_EQ(plain->seeds[0].port, 7000);
  EXPECT_EQ(plain->seeds[1].host, "10.0.0.2");
  EXPECT_EQ(plain->seeds[1].port, 7001);
  EXPECT_EQ(plain->username, "");
  EXPECT_EQ(plain->password, "");
  EXPECT_EQ(plain->retry_budget, ClusterConfig{}.retry_budget);
  EXPECT_EQ(plain->connect_timeout, ClusterConfig{}.connect_timeout);
  EXPECT_EQ(plain->command_timeout, ClusterConfig{}.command_timeout);

  auto user = parse_cluster_seeds("alice:s3cret@redis-a:7000, redis-b:65535 ");
  ASSERT_TRUE(user.ok()) << user.error().detail;
  EXPECT_EQ(user->username, "alice");
  EXPECT_EQ(user->password, "s3cret");
  ASSERT_EQ(user->seeds.size(), 2u);
  EXPECT_EQ(user->seeds[0].host, "redis-a");
  EXPECT_EQ(user->seeds[1].host, "redis-b");
  EXPECT_EQ(user->seeds[1].port, 65535);
  // Every node gets the credentials.
  const Config node = user->node("10.1.1.1", 7002);
  EXPECT_EQ(node.host, "10.1.1.1");
  EXPECT_EQ(node.port, 7002);
  EXPECT_EQ(node.username, "alice");
  EXPECT_EQ(node.password, "s3cret");
  EXPECT_EQ(node.db, 0);

  auto password_only = parse_cluster_seeds(":only-a-password@127.0.0.1:7000");
  ASSERT_TRUE(password_only.ok()) << password_only.error().detail;
  EXPECT_EQ(password_only->username, "");
  EXPECT_EQ(password_only->password, "only-a-password");

  // A password may hold '@' and ':' (the last '@' ends the credentials).
  auto odd = parse_cluster_seeds("bob:p@ss:w0rd@h:1");
  ASSERT_TRUE(odd.ok()) << odd.error().detail;
  EXPECT_EQ(odd->username, "bob");
  EXPECT_EQ(odd->password, "p@ss:w0rd");
  ASSERT_EQ(odd->seeds.size(), 1u);
  EXPECT_EQ(odd->seeds[0].host, "h");
  EXPECT_EQ(odd->seeds[0].port, 1);

  auto v6 = parse_cluster_seeds("[::1]:7000,[fe80::1:2]:7001,127.0.0.1:7002");
  ASSERT_TRUE(v6.ok()) << v6.error().detail;
  ASSERT_EQ(v6->seeds.size(), 3u);
  EXPECT_EQ(v6->seeds[0].host, "::1");
  EXPECT_EQ(v6->seeds[0].port, 7000);
  EXPECT_EQ(v6->seeds[1].host, "fe80::1:2");
  EXPECT_EQ(v6->seeds[1].port, 7001);
  EXPECT_EQ(v6->seeds[2].host, "127.0.0.1");
}

TEST(ClusterSeeds, RejectsBadSeedsWithoutEchoingThePassword) {
  struct Case {
    std::string text;
    std::string says;  // part of the message
  };
  const std::vector<Case> cases = {
      {"", "at least one seed"},
      {"hunter2:hunter2@", "at least one seed"},
      {"a:1,,b:2", "empty seed"},
      {"  ", "empty seed"},
      {"redis-a", "host:port"},
      {"hunter2:hunter2@redis-a", "host:port"},
      {":7000", "host:port"},
      {"redis-a:", "port"},
      {"redis-a:0", "port"},
      {"redis-a:65536", "port"},
      {"redis-a:70x", "port"},
      {"redis-a:-1", "port"},
      {"hunter2:hunter2@redis-a:0", "port"},
      {"hunter2@redis-a:7000", "password"},  // no ':' before the password
      {"alice:@redis-a:7000", "password"},   // an empty password
      {"@redis-a:7000", "password"},         // '@' with nothing before it
      {"[::1]:hunter2", "port"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_cluster_seeds(c.text);
    ASSERT_FALSE(parsed.ok()) << "accepted \"" << c.text << "\"";
    const Error& error = parsed.error();
    EXPECT_EQ(error.code, Errc::validation_failed) << c.text;
    std::string said = error.detail;
    for (const auto& field : error.field_errors) said += " | " + field.field + ": " + field.message;
    EXPECT_NE(said.find(c.says), std::string::npos) << c.text << " -> " << said;
    EXPECT_EQ(said.find("hunter2"), std::string::npos) << c.text << " -> " << said;
  }
}

// --- Defects found in the client: these fail until it is fixed ------------------

// Commands::last_error(): "empty while all is well". ClusterClient sets
// last_error_ when a slot map cannot be loaded and never clears it; and the
// first load always fails ("no node of the cluster is connected"), because
// start() spawns it before any node's connection is up. So every client
// that started fine reports that error (and logs it as a warning) for ever.
TEST(ClusterClient, LastErrorIsEmptyOnceConnected) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    Node a(io);
    Node b(io);
    publish(split(a, b), a, b);
    auto client = co_await connected_cluster(io, config_for(2000ms, a, b));
    CO_ASSERT(client->connected(), client->last_error());
    auto reply = co_await client->command("SET", key_in(0, kHalf - 1, "healthy"), "v");
    EXPECT_EQ(describe(reply), Reply::status("OK").describe());
    EXPECT_EQ(client->last_error(), "");
    client->stop();
  });
}

// A and B disagree for ever on who owns a key's slot, each taking `hop` to
// say so; a GET of that key must fail as unavailable. Returns how long it took.
asio::awaitable<Clock::duration> get_between_disagreeing_nodes(asio::io_context& io,
                                                               std::chrono::milliseconds budget,
                                                               std::chrono::milliseconds hop) {
  Node a(io);
  Node b(io);
  publish(split(a, b), a, b);
  auto client = co_await connected_cluster(io, config_for(budget, a, b));
  EXPECT_TRUE(client->connected()) << client->last_error();

  const std::string key = key_in(0, kHalf - 1, "pingpong");
  const std::string slot = std::to_string(key_slot(key));
  const std::string to_a = "MOVED " + slot + " " + a.name();
  const std::string to_b = "MOVED " + slot + " " + b.name();
  // A slow node: the handler blocks the test's one thread, as a slow
  // node's answer keeps the client waiting.
  const auto redirect = [&](const std::string& to) {
    return [&, to](const Argv& command) -> std::optional<Answer> {
      if (!names_key(command, key)) return std::nullopt;
      std::this_thread::sleep_for(hop);
      return wire::error(to);
    };
  };
  a.on_command(redirect(to_b));
  b.on_command(redirect(to_a));

  const auto started = Clock::now();
  auto reply = co_await client->command("GET", key);
  const auto took = Clock::now() - started;
  EXPECT_FALSE(reply.ok()) << "a redirect came back as the reply: " << reply->describe();
  if (!reply.ok()) {
    EXPECT_EQ(reply.error().code, Errc::service_unavailable);
  }
  client->stop();
  co_return took;
}

// cluster_client.cpp: "A command follows at most this many MOVED/ASK in a
// row; more means the cluster is changing faster than its map can be read,
// and the retry path takes over." It did not: the sixth redirect fell
// through to the reply and came back to the caller as a successful Result
// holding the error reply "MOVED <slot> <host:port>", which no store
// expects (commands.hpp promises service_unavailable for a slot that stays
// unreachable).
TEST(ClusterClient, EndlessRedirectsFailAsUnavailableWithinTheBudget) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    constexpr auto kBudget = 300ms;
    const auto took = co_await get_between_disagreeing_nodes(io, kBudget, 0ms);
    EXPECT_LT(took, kBudget + kBudgetMargin);
  });
}

// A chain of redirects through slow nodes stops at the budget: each hop is
// a round trip, and before, up to kMaxRedirects of them were followed before
// the budget was looked at.
TEST(ClusterClient, SlowRedirectsStopAtTheBudget) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    constexpr auto kBudget = 300ms;
    constexpr auto kHop = 150ms;
    const auto took = co_await get_between_disagreeing_nodes(io, kBudget, kHop);
    // The hop under way when the budget ran out, and no more.
    EXPECT_LT(took, kBudget + kHop + kBudgetMargin);
  });
}

// cluster_client.cpp, route(): `if (!retry_later(*reply) || was_asking)`
// hands a TRYAGAIN from an ASK target (a multi-key command while its slot
// migrates) back to the caller as an error reply, where the header says
// TRYAGAIN is retried within the budget. Retrying goes to the owner again,
// which asks again: the command succeeds once the target can serve it.
TEST(ClusterClient, TryAgainFromAnAskTargetIsRetried) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    Node a(io);
    Node b(io);
    publish(split(a, b), a, b);
    auto client = co_await connected_cluster(io, config_for(2000ms, a, b));
    CO_ASSERT(client->connected(), client->last_error());

    const std::string key = key_in(0, kHalf - 1, "ask-tryagain");
    const std::string ask = "ASK " + std::to_string(key_slot(key)) + " " + b.name();
    b.set(key, "on-b");
    a.on_command([&](const Argv& command) -> std::optional<Answer> {
      if (names_key(command, key)) return wire::error(ask);  // migrated already
      return std::nullopt;
    });
    bool refused = false;
    b.on_command([&](const Argv& command) -> std::optional<Answer> {
      if (!refused && names_key(command, key)) {
        refused = true;
        return wire::error("TRYAGAIN Multiple keys request during rehashing of slot");
      }
      return std::nullopt;
    });

    auto reply = co_await client->command("GET", key);
    EXPECT_EQ(describe(reply), Reply::string("on-b").describe());
    EXPECT_EQ(b.count("GET", key), 2u);
    EXPECT_EQ(b.count("ASKING"), 2u);
    client->stop();
  });
}

// redis_config.cpp, parse_cluster_seeds(): ":7000" is refused for its empty
// host, but "[]:7000" is accepted with the host "" (which the resolver
// takes for the local machine), and "[::1:7000" with the host "[::1".
TEST(ClusterSeeds, RejectsAnEmptyOrHalfBracketedHost) {
  for (const char* text : {"[]:7000", "[::1:7000", "::1]:7000"}) {
    auto parsed = parse_cluster_seeds(text);
    EXPECT_FALSE(parsed.ok()) << "accepted \"" << text << "\" as host \""
                              << (parsed.ok() ? parsed->seeds[0].host : "") << "\"";
  }
}

}  // namespace
}  // namespace betsdb::redis

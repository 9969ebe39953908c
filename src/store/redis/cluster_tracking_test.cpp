// Tracking every node of a Redis Cluster (InvalidationTracker::
// create_for_cluster) against two private redis-server processes standing
// in for a cluster's nodes: what one kept value needs is that whichever node
// runs a write reports it, that every node answers its PINGs, and that the
// set of nodes is the last map's. Slots play no part in that, so plain
// servers do; the API suite and tests/cluster run the whole on a real cluster.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "store/redis/cache.hpp"
#include "store/redis/invalidation_tracker.hpp"
#include "store/redis/redis_client.hpp"
#include "store/redis/redis_test_support.hpp"

namespace betsdb::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::connected_client;
using testing::run_async;
using testing::sleep_for;
using testing::wait_fresh;
using Clock = std::chrono::steady_clock;

asio::awaitable<bool> wait_live(InvalidationTracker& tracker, Clock::duration bound = 5s) {
  const auto deadline = Clock::now() + bound;
  while (Clock::now() < deadline) {
    if (tracker.live()) co_return true;
    co_await sleep_for(5ms);
  }
  co_return false;
}

class ClusterTrackingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) {
      Config config;
      config.port = testing::free_port();
      config.writers_wait = true;
      servers_.push_back(std::make_unique<testing::RedisProcess>(config.port));
      ASSERT_TRUE(servers_.back()->start());
      nodes_.push_back(config);
    }
  }

  // A tracker of keys under "k:", on a cluster whose map names `groups`
  // (each a master, then its replicas).
  std::shared_ptr<InvalidationTracker> tracker(asio::io_context& io,
                                               std::vector<std::vector<Config>> groups) {
    auto t = InvalidationTracker::create_for_cluster(io.get_executor(), {"k:"},
                                                     [this] { ++maps_wanted_; });
    t->set_nodes(std::move(groups));
    t->start();
    return t;
  }

  // Keeps `key`'s value as a reader would: under a lease granted by the
  // node that answered, from a read sent at a mark.
  static asio::awaitable<bool> read_and_keep(InvalidationTracker& tracker, Client& node,
                                             const std::string& key) {
    const auto mark = tracker.mark();
    if (!mark) co_return false;
    const std::vector<std::string> keys{key};
    tracker.leased(keys, Clock::now(), Clock::now(), node.server_id(), true);
    const std::uint64_t term = tracker.lease_term(key);
    std::vector<std::string> get{"GET", key};
    auto served = co_await node.command_served(get);
    if (!served.ok() || !served->reply.is_string()) co_return false;
    tracker.keep(key, served->reply.as_string(), *mark, served->origin, term);
    co_return tracker.kept(key) != nullptr;
  }

  std::vector<std::unique_ptr<testing::RedisProcess>> servers_;
  std::vector<Config> nodes_;
  int maps_wanted_ = 0;
};

TEST_F(ClusterTrackingTest, AChangeOnAnyNodeDropsAValueKeptFromAnother) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto a = co_await connected_client(io, nodes_[0]);
    auto b = co_await connected_client(io, nodes_[1]);
    auto t = tracker(io, {nodes_});
    CO_ASSERT(co_await wait_live(*t), "the tracker never went live on both nodes");
    auto set = co_await a->command("SET", "k:gen", "7");
    CO_ASSERT(set.ok() && set->is_ok(), "SET failed");
    CO_ASSERT(co_await read_and_keep(*t, *a, "k:gen"),
              "a value read from a tracked node was not kept");
    EXPECT_EQ(t->kept_origin("k:gen"), a->server_id());
    EXPECT_TRUE(co_await t->fence());
    EXPECT_NE(t->kept("k:gen"), nullptr) << "a fence alone dropped a value nobody changed";

    // A write run by another node (a replica promoted meanwhile, a slot's
    // new owner) is reported by that node, ahead of its PONG.
    auto moved = co_await b->command("SET", "k:gen", "8");
    CO_ASSERT(moved.ok() && moved->is_ok(), "SET on the other node failed");
    EXPECT_TRUE(co_await t->fence());
    EXPECT_EQ(t->kept("k:gen"), nullptr) << "kept after another node changed it";
    t->stop();
    a->stop();
    b->stop();
  });
}

TEST_F(ClusterTrackingTest, ACounterThatMigrateMovesAwayIsDropped) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto a = co_await connected_client(io, nodes_[0]);
    // Resharding moves keys with MIGRATE; the target is not in the map yet.
    auto t = tracker(io, {{nodes_[0]}});
    CO_ASSERT(co_await wait_live(*t), "the tracker never went live");
    auto set = co_await a->command("SET", "k:gen", "5");
    CO_ASSERT(set.ok() && set->is_ok(), "SET failed");
    CO_ASSERT(co_await read_and_keep(*t, *a, "k:gen"), "not kept");
    const std::string port = std::to_string(nodes_[1].port);
    auto moved = co_await a->command("MIGRATE", "127.0.0.1", port, "k:gen", "0", "1000");
    CO_ASSERT(moved.ok() && moved->is_ok(), "MIGRATE failed");
    EXPECT_TRUE(co_await t->fence());
    EXPECT_EQ(t->kept("k:gen"), nullptr) << "kept after MIGRATE took the key to another node";
    t->stop();
    a->stop();
  });
}

TEST_F(ClusterTrackingTest, OnlyValuesFromTrackedNodesAreKept) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto a = co_await connected_client(io, nodes_[0]);
    auto b = co_await connected_client(io, nodes_[1]);
    // The map names only the first node: a reply from the second is from a
    // process nobody tracks.
    auto t = tracker(io, {{nodes_[0]}});
    CO_ASSERT(co_await wait_live(*t), "the tracker never went live");
    auto set = co_await b->command("SET", "k:gen", "1");
    CO_ASSERT(set.ok() && set->is_ok(), "SET failed");
    EXPECT_FALSE(co_await read_and_keep(*t, *b, "k:gen")) << "kept a value from an untracked node";
    t->stop();
    a->stop();
    b->stop();
  });
}

TEST_F(ClusterTrackingTest, AMapThatNamesOtherNodesForgetsEverything) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto a = co_await connected_client(io, nodes_[0]);
    auto t = tracker(io, {{nodes_[0]}});
    CO_ASSERT(co_await wait_live(*t), "the tracker never went live");
    auto set = co_await a->command("SET", "k:gen", "1");
    CO_ASSERT(set.ok() && set->is_ok(), "SET failed");
    CO_ASSERT(co_await read_and_keep(*t, *a, "k:gen"), "not kept");
    // The same map again changes nothing.
    t->set_nodes({{nodes_[0]}});
    EXPECT_NE(t->kept("k:gen"), nullptr) << "an unchanged map dropped what was kept";
    EXPECT_TRUE(t->live());

    // A node nobody tracked may have run writes nobody reported.
    const auto before = t->mark();
    t->set_nodes({nodes_});
    EXPECT_EQ(t->kept("k:gen"), nullptr) << "kept across a map that named a new node";
    EXPECT_FALSE(t->live()) << "live before the new node's connection was";
    CO_ASSERT(co_await wait_live(*t), "the new node's tracking never went live");
    // A read sent before keeps nothing.
    CO_ASSERT(before.has_value(), "no mark while live");
    t->keep("k:gen", "1", *before, a->server_id(), 0);
    EXPECT_EQ(t->kept("k:gen"), nullptr);

    CO_ASSERT(co_await read_and_keep(*t, *a, "k:gen"), "not kept on both nodes");
    t->set_nodes({{nodes_[0]}});
    EXPECT_EQ(t->kept("k:gen"), nullptr) << "kept across a map that dropped a node";
    EXPECT_TRUE(t->live());
    t->stop();
    a->stop();
  });
}

TEST_F(ClusterTrackingTest, NotFreshWhileAnyNodeLeavesItsPingsUnanswered) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto a = co_await connected_client(io, nodes_[0]);
    auto b = co_await connected_client(io, nodes_[1]);
    const std::string a_origin = a->server_id();
    auto t = tracker(io, {nodes_});
    CO_ASSERT(co_await wait_live(*t), "the tracker never went live");
    CO_ASSERT(co_await wait_fresh(*t), "never fresh");
    auto paused = co_await b->command("CLIENT", "PAUSE", "300", "ALL");
    CO_ASSERT(paused.ok() && paused->is_ok(), "CLIENT PAUSE failed");
    co_await sleep_for(InvalidationTracker::kWritersWait + 20ms);
    EXPECT_FALSE(t->fresh()) << "fresh although one node answered no PING for 22 ms";
    // The paused node is the other's replica: values from either wait for it.
    EXPECT_FALSE(t->fresh_for(a_origin));
    EXPECT_TRUE(t->live());
    EXPECT_TRUE(co_await wait_fresh(*t)) << "not fresh again once the node answered";
    t->stop();
    a->stop();
    b->stop();
  });
}

TEST_F(ClusterTrackingTest, AHitNeedsOnlyThePingsOfTheMasterItWasReadFromAndItsReplicas) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto a = co_await connected_client(io, nodes_[0]);
    auto b = co_await connected_client(io, nodes_[1]);
    // Two masters without replicas.
    auto t = tracker(io, {{nodes_[0]}, {nodes_[1]}});
    CO_ASSERT(co_await wait_live(*t), "the tracker never went live");
    const std::string a_origin = a->server_id();
    const std::string b_origin = b->server_id();
    auto paused = co_await b->command("CLIENT", "PAUSE", "400", "ALL");
    CO_ASSERT(paused.ok() && paused->is_ok(), "CLIENT PAUSE failed");
    co_await sleep_for(InvalidationTracker::kWritersWait + 20ms);
    bool a_fresh = false;
    const auto deadline = Clock::now() + 200ms;
    while (!a_fresh && Clock::now() < deadline) {
      a_fresh = t->fresh_for(a_origin);
      co_await sleep_for(100us);
    }
    EXPECT_TRUE(a_fresh) << "a value from the first master waited for the other's PINGs";
    EXPECT_FALSE(t->fresh_for(b_origin)) << "fresh for the master that answers no PING";
    EXPECT_FALSE(t->fresh()) << "every node fresh while one answers no PING";
    EXPECT_FALSE(t->fresh_for("000000000000")) << "fresh for a process nobody tracks";
    t->stop();
    a->stop();
    b->stop();
  });
}

TEST_F(ClusterTrackingTest, AReplicaThatMovesToAnotherMasterForgetsEverything) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto a = co_await connected_client(io, nodes_[0]);
    auto t = tracker(io, {{nodes_[0]}, {nodes_[1]}});
    CO_ASSERT(co_await wait_live(*t), "the tracker never went live");
    auto set = co_await a->command("SET", "k:gen", "3");
    CO_ASSERT(set.ok() && set->is_ok(), "SET failed");
    CO_ASSERT(co_await read_and_keep(*t, *a, "k:gen"), "not kept");
    // The second node becomes the first's replica: values read from the
    // first were used without its PINGs, and it may now be promoted.
    t->set_nodes({nodes_});
    EXPECT_EQ(t->kept("k:gen"), nullptr) << "kept across a change of a node's master";
    t->stop();
    a->stop();
  });
}

TEST_F(ClusterTrackingTest, KeptValuesNeedARecentMapAndAskForOne) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    auto t = tracker(io, {nodes_});
    CO_ASSERT(co_await wait_live(*t), "the tracker never went live");
    CO_ASSERT(co_await wait_fresh(*t), "never fresh");
    t->set_nodes({nodes_});  // the same map, loaded now
    const auto loaded = Clock::now();
    // No map comes (the cluster client would load one when asked): after
    // kMapTrustedFor a node may have joined that nobody tracks. Asked all
    // along, as hits would (a loaded machine may miss a PONG now and then).
    Clock::time_point last_fresh{};
    while (Clock::now() - loaded < InvalidationTracker::kMapTrustedFor + 200ms) {
      if (t->fresh()) last_fresh = Clock::now();
      co_await sleep_for(1ms);
    }
    EXPECT_GT(last_fresh, loaded) << "never fresh after the map was loaded";
    EXPECT_LT(last_fresh - loaded, InvalidationTracker::kMapTrustedFor)
        << "fresh under a map older than kMapTrustedFor";
    // Asked for every kMapRecheck meanwhile.
    EXPECT_GE(maps_wanted_, 2);
    t->set_nodes({nodes_});
    EXPECT_TRUE(co_await wait_fresh(*t)) << "a new map did not make it fresh again";
    t->stop();
  });
}

TEST(ClusterSlotTags, EverySlotHasATagThatHashesToIt) {
  for (std::uint32_t slot = 0; slot < kClusterSlots; ++slot) {
    const auto tag = slot_tag(static_cast<std::uint16_t>(slot));
    ASSERT_FALSE(tag.empty()) << slot;
    ASSERT_EQ(key_slot(tag), slot) << tag;
    ASSERT_EQ(key_slot(lost_leases_key(static_cast<std::uint16_t>(slot))), slot);
  }
}

}  // namespace
}  // namespace betsdb::redis

// Replica routing: the pure rule (service/read_routing.hpp), and how the read
// cache applies it on a miss and records written positions after writes,
// against fakes of the ports.
#include "service/read_routing.hpp"

#include <gtest/gtest.h>

#include "service/bets.hpp"
#include "service/matches.hpp"
#include "service/test_fakes.hpp"

namespace betsdb::service {
namespace {

using namespace fakes;
using State = ReplicaView::State;

ReplicaView replayed(std::uint64_t position) {
  return {State::replayed, position, 1};
}

TEST(RouteRead, WithoutAStandbyThePrimary) {
  const ReadRoute route = route_read(false, 100, replayed(200));
  EXPECT_EQ(route.source, ReadSource::primary);
  EXPECT_EQ(route.reason, RouteReason::no_replica);
}

TEST(RouteRead, AnUnknownWrittenPositionMeansThePrimary) {
  const ReadRoute route = route_read(true, std::nullopt, replayed(~std::uint64_t{0}));
  EXPECT_EQ(route.source, ReadSource::primary);
  EXPECT_EQ(route.reason, RouteReason::no_position);
}

TEST(RouteRead, AStandbyThatReplayedTheLastWriteServes) {
  EXPECT_EQ(route_read(true, 100, replayed(100)).source, ReadSource::replica);
  EXPECT_EQ(route_read(true, 100, replayed(101)).reason, RouteReason::caught_up);
  // A namespace never written since the records began: position 0.
  EXPECT_EQ(route_read(true, 0, replayed(0)).source, ReadSource::replica);
}

TEST(RouteRead, AStandbyOneByteBehindDoesNot) {
  const ReadRoute route = route_read(true, 100, replayed(99));
  EXPECT_EQ(route.source, ReadSource::primary);
  EXPECT_EQ(route.reason, RouteReason::replica_lagging);
}

TEST(RouteRead, ComparesAllSixtyFourBits) {
  const std::uint64_t high = std::uint64_t{0x1} << 32;  // "1/0"
  EXPECT_EQ(route_read(true, high, replayed(0xFFFFFFFF)).source, ReadSource::primary);
  EXPECT_EQ(route_read(true, high, replayed(high)).source, ReadSource::replica);
}

TEST(RouteRead, ADownOrUnsampledStandbyMeansThePrimary) {
  EXPECT_EQ(route_read(true, 1, ReplicaView{State::down, 0, 0}).reason, RouteReason::replica_down);
  EXPECT_EQ(route_read(true, 1, ReplicaView{}).reason, RouteReason::replica_unknown);
  EXPECT_EQ(route_read(true, 1, ReplicaView{}).source, ReadSource::primary);
}

// ------------------------------------------------------- through the cache

class FakeReplica final : public ReadReplica {
 public:
  Result<std::uint64_t> position = std::uint64_t{500};
  ReplicaView state = replayed(1000);
  bool valid = true;
  int position_reads = 0;
  std::shared_ptr<FakeMatchStore> standby_matches = std::make_shared<FakeMatchStore>();
  std::shared_ptr<FakeBetStore> standby_bets = std::make_shared<FakeBetStore>();

  Async<std::uint64_t> primary_position() override {
    ++position_reads;
    co_return position;
  }
  ReplicaView view() override { return state; }
  bool still_valid(std::uint64_t) const override { return valid; }
  MatchStore& matches() override { return *standby_matches; }
  BetStore& bets() override { return *standby_bets; }
};

class ReplicaReadTest : public ::testing::Test {
 protected:
  ReplicaReadTest() : f(/*with_cache=*/true) {
    f.ctx.replica = replica;
    f.users->add(7, "ann@example.com", 100'000);
    f.matches->matches[42] = open_match(42);
  }

  void list_matches_once() {
    Render<MatchPage> render = [](const MatchPage&) { return std::string("[]"); };
    ASSERT_TRUE(f.run(list_matches(f.ctx, {}, {}, std::move(render))).ok());
  }
  std::uint64_t reads(RouteReason reason) { return f.ctx.counters->of(reason).load(); }

  Fakes f;
  std::shared_ptr<FakeReplica> replica = std::make_shared<FakeReplica>();
};

TEST_F(ReplicaReadTest, AMissReadsTheStandbyWhenItReplayedTheLastWrite) {
  f.cache_store->written_position = 1000;
  list_matches_once();
  EXPECT_EQ(replica->standby_matches->lists, 1);
  EXPECT_EQ(f.matches->lists, 0);
  EXPECT_EQ(reads(RouteReason::caught_up), 1u);
}

TEST_F(ReplicaReadTest, AMissReadsThePrimaryWhileTheStandbyLags) {
  f.cache_store->written_position = 1001;
  list_matches_once();
  EXPECT_EQ(replica->standby_matches->lists, 0);
  EXPECT_EQ(f.matches->lists, 1);
  EXPECT_EQ(reads(RouteReason::replica_lagging), 1u);
}

TEST_F(ReplicaReadTest, NoWrittenPositionMeansThePrimary) {
  f.cache_store->written_position.reset();
  list_matches_once();
  EXPECT_EQ(f.matches->lists, 1);
  EXPECT_EQ(reads(RouteReason::no_position), 1u);
}

TEST_F(ReplicaReadTest, AStandbyAnswerFromANewConnectionIsReadAgainOnThePrimary) {
  f.cache_store->written_position = 10;
  replica->valid = false;
  list_matches_once();
  EXPECT_EQ(replica->standby_matches->lists, 1);
  EXPECT_EQ(f.matches->lists, 1);
  EXPECT_EQ(reads(RouteReason::replica_replaced), 1u);
}

TEST_F(ReplicaReadTest, AFailingStandbyReadFallsBackToThePrimary) {
  f.cache_store->written_position = 10;
  replica->standby_matches->unavailable = true;
  list_matches_once();
  EXPECT_EQ(f.matches->lists, 1);
}

TEST_F(ReplicaReadTest, AWriteRecordsThePrimarysPositionWithItsBump) {
  replica->position = std::uint64_t{777};
  ASSERT_TRUE(
      f.run(place_bet(f.ctx, PlaceBet{7, 42, domain::Selection::home, domain::Money(100), {}}))
          .ok());
  ASSERT_FALSE(f.cache_store->positions.empty());
  for (const auto& position : f.cache_store->positions) EXPECT_EQ(position, 777u);
  EXPECT_EQ(replica->position_reads, 1);
}

TEST_F(ReplicaReadTest, AWriteWhosePositionIsUnknownForgetsTheRecordedOne) {
  replica->position = Error::unavailable("primary gone");
  ASSERT_TRUE(
      f.run(place_bet(f.ctx, PlaceBet{7, 42, domain::Selection::home, domain::Money(100), {}}))
          .ok());
  ASSERT_FALSE(f.cache_store->positions.empty());
  for (const auto& position : f.cache_store->positions) EXPECT_FALSE(position.has_value());
  EXPECT_EQ(f.ctx.counters->written_position_unknown.load(), 1u);
}

// Committed on the primary, not confirmed by its synchronous standby: the
// client is told 503 (outcome unknown), but the lists must show the bet.
TEST_F(ReplicaReadTest, AnUnconfirmedPlacementAnswers503AndInvalidatesAsIfCommitted) {
  f.bets->on_place = [](const FakeBetStore::PlaceCall&) -> Result<domain::Placement> {
    Error e = Error::unavailable("commit not confirmed by the synchronous standby");
    e.outcome_unknown = true;
    return e;
  };
  auto placed =
      f.run(place_bet(f.ctx, PlaceBet{7, 42, domain::Selection::home, domain::Money(100), {}}));
  ASSERT_FALSE(placed.ok());
  EXPECT_TRUE(placed.error().is(Errc::service_unavailable));
  EXPECT_TRUE(placed.error().outcome_unknown);
  EXPECT_TRUE(f.cache_store->bumped("gen:{bets}"));
  EXPECT_TRUE(f.cache_store->bumped("gen:{summary}"));
  EXPECT_TRUE(f.cache_store->bumped("gen:bets_by_email:{ann@example.com}"));
}

}  // namespace
}  // namespace betsdb::service

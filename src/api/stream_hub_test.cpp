// api::StreamHub and StreamClient: who gets which frame, a slow client's
// cut-off, the backlog the clients share, and the events a busy shard holds
// back for one write.
#include "api/stream_hub.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

namespace betsdb::api {
namespace {

namespace asio = boost::asio;

using namespace std::chrono_literals;

FramePtr event_frame(std::uint64_t seq, std::int64_t match_id, std::size_t data_size = 10) {
  return match_frame(domain::MatchEvent{{1000, seq}, match_id, std::string(data_size, 'x')});
}

// Hands the hub a batch and runs what that made ready: the pass, unless
// the hub holds it back.
void deliver(asio::io_context& io, StreamHub& hub, const FrameBatch& batch) {
  hub.deliver(batch);
  io.restart();
  io.poll();
}

// A hub that never holds events back.
std::shared_ptr<StreamHub> hub_at_once(asio::io_context& io) {
  FanOutPacer::Settings at_once;
  at_once.max_delay = 0ms;
  return StreamHub::create(io.get_executor(), 15s, at_once);
}

// The hub's clocks, moved by the test: `wall_ms` since the start, of which
// the loop's thread spent `cpu_ms` on a core.
struct ScriptedClocks {
  int wall_ms = 0;
  int cpu_ms = 0;
  StreamHub::Sampler sampler() {
    return [this] {
      return FanOutPacer::Sample{
          FanOutPacer::Clock::time_point{} + std::chrono::milliseconds(wall_ms),
          std::chrono::milliseconds(cpu_ms)};
    };
  }
};

// What a parked client's socket took, write by write; with clocks, each
// write takes the loop 20 ms.
struct Socket {
  std::vector<std::string> writes;
  void attach(StreamClient& client, ScriptedClocks* clocks = nullptr) {
    client.write_now = [this, clocks](std::string_view bytes) {
      writes.emplace_back(bytes);
      if (clocks) {
        clocks->wall_ms += 20;
        clocks->cpu_ms += 20;
      }
      return bytes.size();
    };
    client.set_parked(true);
  }
};

TEST(StreamHub, QueuesEachEventForTheClientsThatWantIt) {
  asio::io_context io;
  auto hub = hub_at_once(io);
  StreamClient all(io.get_executor(), {}, 1 << 20);
  StreamClient some(io.get_executor(), {2, 5}, 1 << 20);
  hub->add(all);
  hub->add(some);
  deliver(io, *hub, {event_frame(1, 1), event_frame(2, 2), heartbeat_frame(), event_frame(3, 5)});
  EXPECT_EQ(all.take().size(), 4U);
  auto got = some.take();
  ASSERT_EQ(got.size(), 3U);  // match 2, the heartbeat, match 5
  EXPECT_EQ(got[0]->match_id, 2);
  EXPECT_FALSE(got[1]->has_id());
  EXPECT_EQ(got[2]->match_id, 5);
  EXPECT_TRUE(all.take().empty());
  hub->remove(all);
  hub->remove(some);
}

TEST(StreamHub, CutsOffAClientThatFallsTooFarBehindAndNoOther) {
  asio::io_context io;
  auto hub = hub_at_once(io);
  constexpr std::size_t kBudget = 4096;
  StreamClient slow(io.get_executor(), {}, kBudget);
  StreamClient fast(io.get_executor(), {}, kBudget);
  int aborted = 0;
  slow.on_overflow = [&] { ++aborted; };
  hub->add(slow);
  hub->add(fast);
  const std::size_t event_bytes = event_frame(1, 1, 100)->text.size();
  const std::uint64_t events = 2 * kBehindBudgets * kBudget / event_bytes;
  for (std::uint64_t i = 1; i <= events; ++i) {
    deliver(io, *hub, {event_frame(i, 1, 100)});
    fast.take();  // the fast one keeps up
    if (!slow.cut_off()) {
      EXPECT_LE(slow.behind_bytes(), kBehindBudgets * kBudget + event_bytes) << "event " << i;
    }
  }
  EXPECT_TRUE(slow.cut_off());
  EXPECT_EQ(aborted, 1);
  EXPECT_TRUE(slow.take().empty());
  EXPECT_FALSE(fast.cut_off());
  // The slow one no longer holds the backlog: only the last pass is left.
  EXPECT_EQ(hub->backlog_bytes(), event_frame(events, 1, 100)->text.size());
  hub->remove(slow);
  hub->remove(fast);
}

// A writer that keeps up, as serve_stream's: writes what it takes, then
// takes again, until nothing is left. Fails the test if it ever holds more
// than `budget`.
std::string drain(StreamClient& client, std::size_t budget) {
  std::string written;
  while (true) {
    const auto frames = client.take();
    if (frames.empty()) return written;
    EXPECT_LE(client.in_flight_bytes(), budget);
    for (const auto& buffer : client.fresh(frames)) {
      written.append(static_cast<const char*>(buffer.data()), buffer.size());
    }
  }
}

TEST(StreamHub, APassLargerThanTheBudgetReachesEveryClientThatKeepsWriting) {
  asio::io_context io;
  auto hub = hub_at_once(io);
  constexpr std::size_t kBudget = 4096;
  // Parked: its socket takes 1000 bytes at once, its writer the rest.
  StreamClient parked(io.get_executor(), {}, kBudget);
  std::string parked_got;
  parked.write_now = [&](std::string_view bytes) {
    const std::size_t n = std::min<std::size_t>(1000, bytes.size());
    parked_got.append(bytes.substr(0, n));
    return n;
  };
  parked.set_parked(true);
  // Busy writing: all of it goes through its writer.
  StreamClient busy(io.get_executor(), {}, kBudget);
  hub->add(parked);
  hub->add(busy);
  for (std::uint64_t round = 0; round < 2; ++round) {
    // About 24 KB, six budgets: two reader batches that met in one pass.
    FrameBatch pass;
    std::string want;
    for (std::uint64_t i = 1; i <= 100; ++i) {
      pass.push_back(event_frame(round * 100 + i, 1, 200));
      want += pass.back()->text;
    }
    deliver(io, *hub, pass);
    for (const StreamClient* client : {&parked, &busy}) {
      EXPECT_FALSE(client->cut_off());
    }
    // Held once for both, and nothing of the round before.
    EXPECT_EQ(hub->backlog_bytes(), want.size());
    parked.set_parked(false);  // its writer wakes
    parked_got += drain(parked, kBudget);
    parked.set_parked(true);
    EXPECT_EQ(parked_got, want) << "round " << round;
    EXPECT_EQ(drain(busy, kBudget), want) << "round " << round;
    parked_got.clear();
  }
  EXPECT_FALSE(parked.cut_off());
  EXPECT_FALSE(busy.cut_off());
  hub->remove(parked);
  hub->remove(busy);
}

TEST(StreamHub, AStalledClientIsCutOffHoldingAtMostItsBudget) {
  asio::io_context io;
  auto hub = hub_at_once(io);
  constexpr std::size_t kBudget = 4096;
  StreamClient stalled(io.get_executor(), {}, kBudget);
  int aborted = 0;
  stalled.on_overflow = [&] { ++aborted; };
  hub->add(stalled);
  FrameBatch first;
  for (std::uint64_t i = 1; i <= 16; ++i) first.push_back(event_frame(i, 1, 200));
  deliver(io, *hub, first);
  // Its writer takes about 3.8 KB, and that write never ends: those bytes
  // stay the client's until it does.
  const auto in_hand = stalled.take();
  std::size_t in_hand_bytes = 0;
  for (const auto& frame : in_hand) in_hand_bytes += frame->text.size();
  ASSERT_GT(in_hand_bytes, kBudget / 2);
  ASSERT_LE(in_hand_bytes, kBudget);
  EXPECT_EQ(stalled.in_flight_bytes(), in_hand_bytes);
  const std::size_t pass_bytes = event_frame(1, 1, 200)->text.size();
  std::uint64_t seq = 17;
  for (; seq < 1000 && !stalled.cut_off(); ++seq) {
    deliver(io, *hub, {event_frame(seq, 1, 200)});
    EXPECT_LE(stalled.behind_bytes(), kBehindBudgets * kBudget + pass_bytes)
        << "after event " << seq;
    EXPECT_LE(hub->backlog_bytes(), kBehindBudgets * kBudget + 2 * pass_bytes)
        << "after event " << seq;
  }
  EXPECT_TRUE(stalled.cut_off());
  EXPECT_EQ(aborted, 1);
  // Cut off once it was too far behind, not long after.
  EXPECT_LT(seq, 17 + (kBehindBudgets * kBudget) / pass_bytes + 3);
  EXPECT_TRUE(stalled.take().empty());
  EXPECT_EQ(stalled.behind_bytes(), 0U);
  hub->remove(stalled);
}

// The shard writes to its clients one after another: after a pass of many
// budgets, the next pass can come before it has written the first piece to
// most of them. That is the shard's delay, not theirs.
TEST(StreamHub, APassOfManyBudgetsCutsOffNoClientTheShardHasNotReachedYet) {
  asio::io_context io;
  auto hub = hub_at_once(io);
  constexpr std::size_t kBudget = 4096;
  std::vector<std::unique_ptr<StreamClient>> clients;
  for (int i = 0; i < 100; ++i) {
    clients.push_back(
        std::make_unique<StreamClient>(io.get_executor(), std::vector<std::int64_t>{}, kBudget));
    hub->add(*clients.back());
  }
  FrameBatch pass;
  std::string want;
  for (std::uint64_t i = 1; i <= 100; ++i) {  // about six budgets
    pass.push_back(event_frame(i, 1, 200));
    want += pass.back()->text;
  }
  ASSERT_GT(want.size(), 5 * kBudget);
  deliver(io, *hub, pass);
  // A hundred clients behind the same pass hold it once between them.
  EXPECT_EQ(hub->backlog_bytes(), want.size());
  // The first client's writer gets one piece out before the next passes.
  const auto piece = clients.front()->take();
  ASSERT_FALSE(piece.empty());
  deliver(io, *hub, {event_frame(101, 1, 200)});
  want += event_frame(101, 1, 200)->text;
  deliver(io, *hub, {event_frame(102, 1, 200)});
  want += event_frame(102, 1, 200)->text;
  std::string first_got;
  for (const auto& buffer : clients.front()->fresh(piece)) {
    first_got.append(static_cast<const char*>(buffer.data()), buffer.size());
  }
  for (auto& client : clients) {
    EXPECT_FALSE(client->cut_off());
    std::string got = client == clients.front() ? first_got : std::string();
    got += drain(*client, kBudget);
    EXPECT_EQ(got, want);
  }
  deliver(io, *hub, {event_frame(103, 1, 200)});
  EXPECT_EQ(hub->backlog_bytes(), event_frame(103, 1, 200)->text.size());
  for (auto& client : clients) hub->remove(*client);
}

TEST(StreamHub, EndingTheStreamsSendsWhatIsQueuedAndServesNewOnes) {
  asio::io_context io;
  auto hub = hub_at_once(io);
  StreamClient client(io.get_executor(), {}, 1 << 20);
  hub->add(client);
  hub->deliver({event_frame(1, 1)});
  hub->end_streams();
  EXPECT_TRUE(client.closed());
  EXPECT_FALSE(hub->closing());
  EXPECT_EQ(client.take().size(), 1U);
  deliver(io, *hub, {event_frame(2, 1)});
  EXPECT_TRUE(client.take().empty());  // ended: nothing after
  StreamClient later(io.get_executor(), {}, 1 << 20);
  hub->add(later);
  EXPECT_FALSE(later.closed());
  deliver(io, *hub, {event_frame(3, 1)});
  EXPECT_EQ(later.take().size(), 1U);
  hub->remove(client);
  hub->remove(later);
}

TEST(StreamHub, APackedWriterGetsEventsWrittenDirectlyAndTheRestQueued) {
  asio::io_context io;
  auto hub = hub_at_once(io);
  StreamClient client(io.get_executor(), {}, 1 << 20);
  std::string written;
  std::size_t room = 1 << 20;
  client.write_now = [&](std::string_view bytes) {
    const std::size_t n = std::min(room, bytes.size());
    written.append(bytes.substr(0, n));
    room -= n;
    return n;
  };
  client.position = domain::EventId{1000, 1};
  hub->add(client);
  client.set_parked(true);
  deliver(io, *hub, {event_frame(1, 1), event_frame(2, 1)});  // the first was replayed already
  EXPECT_EQ(written, event_frame(2, 1)->text);
  EXPECT_TRUE(client.take().empty());
  room = 5;  // the socket takes 5 bytes of the next pass's one write
  deliver(io, *hub, {event_frame(3, 1), event_frame(4, 1)});
  EXPECT_EQ(written, event_frame(2, 1)->text + event_frame(3, 1)->text.substr(0, 5));
  // The rest of the cut frame, the client's own copy, then the next one as
  // the hub has it.
  auto queued = client.take();
  ASSERT_EQ(queued.size(), 2U);
  EXPECT_EQ(queued[0]->text, event_frame(3, 1)->text.substr(5));
  EXPECT_FALSE(queued[0]->has_id());  // the writer's fresh() must not drop it
  EXPECT_EQ(queued[1]->text, event_frame(4, 1)->text);
  EXPECT_EQ(client.position, (domain::EventId{1000, 3}));
  EXPECT_EQ(client.fresh(queued).size(), 2U);
  EXPECT_EQ(client.position, (domain::EventId{1000, 4}));
  hub->remove(client);
}

TEST(StreamHub, BatchesThatQueuedBehindAPassGoOutTogetherInTheNext) {
  asio::io_context io;
  auto hub = hub_at_once(io);
  StreamClient client(io.get_executor(), {}, 1 << 20);
  Socket socket;
  socket.attach(client);
  hub->add(client);
  hub->deliver({event_frame(1, 1)});  // posted while a pass kept the loop
  hub->deliver({event_frame(2, 1)});
  io.poll();
  ASSERT_EQ(socket.writes.size(), 1U);
  EXPECT_EQ(socket.writes[0], event_frame(1, 1)->text + event_frame(2, 1)->text);
  hub->remove(client);
}

TEST(StreamHub, ClosingEndsEveryStreamAfterWhatIsQueued) {
  asio::io_context io;
  auto hub = hub_at_once(io);
  StreamClient client(io.get_executor(), {}, 1 << 20);
  hub->add(client);
  hub->deliver({event_frame(1, 1)});
  hub->close_all();
  EXPECT_TRUE(client.closed());
  EXPECT_EQ(client.take().size(), 1U);
  StreamClient late(io.get_executor(), {}, 1 << 20);
  hub->add(late);
  EXPECT_TRUE(late.closed());
  hub->remove(client);
  hub->remove(late);
}

TEST(StreamHub, AQuietShardWritesEachEventAsItComes) {
  asio::io_context io;
  ScriptedClocks clocks;
  auto hub = StreamHub::create(io.get_executor(), 15s, {}, clocks.sampler());
  StreamClient client(io.get_executor(), {}, 1 << 20);
  Socket socket;
  socket.attach(client, &clocks);
  hub->add(client);
  deliver(io, *hub, {event_frame(1, 1)});  // a pass of 20 ms
  clocks.wall_ms += 110;                   // 110 ms later, 1 ms of other work
  clocks.cpu_ms += 1;
  deliver(io, *hub, {event_frame(2, 1)});
  ASSERT_EQ(socket.writes.size(), 2U);
  EXPECT_EQ(socket.writes[1], event_frame(2, 1)->text);
  hub->remove(client);
}

TEST(StreamHub, ABusyShardHoldsEventsBackAndWritesThemTogether) {
  asio::io_context io;
  ScriptedClocks clocks;
  auto hub = StreamHub::create(io.get_executor(), 15s, {}, clocks.sampler());
  StreamClient all(io.get_executor(), {}, 1 << 20);
  StreamClient some(io.get_executor(), {2}, 1 << 20);
  Socket all_socket;
  Socket some_socket;
  all_socket.attach(all, &clocks);
  some_socket.attach(some, &clocks);
  hub->add(all);
  hub->add(some);
  deliver(io, *hub, {event_frame(1, 1)});  // a pass of 20 ms: the next may come 180 ms after it
  // The loop was busy every millisecond of the 110 since: the next events wait
  // (for 70 ms, the real timer's wait in this test).
  clocks.wall_ms += 110;
  clocks.cpu_ms += 110;
  hub->deliver({event_frame(2, 2)});
  deliver(io, *hub, {event_frame(3, 1), heartbeat_frame()});
  EXPECT_EQ(all_socket.writes.size(), 1U);
  EXPECT_TRUE(some_socket.writes.empty());
  io.run_one();  // the pass
  ASSERT_EQ(all_socket.writes.size(), 2U);
  EXPECT_EQ(all_socket.writes[1],
            event_frame(2, 2)->text + event_frame(3, 1)->text + heartbeat_frame()->text);
  ASSERT_EQ(some_socket.writes.size(), 1U);
  EXPECT_EQ(some_socket.writes[0], event_frame(2, 2)->text + heartbeat_frame()->text);
  EXPECT_EQ(all.position, (domain::EventId{1000, 3}));
  EXPECT_EQ(some.position, (domain::EventId{1000, 2}));
  hub->remove(all);
  hub->remove(some);
}

TEST(StreamHub, ClosingSendsWhatABusyShardHeldBack) {
  asio::io_context io;
  ScriptedClocks clocks;
  FanOutPacer::Settings pacing;
  pacing.max_delay = std::chrono::hours(1);
  auto hub = StreamHub::create(io.get_executor(), 15s, pacing, clocks.sampler());
  StreamClient client(io.get_executor(), {}, 1 << 20);
  Socket socket;
  socket.attach(client, &clocks);
  hub->add(client);
  deliver(io, *hub, {event_frame(1, 1)});
  clocks.wall_ms += 110;
  clocks.cpu_ms += 110;
  deliver(io, *hub, {event_frame(2, 1)});
  ASSERT_EQ(socket.writes.size(), 1U);
  hub->close_all();
  ASSERT_EQ(socket.writes.size(), 2U);
  EXPECT_EQ(socket.writes[1], event_frame(2, 1)->text);
  EXPECT_TRUE(client.closed());
  hub->remove(client);
}

TEST(StreamFrames, AreServerSentEvents) {
  auto frame = match_frame(domain::MatchEvent{{1733212345678, 3}, 42, R"({"id":42})"});
  EXPECT_EQ(frame->text, "id: 1733212345678-3\nevent: match\ndata: {\"id\":42}\n\n");
  EXPECT_EQ(reset_frame(domain::EventId{5, 1}), "id: 5-1\nevent: reset\ndata: {}\n\n");
  EXPECT_EQ(reset_frame(std::nullopt), "id: \nevent: reset\ndata: {}\n\n");
}

TEST(StreamAdmission, AdmitsUpToTheCapAndGivesSeatsBack) {
  StreamAdmission admission(2);
  auto a = admission.try_admit();
  auto b = admission.try_admit();
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_FALSE(admission.try_admit());
  a.reset();
  EXPECT_TRUE(admission.try_admit());
  EXPECT_EQ(admission.admitted(), 1U);
}

}  // namespace
}  // namespace betsdb::api

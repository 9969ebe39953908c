// api::StreamHub and StreamClient: who gets which frame, and a slow client's cut-off.
#include "api/stream_hub.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

namespace betsdb::api {
namespace {

namespace asio = boost::asio;

FramePtr event_frame(std::uint64_t seq, std::int64_t match_id, std::size_t data_size = 10) {
  return match_frame(domain::MatchEvent{{1000, seq}, match_id, std::string(data_size, 'x')});
}

TEST(StreamHub, QueuesEachEventForTheClientsThatWantIt) {
  asio::io_context io;
  auto hub = StreamHub::create(io.get_executor(), std::chrono::seconds(15));
  StreamClient all(io.get_executor(), {}, 1 << 20);
  StreamClient some(io.get_executor(), {2, 5}, 1 << 20);
  hub->add(all);
  hub->add(some);
  hub->deliver({event_frame(1, 1), event_frame(2, 2), heartbeat_frame(), event_frame(3, 5)});
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

TEST(StreamHub, CutsOffAClientWhoseQueueOutgrowsItsBudgetAndNoOther) {
  asio::io_context io;
  auto hub = StreamHub::create(io.get_executor(), std::chrono::seconds(15));
  StreamClient slow(io.get_executor(), {}, 4096);
  StreamClient fast(io.get_executor(), {}, 4096);
  int aborted = 0;
  slow.on_overflow = [&] { ++aborted; };
  hub->add(slow);
  hub->add(fast);
  for (std::uint64_t i = 1; i <= 100; ++i) {
    hub->deliver({event_frame(i, 1, 100)});
    fast.take();  // the fast one keeps up
  }
  EXPECT_TRUE(slow.cut_off());
  EXPECT_EQ(aborted, 1);
  EXPECT_TRUE(slow.take().empty());
  EXPECT_FALSE(fast.cut_off());
  hub->remove(slow);
  hub->remove(fast);
}

TEST(StreamHub, APackedWriterGetsEventsWrittenDirectlyAndTheRestQueued) {
  asio::io_context io;
  auto hub = StreamHub::create(io.get_executor(), std::chrono::seconds(15));
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
  hub->deliver({event_frame(1, 1), event_frame(2, 1)});  // the first was replayed already
  EXPECT_EQ(written, event_frame(2, 1)->text);
  EXPECT_TRUE(client.take().empty());
  room = 5;  // the socket takes 5 bytes of the next
  hub->deliver({event_frame(3, 1), event_frame(4, 1)});
  auto queued = client.take();
  ASSERT_EQ(queued.size(), 2U);
  EXPECT_EQ(queued[0]->text, event_frame(3, 1)->text.substr(5));
  EXPECT_EQ(queued[1]->id, (domain::EventId{1000, 4}));
  hub->remove(client);
}

TEST(StreamHub, ClosingEndsEveryStreamAfterWhatIsQueued) {
  asio::io_context io;
  auto hub = StreamHub::create(io.get_executor(), std::chrono::seconds(15));
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

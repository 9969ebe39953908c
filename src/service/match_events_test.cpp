// service::publish_match_changes and events_since on fake stores: what is
// published, in which order, what is forgotten, and what a failure leaves.
#include "service/match_events.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace betsdb::service {
namespace {

namespace asio = boost::asio;

class FakeOutbox final : public MatchOutbox {
 public:
  std::vector<PendingMatchChange> rows;
  bool down = false;

  Async<std::vector<PendingMatchChange>> pending(std::size_t limit) override {
    if (down) co_return Error::unavailable("PostgreSQL is down");
    std::vector<PendingMatchChange> out;
    for (std::size_t i = 0; i < rows.size() && i < limit; ++i) out.push_back(rows[i]);
    co_return out;
  }
  Async<void> forget(const std::vector<std::int64_t>& ids) override {
    std::erase_if(rows, [&](const PendingMatchChange& row) {
      return std::find(ids.begin(), ids.end(), row.outbox_id) != ids.end();
    });
    co_return Result<void>{};
  }
};

class FakeStream final : public MatchEventStream {
 public:
  std::vector<domain::MatchEvent> events;
  std::set<std::pair<std::int64_t, std::string>> appended;  // outbox id, publish key
  bool down = false;

  Async<std::size_t> append(std::span<const StreamEntry> entries) override {
    if (down) co_return Error::unavailable("Redis is down");
    std::size_t added = 0;
    for (const auto& e : entries) {
      if (!appended.emplace(e.outbox_id, e.publish_key).second) continue;
      events.push_back({domain::EventId{1000, events.size()}, e.match_id, e.data});
      ++added;
    }
    co_return added;
  }
  Async<std::vector<domain::MatchEvent>> from(domain::EventId from, std::size_t count) override {
    if (down) co_return Error::unavailable("Redis is down");
    std::vector<domain::MatchEvent> out;
    for (const auto& e : events) {
      if (e.id >= from && out.size() < count) out.push_back(e);
    }
    co_return out;
  }
  Async<std::optional<domain::EventId>> newest() override {
    if (events.empty()) co_return std::optional<domain::EventId>{};
    co_return std::optional<domain::EventId>{events.back().id};
  }
};

template <class T>
T run(asio::io_context& io, asio::awaitable<T> work) {
  std::optional<T> out;
  auto body = [&out, work = std::move(work)]() mutable -> asio::awaitable<void> {
    out.emplace(co_await std::move(work));
  };
  asio::co_spawn(io, body(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  io.restart();
  return std::move(*out);
}

PendingMatchChange change(std::int64_t outbox_id, std::int64_t match_id, int version) {
  PendingMatchChange c;
  c.outbox_id = outbox_id;
  c.publish_key = "key-" + std::to_string(outbox_id);
  c.match.id = match_id;
  c.match.odds_version = version;
  return c;
}

struct Fixture {
  asio::io_context io;
  Context ctx;
  std::shared_ptr<FakeOutbox> outbox = std::make_shared<FakeOutbox>();
  std::shared_ptr<FakeStream> stream = std::make_shared<FakeStream>();
  MatchRenderer render = [](const domain::Match& m) {
    return std::to_string(m.id) + "@" + std::to_string(m.odds_version);
  };

  Fixture() {
    ctx.outbox = outbox;
    ctx.match_stream = stream;
  }
  Result<std::size_t> publish() { return run(io, publish_match_changes(ctx, render)); }
};

TEST(PublishMatchChanges, PublishesTheOutboxInOrderAndEmptiesIt) {
  Fixture f;
  for (int i = 1; i <= 450; ++i) f.outbox->rows.push_back(change(i, 1 + i % 3, i));
  auto published = f.publish();
  ASSERT_TRUE(published.ok());
  EXPECT_EQ(*published, 450U);  // three batches
  EXPECT_TRUE(f.outbox->rows.empty());
  ASSERT_EQ(f.stream->events.size(), 450U);
  for (std::size_t i = 0; i < 450; ++i) {
    EXPECT_EQ(f.stream->events[i].data,
              std::to_string(1 + (i + 1) % 3) + "@" + std::to_string(i + 1));
  }
}

TEST(PublishMatchChanges, ARedisOutageLeavesTheChangesForTheNextRun) {
  Fixture f;
  f.outbox->rows = {change(1, 7, 2), change(2, 7, 3)};
  f.stream->down = true;
  EXPECT_FALSE(f.publish().ok());
  EXPECT_EQ(f.outbox->rows.size(), 2U);
  f.stream->down = false;
  auto published = f.publish();
  ASSERT_TRUE(published.ok());
  EXPECT_EQ(*published, 2U);
  EXPECT_EQ(f.stream->events.back().data, "7@3");
}

TEST(PublishMatchChanges, AChangeAppendedBeforeIsNotAppendedAgain) {
  // A publisher that appended and then lost PostgreSQL before forgetting.
  Fixture f;
  f.outbox->rows = {change(1, 7, 2)};
  f.stream->appended.emplace(1, "key-1");
  auto published = f.publish();
  ASSERT_TRUE(published.ok());
  EXPECT_EQ(*published, 0U);
  EXPECT_TRUE(f.outbox->rows.empty());
  EXPECT_TRUE(f.stream->events.empty());
}

TEST(PublishMatchChanges, AChangeUnderAnOutboxIdHandedOutAgainIsAppended) {
  // The id was published before a failover or a restore gave it out again.
  Fixture f;
  f.stream->appended.emplace(1, "key-of-the-lost-change");
  f.outbox->rows = {change(1, 7, 2)};
  auto published = f.publish();
  ASSERT_TRUE(published.ok());
  EXPECT_EQ(*published, 1U);
  ASSERT_EQ(f.stream->events.size(), 1U);
  EXPECT_EQ(f.stream->events[0].data, "7@2");
}

TEST(EventsSince, GivesWhatCameAfterAHeldPositionAndSaysWhenItIsGone) {
  Fixture f;
  for (int i = 1; i <= 5; ++i) f.outbox->rows.push_back(change(i, 7, i));
  ASSERT_TRUE(f.publish().ok());
  const auto second = f.stream->events[1].id;
  auto since = run(f.io, events_since(f.ctx, second, 2));
  ASSERT_TRUE(since.ok());
  EXPECT_TRUE(since->held);
  ASSERT_EQ(since->events.size(), 2U);
  EXPECT_EQ(since->events[0].id, f.stream->events[2].id);

  auto gone = run(f.io, events_since(f.ctx, domain::EventId{1, 0}, 10));
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->held);
}

}  // namespace
}  // namespace betsdb::service

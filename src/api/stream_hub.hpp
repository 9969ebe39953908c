// The live stream's clients on one shard (API.md, "Live stream"): the
// process's one reader hands each batch of events to every shard's hub, which
// in a fan-out pass writes each parked client the events it wants, or leaves
// them for its coroutine (api/stream_routes.cpp) to write. While the shard is
// busy, a FanOutPacer spaces the passes and the events in between go out
// together (api/fan_out_pacer.hpp).
//
// The hub holds each pass's frames once, in its backlog
// (api/stream_backlog.hpp); a client is a cursor into it. What a client holds
// of its own is its byte budget at most: what its writer has taken and not
// yet written, and the rest of a frame its socket took only part of. A pass
// larger than the budget reaches a client that reads a piece at a time.
//
// A client that was already more than kBehindBudgets budgets behind the
// backlog before a pass came is not keeping up: it is cut off (it resumes
// from its last id when it comes back), so the backlog, and with it the
// shard's memory, stays bounded. Judged before the pass, and in budgets
// rather than one: a pass of any size, or clients the shard has not yet had
// the time to write to since a large one, cut no one off. A client that
// stopped reading altogether is also cut off by its write's deadline.
//
// Thread-safety: the shard's thread only (the reader posts to it).
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/fan_out_pacer.hpp"
#include "api/stream_backlog.hpp"
#include "domain/match_event.hpp"

namespace betsdb::api {

// One event as the wire carries it. A heartbeat has no id ({0, 0}).
struct StreamFrame {
  domain::EventId id;
  std::int64_t match_id = 0;
  std::string text;

  bool has_id() const { return id != domain::EventId{}; }
};
using FramePtr = std::shared_ptr<const StreamFrame>;
using FrameBatch = std::vector<FramePtr>;

// "id: <id>\nevent: match\ndata: <json>\n\n"
FramePtr match_frame(const domain::MatchEvent& event);
// The comment that keeps proxies from timing the connection out.
FramePtr heartbeat_frame();
// Tells a client its position is gone; `newest` becomes its position.
std::string reset_frame(const std::optional<domain::EventId>& newest);

// How far, in budgets, a client may be behind the hub's backlog before a
// pass (see above).
inline constexpr std::size_t kBehindBudgets = 8;

// One connection's subscription.
class StreamClient final {
 public:
  // `matches`: sorted ids of the matches wanted; empty for all.
  StreamClient(boost::asio::any_io_executor executor, std::vector<std::int64_t> matches,
               std::size_t buffer_limit);

  bool wants(std::int64_t match_id) const;

  // The hub's side. attach(): from now on the client reads `backlog`, from
  // its end. push(): a pass has appended its frames to the backlog, from
  // number `first` on; `all_text` is their texts joined. A frame the client
  // does not want, or at or before `position` (a replay sent it), is left
  // out. While the writer is parked (nothing left for it, no write going)
  // the pass goes straight to `write_now` in one write, which sends what the
  // socket takes at once; the rest is left for the writer. A client already
  // too far behind is cut off instead: `on_overflow` runs (it ends the
  // connection, failing a write that hangs).
  void attach(const StreamBacklog& backlog);
  void push(const FrameBatch& frames, std::uint64_t first, std::string_view all_text);
  std::function<std::size_t(std::string_view)> write_now;
  void close();  // graceful: what the backlog has for it is still written, then the stream ends
  void drop();   // the client left: the stream ends at once
  std::function<void()> on_overflow;
  // The first backlog frame the client still needs (the hub keeps it).
  std::uint64_t needs_from() const;

  // The writer's side. `position`: the newest event the client has been
  // sent (or, resuming, had); fresh() keeps only what comes after it.
  // take() hands over what is next, at most the budget; the writer calls it
  // again only once it has written what the previous call gave it, so those
  // bytes count against the budget until then.
  std::vector<FramePtr> take();
  std::vector<boost::asio::const_buffer> fresh(const std::vector<FramePtr>& frames);
  std::optional<domain::EventId> position;
  // Parked: waiting in wait() with nothing in hand, so push may write directly.
  void set_parked(bool parked) { parked_ = parked; }
  boost::asio::awaitable<void> wait();  // until there is something to take, or closed, or cut off
  bool closed() const { return closed_; }
  bool cut_off() const { return cut_off_; }
  // Taken and not yet written (at most the budget); what the backlog holds
  // past the client's cursor, and the part-written frame's rest: its lag.
  std::size_t in_flight_bytes() const { return in_flight_bytes_; }
  std::size_t behind_bytes() const;

 private:
  bool gets(const StreamFrame& frame) const;
  bool has_next() const;
  std::uint64_t last() const;  // the backlog frame after the last one it gets
  void write_directly(const FrameBatch& frames, std::uint64_t first, std::string_view all_text);
  void overflow();

  std::vector<std::int64_t> matches_;
  std::size_t buffer_limit_;
  const StreamBacklog* backlog_ = nullptr;
  std::uint64_t next_ = 0;       // the first backlog frame not yet taken
  std::uint64_t closed_at_ = 0;  // the backlog's end when the stream was closed
  FramePtr rest_;                // of a frame the socket took only part of: the client's own copy
  std::size_t in_flight_bytes_ = 0;
  bool closed_ = false;
  bool cut_off_ = false;
  bool parked_ = false;
  boost::asio::steady_timer wake_;
};

class StreamHub final : public std::enable_shared_from_this<StreamHub> {
 public:
  using Sampler = std::function<FanOutPacer::Sample()>;
  static std::shared_ptr<StreamHub> create(boost::asio::any_io_executor executor,
                                           std::chrono::milliseconds heartbeat_every,
                                           FanOutPacer::Settings pacing = {},
                                           Sampler sample = &FanOutPacer::sample_now);

  void start();  // the heartbeats
  // In the next pass: soon, on this thread, or when the pacer allows.
  void deliver(const FrameBatch& batch);
  void add(StreamClient& client);
  void remove(StreamClient& client);
  // Shutdown: every stream ends after what is queued; no heartbeat after.
  void close_all();
  // The reader missed events: every open stream ends after what is queued,
  // and its client resumes from its last id (the replay says what it
  // missed, or `reset`). Streams opened after it are served as usual.
  void end_streams();
  std::size_t clients() const { return clients_.size(); }
  std::size_t backlog_bytes() const { return backlog_.held_bytes(); }
  // Fan-out passes so far, and those a busy shard held back.
  std::uint64_t passes() const { return passes_; }
  std::uint64_t held_passes() const { return held_passes_; }
  bool closing() const { return closing_; }
  // The process's reader knows where in the stream it reads from: from now
  // on every event reaches this hub, so a client may subscribe. Before,
  // an event could fall between a replay and the reader's start.
  void mark_ready() { ready_ = true; }
  bool ready() const { return ready_; }

 private:
  StreamHub(boost::asio::any_io_executor executor, std::chrono::milliseconds heartbeat_every,
            FanOutPacer::Settings pacing, Sampler sample);
  boost::asio::awaitable<void> beat();
  void pace();     // the next pass now, or a timer for it
  void fan_out();  // the pass

  std::list<StreamClient*> clients_;
  StreamBacklog backlog_;
  std::chrono::milliseconds heartbeat_every_;
  boost::asio::steady_timer timer_;
  FanOutPacer pacer_;
  Sampler sample_;
  FrameBatch pending_;  // for the next pass
  boost::asio::steady_timer pass_timer_;
  bool pass_scheduled_ = false;
  std::uint64_t passes_ = 0;
  std::uint64_t held_passes_ = 0;
  bool closing_ = false;
  bool ready_ = false;
};

// The per-instance cap on stream clients, shared by every shard.
class StreamAdmission final {
 public:
  explicit StreamAdmission(std::size_t max_clients) : max_(max_clients) {}

  // A seat, given back when the last copy goes; nullptr when full.
  std::shared_ptr<void> try_admit();
  std::size_t admitted() const { return count_.load(std::memory_order_relaxed); }
  std::size_t max_clients() const { return max_; }

 private:
  std::size_t max_;
  std::atomic<std::size_t> count_{0};
};

}  // namespace betsdb::api

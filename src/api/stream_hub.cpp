#include "api/stream_hub.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <limits>

namespace betsdb::api {

namespace asio = boost::asio;

FramePtr match_frame(const domain::MatchEvent& event) {
  auto frame = std::make_shared<StreamFrame>();
  frame->id = event.id;
  frame->match_id = event.match_id;
  const std::string id = event.id.text();
  frame->text.reserve(id.size() + event.data.size() + 32);
  frame->text.append("id: ").append(id).append("\nevent: match\ndata: ");
  // The JSON is one line; a line break in it would end the data field.
  frame->text.append(event.data).append("\n\n");
  return frame;
}

FramePtr heartbeat_frame() {
  static const FramePtr frame =
      std::make_shared<const StreamFrame>(StreamFrame{{}, 0, ": keep-alive\n\n"});
  return frame;
}

std::string reset_frame(const std::optional<domain::EventId>& newest) {
  // An empty id clears the client's position (EventSource keeps none).
  return "id: " + (newest ? newest->text() : std::string()) + "\nevent: reset\ndata: {}\n\n";
}

StreamClient::StreamClient(asio::any_io_executor executor, std::vector<std::int64_t> matches,
                           std::size_t buffer_limit)
    : matches_(std::move(matches)),
      buffer_limit_(buffer_limit),
      wake_(std::move(executor), asio::steady_timer::time_point::max()) {}

bool StreamClient::wants(std::int64_t match_id) const {
  return matches_.empty() || std::binary_search(matches_.begin(), matches_.end(), match_id);
}

bool StreamClient::gets(const StreamFrame& frame) const {
  if (!frame.has_id()) return true;
  return wants(frame.match_id) && (!position || frame.id > *position);
}

void StreamClient::attach(const StreamBacklog& backlog) {
  backlog_ = &backlog;
  next_ = backlog.end();
}

std::uint64_t StreamClient::last() const {
  if (!backlog_) return next_;
  return closed_ ? closed_at_ : backlog_->end();
}

bool StreamClient::has_next() const {
  return rest_ != nullptr || next_ < last();
}

std::size_t StreamClient::behind_bytes() const {
  if (cut_off_) return 0;
  const std::size_t rest = rest_ ? rest_->text.size() : 0;
  if (!backlog_ || next_ >= last()) return rest;
  return rest + backlog_->bytes_between(next_, last());
}

std::uint64_t StreamClient::needs_from() const {
  if (cut_off_ || next_ >= last()) return std::numeric_limits<std::uint64_t>::max();
  return next_;
}

void StreamClient::push(const FrameBatch& frames, std::uint64_t first, std::string_view all_text) {
  if (closed_ || cut_off_ || !backlog_) return;
  // Judged on what earlier passes left, never on this one: a client reading
  // at any speed has had no chance yet to take a large pass.
  if (backlog_->bytes_between(next_, first) > kBehindBudgets * buffer_limit_) {
    overflow();
    return;
  }
  if (parked_ && !rest_ && next_ == first && write_now) write_directly(frames, first, all_text);
  if (has_next()) wake_.cancel();
}

void StreamClient::write_directly(const FrameBatch& frames, std::uint64_t first,
                                  std::string_view all_text) {
  bool every_frame = true;
  bool any_frame = false;
  for (const auto& frame : frames) {
    if (gets(*frame)) {
      any_frame = true;
    } else {
      every_frame = false;
    }
  }
  if (!any_frame) {
    next_ = first + frames.size();
    return;
  }
  // Most clients get every frame: the text the hub joined once serves them.
  std::string own;
  if (!every_frame) {
    for (const auto& frame : frames) {
      if (gets(*frame)) own.append(frame->text);
    }
    all_text = own;
  }
  const std::size_t sent = write_now(all_text);
  // What the socket did not take stays in the backlog for the writer, which
  // can take it in pieces; only the rest of the frame the write cut through
  // is the client's own copy. No id on that rest, so fresh() never drops
  // it; the frames after it have newer ids than `position`, which is the
  // newest event the client has had a byte of.
  std::optional<domain::EventId> newest;
  std::size_t offset = 0;
  next_ = first + frames.size();
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const StreamFrame& frame = *frames[i];
    if (!gets(frame)) continue;
    const std::size_t size = frame.text.size();
    if (offset + size > sent) {
      if (offset < sent) {
        if (frame.has_id()) newest = frame.id;
        rest_ = std::make_shared<const StreamFrame>(
            StreamFrame{{}, 0, frame.text.substr(sent - offset)});
        next_ = first + i + 1;
      } else {
        next_ = first + i;
      }
      break;
    }
    if (frame.has_id()) newest = frame.id;
    offset += size;
  }
  if (newest) position = newest;
}

void StreamClient::overflow() {
  drop();
  if (on_overflow) on_overflow();
}

void StreamClient::drop() {
  cut_off_ = true;
  rest_.reset();
  wake_.cancel();
}

void StreamClient::close() {
  closed_ = true;
  closed_at_ = backlog_ ? backlog_->end() : next_;
  wake_.cancel();
}

std::vector<asio::const_buffer> StreamClient::fresh(const std::vector<FramePtr>& frames) {
  std::vector<asio::const_buffer> out;
  out.reserve(frames.size());
  for (const auto& frame : frames) {
    if (frame->has_id()) {
      if (position && frame->id <= *position) continue;  // replayed already
      position = frame->id;
    }
    out.push_back(asio::buffer(frame->text));
  }
  return out;
}

std::vector<FramePtr> StreamClient::take() {
  in_flight_bytes_ = 0;  // the previous take's frames are written
  std::vector<FramePtr> out;
  if (cut_off_) return out;
  if (rest_) {
    in_flight_bytes_ = rest_->text.size();
    out.push_back(std::exchange(rest_, nullptr));
  }
  // fresh() drops what a replay in progress sent meanwhile.
  for (const std::uint64_t end = last(); next_ < end; ++next_) {
    const FramePtr& frame = backlog_->at(next_);
    if (frame->has_id() && !wants(frame->match_id)) continue;
    const std::size_t size = frame->text.size();
    // A frame larger than the whole budget still goes, alone.
    if (in_flight_bytes_ != 0 && in_flight_bytes_ + size > buffer_limit_) break;
    in_flight_bytes_ += size;
    out.push_back(frame);
  }
  return out;
}

asio::awaitable<void> StreamClient::wait() {
  if (has_next() || closed_ || cut_off_) co_return;
  wake_.expires_at(asio::steady_timer::time_point::max());
  co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
}

std::shared_ptr<StreamHub> StreamHub::create(asio::any_io_executor executor,
                                             std::chrono::milliseconds heartbeat_every,
                                             FanOutPacer::Settings pacing, Sampler sample) {
  return std::shared_ptr<StreamHub>(
      new StreamHub(std::move(executor), heartbeat_every, pacing, std::move(sample)));
}

StreamHub::StreamHub(asio::any_io_executor executor, std::chrono::milliseconds heartbeat_every,
                     FanOutPacer::Settings pacing, Sampler sample)
    : heartbeat_every_(heartbeat_every),
      timer_(executor),
      pacer_(pacing),
      sample_(std::move(sample)),
      pass_timer_(executor) {}

void StreamHub::start() {
  asio::co_spawn(
      timer_.get_executor(), [self = shared_from_this()] { return self->beat(); }, asio::detached);
}

asio::awaitable<void> StreamHub::beat() {
  const FrameBatch beat{heartbeat_frame()};
  while (!closing_) {
    timer_.expires_after(heartbeat_every_);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!closing_) deliver(beat);
  }
}

void StreamHub::deliver(const FrameBatch& batch) {
  pending_.insert(pending_.end(), batch.begin(), batch.end());
  if (pass_scheduled_) return;
  pass_scheduled_ = true;
  // Posted, not run now: the reader's thread posts each batch as it comes,
  // so while a long pass ran the next ones queued up behind it. They reach
  // pending_ before the posted pass runs, and go out with it: a shard that
  // falls behind catches up in fewer, larger writes.
  asio::post(pass_timer_.get_executor(), [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->pace();
  });
}

void StreamHub::pace() {
  if (pending_.empty()) {  // close_all() sent them
    pass_scheduled_ = false;
    return;
  }
  const FanOutPacer::Sample now = sample_();
  const auto at = pacer_.next_pass(now);
  if (at <= now.wall) {
    pass_scheduled_ = false;
    fan_out();
    return;
  }
  ++held_passes_;
  pass_timer_.expires_after(at - now.wall);
  pass_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self) return;  // cancelled: close_all() has sent what was pending
    self->pass_scheduled_ = false;
    self->fan_out();
  });
}

void StreamHub::fan_out() {
  if (pending_.empty()) return;
  const FrameBatch frames = std::exchange(pending_, {});
  const FanOutPacer::Sample started = sample_();
  std::string joined;
  std::string_view all_text = frames.front()->text;
  if (frames.size() > 1) {
    for (const auto& frame : frames) joined.append(frame->text);
    all_text = joined;
  }
  const std::uint64_t first = backlog_.end();
  for (const auto& frame : frames) backlog_.append(frame, frame->text.size());
  // A client cut off by a push leaves the list only when its writer ends,
  // so iterating is safe: push never removes.
  std::uint64_t needed = backlog_.end();
  for (StreamClient* client : clients_) {
    client->push(frames, first, all_text);
    needed = std::min(needed, client->needs_from());
  }
  backlog_.drop_before(needed);
  pacer_.pass_ran(started, sample_());
  ++passes_;
}

void StreamHub::add(StreamClient& client) {
  client.attach(backlog_);
  clients_.push_back(&client);
  if (closing_) client.close();
}

void StreamHub::remove(StreamClient& client) {
  clients_.remove(&client);
}

void StreamHub::close_all() {
  closing_ = true;
  timer_.cancel();
  pass_timer_.cancel();
  pass_scheduled_ = false;
  fan_out();  // what was held back is still sent, before each stream ends
  for (StreamClient* client : clients_) client->close();
}

void StreamHub::end_streams() {
  // What the reader delivered before the gap goes out first. A pass still
  // scheduled finds nothing pending and does nothing.
  fan_out();
  for (StreamClient* client : clients_) client->close();
}

std::shared_ptr<void> StreamAdmission::try_admit() {
  std::size_t now = count_.load(std::memory_order_relaxed);
  do {
    if (now >= max_) return nullptr;
  } while (!count_.compare_exchange_weak(now, now + 1, std::memory_order_relaxed));
  // Not null, so the caller can test it; the pointer itself is never used.
  return std::shared_ptr<void>(static_cast<void*>(this),
                               [this](void*) { count_.fetch_sub(1, std::memory_order_relaxed); });
}

}  // namespace betsdb::api

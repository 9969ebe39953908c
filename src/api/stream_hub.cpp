#include "api/stream_hub.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

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

void StreamClient::push(const FramePtr& incoming) {
  if (closed_ || cut_off_) return;
  FramePtr frame = incoming;
  if (parked_ && queued_.empty() && write_now) {
    if (frame->has_id()) {
      if (position && frame->id <= *position) return;
      position = frame->id;
    }
    const std::size_t sent = write_now(frame->text);
    if (sent == frame->text.size()) return;
    // The socket took part of it: the writer sends the rest, and nothing
    // may overtake it. No id, so fresh() never drops it.
    frame = std::make_shared<const StreamFrame>(StreamFrame{{}, 0, frame->text.substr(sent)});
  }
  if (queued_bytes_ + frame->text.size() > buffer_limit_) {
    drop();
    if (on_overflow) on_overflow();
    return;
  }
  queued_bytes_ += frame->text.size();
  queued_.push_back(frame);
  wake_.cancel();
}

void StreamClient::drop() {
  cut_off_ = true;
  queued_.clear();
  wake_.cancel();
}

void StreamClient::close() {
  closed_ = true;
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
  queued_bytes_ = 0;
  return std::exchange(queued_, {});
}

asio::awaitable<void> StreamClient::wait() {
  if (!queued_.empty() || closed_ || cut_off_) co_return;
  wake_.expires_at(asio::steady_timer::time_point::max());
  co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
}

std::shared_ptr<StreamHub> StreamHub::create(asio::any_io_executor executor,
                                             std::chrono::milliseconds heartbeat_every) {
  return std::shared_ptr<StreamHub>(new StreamHub(std::move(executor), heartbeat_every));
}

StreamHub::StreamHub(asio::any_io_executor executor, std::chrono::milliseconds heartbeat_every)
    : heartbeat_every_(heartbeat_every), timer_(std::move(executor)) {}

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
  // A client cut off by a push leaves the list only when its writer ends,
  // so iterating is safe: push never removes.
  for (StreamClient* client : clients_) {
    for (const auto& frame : batch) {
      if (!frame->has_id() || client->wants(frame->match_id)) client->push(frame);
    }
  }
}

void StreamHub::add(StreamClient& client) {
  clients_.push_back(&client);
  if (closing_) client.close();
}

void StreamHub::remove(StreamClient& client) {
  clients_.remove(&client);
}

void StreamHub::close_all() {
  closing_ = true;
  timer_.cancel();
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

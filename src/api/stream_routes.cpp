// The live stream (docs/api.md, "Live stream"): GET /v1/stream as
// Server-Sent Events, resumable with Last-Event-ID.
#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/this_coro.hpp>

#include "api/api_shard.hpp"
#include "api/auth.hpp"
#include "api/query_params.hpp"
#include "api/stream_hub.hpp"
#include "http/router.hpp"
#include "service/match_events.hpp"

namespace betsdb::api {

namespace asio = boost::asio;
using http::Request;
using http::Response;

namespace {

constexpr std::size_t kMaxFilterMatches = 100;
// Events per replay round trip.
constexpr std::size_t kReplayPage = 500;
// EventSource reconnects after this long (its default is 3 s).
constexpr std::string_view kPreamble = "retry: 1000\n\n";
constexpr int kRetryAfterSeconds = 5;

struct StreamRequest {
  std::vector<std::int64_t> matches;  // sorted; empty: all
  std::optional<domain::EventId> resume_after;
};

Result<std::vector<std::int64_t>> parse_match_ids(std::string_view text) {
  std::vector<std::int64_t> ids;
  while (true) {
    const auto comma = text.find(',');
    auto id = http::parse_positive_id(text.substr(0, comma));
    if (!id) return invalid_parameter("match_id", "must be a comma-separated list of match ids");
    ids.push_back(*id);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.size() > kMaxFilterMatches) {
    return invalid_parameter("match_id", "may name at most 100 matches");
  }
  return ids;
}

Result<StreamRequest> read_stream_request(const Request& req) {
  BETSDB_TRY(auto query, QueryParams::parse(req.query, {"match_id", "last_event_id"}));
  StreamRequest out;
  if (auto ids = query.get("match_id")) {
    BETSDB_TRY(out.matches, parse_match_ids(*ids));
  }
  // The header is what EventSource sends when it reconnects: it is newer
  // than a last_event_id left in the URL.
  auto last = req.header("last-event-id");
  if (!last) last = query.get("last_event_id");
  if (last) {
    out.resume_after = domain::EventId::parse(*last);
    if (!out.resume_after) {
      return invalid_parameter("last_event_id", "is not an event id this stream gave");
    }
  }
  return out;
}

// Keeps the client on the hub's list exactly as long as its writer runs.
class Subscription final {
 public:
  Subscription(StreamHub& hub, StreamClient& client) : hub_(hub), client_(client) {
    hub_.add(client_);
  }
  ~Subscription() { hub_.remove(client_); }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

 private:
  StreamHub& hub_;
  StreamClient& client_;
};

asio::awaitable<bool> write_text(http::BodyStream& body, std::string_view text) {
  const std::array<asio::const_buffer, 1> buffers{asio::buffer(text)};
  const std::span<const asio::const_buffer> view(buffers);
  co_return co_await body.write(view);
}

// The missed events after the client's position, in pages; a position no
// longer held gets `reset`. False when the stream should end (the client is
// gone, or Redis cannot say what was missed: the client retries with the
// same position).
asio::awaitable<bool> replay(ApiShard& shard, http::BodyStream& body, StreamClient& client) {
  domain::EventId cursor = *client.position;
  while (true) {
    auto page = co_await service::events_since(shard.ctx, cursor, kReplayPage);
    if (!page.ok()) co_return false;
    if (!page->held) {
      auto newest = co_await service::newest_event(shard.ctx);
      if (!newest.ok()) co_return false;
      client.position = *newest;
      const std::string reset = reset_frame(*newest);
      co_return co_await write_text(body, reset);
    }
    FrameBatch frames;
    frames.reserve(page->events.size());
    for (const auto& event : page->events) {
      if (client.wants(event.match_id)) frames.push_back(match_frame(event));
    }
    auto buffers = client.fresh(frames);
    if (!page->events.empty()) {
      cursor = page->events.back().id;
      client.position = std::max(*client.position, cursor);
    }
    if (!buffers.empty()) {
      const std::span<const asio::const_buffer> view(buffers);
      const bool written = co_await body.write(view);
      if (!written) co_return false;
    }
    if (page->events.size() < kReplayPage) co_return true;
  }
}

asio::awaitable<void> serve_stream(ApiShard& shard, http::BodyStream& body, StreamRequest request,
                                   std::shared_ptr<void> seat) {
  (void)seat;  // held until the stream ends
  // A client with no position yet is given one at once: the newest event's
  // id, read before subscribing (what comes after it is then in the backlog or
  // replayed from it, never lost), in a block with no data, which sets
  // EventSource's last event id and dispatches nothing. A filtered client
  // may hear no event for hours; without a position its reconnect would
  // start from nowhere and miss what changed meanwhile. When Redis cannot
  // say (or holds nothing yet), the client starts from now, as before.
  bool give_position = false;
  if (!request.resume_after) {
    auto newest = co_await service::newest_event(shard.ctx);
    if (newest.ok() && *newest) {
      request.resume_after = **newest;
      give_position = true;
    }
  }
  auto executor = co_await asio::this_coro::executor;
  StreamClient client(executor, std::move(request.matches), shard.stream_client_buffer);
  client.on_overflow = [&body] { body.abort(); };
  client.write_now = [&body](std::string_view bytes) { return body.write_now(bytes); };
  body.on_client_gone([&client] { client.drop(); });
  // Subscribed before the replay: what arrives meanwhile waits in the backlog,
  // and fresh() drops what the replay already sent.
  Subscription subscription(*shard.stream_hub, client);
  const bool started = co_await write_text(body, kPreamble);
  if (!started) co_return;
  if (give_position) {
    const std::string position = "id: " + request.resume_after->text() + "\n\n";
    const bool positioned = co_await write_text(body, position);
    if (!positioned) co_return;
  }
  client.position = request.resume_after;
  if (client.position) {
    const bool replayed = co_await replay(shard, body, client);
    if (!replayed) co_return;
  }
  while (!client.cut_off()) {
    // Only once the previous write has completed: until then its bytes
    // count against the client's budget.
    const auto frames = client.take();
    if (frames.empty()) {
      if (client.closed()) co_return;
      // Caught up: the hub writes the next events itself while it can.
      client.set_parked(true);
      co_await client.wait();
      client.set_parked(false);
      continue;
    }
    const auto buffers = client.fresh(frames);
    if (buffers.empty()) continue;
    const std::span<const asio::const_buffer> view(buffers);
    const bool written = co_await body.write(view);
    if (!written) co_return;
  }
}

Response starting() {
  Error e =
      Error::unavailable("The live stream is starting (it cannot reach Redis yet); retry shortly.");
  e.retry_after_seconds = 1;
  return error_response(e);
}

Response full(std::size_t max_clients) {
  Error e = Error::unavailable("This instance already serves its maximum of " +
                               std::to_string(max_clients) + " stream clients; retry later.");
  e.retry_after_seconds = kRetryAfterSeconds;
  return error_response(e);
}

}  // namespace

void add_stream_routes(http::Router& router, ApiShard& shard) {
  router.add({http::Method::get, "/v1/stream", anyone(shard.auth),
              [&shard](Request& req) -> asio::awaitable<Response> {
                auto request = read_stream_request(req);
                if (!request.ok()) co_return error_response(request.error());
                if (!shard.stream_hub || shard.stream_hub->closing()) {
                  co_return error_response(Error::unavailable("The server is shutting down."));
                }
                if (!shard.stream_hub->ready()) co_return starting();
                auto seat = shard.stream_admission ? shard.stream_admission->try_admit() : nullptr;
                if (!seat) {
                  co_return full(shard.stream_admission ? shard.stream_admission->max_clients()
                                                        : 0);
                }
                Response r;
                r.status = 200;
                r.content_type = "text/event-stream";
                r.headers.push_back({"Cache-Control", "no-cache"});
                // Tells nginx-like proxies not to hold events back.
                r.headers.push_back({"X-Accel-Buffering", "no"});
                r.stream = [&shard, request = std::move(*request),
                            seat = std::move(seat)](http::BodyStream& body) mutable {
                  return serve_stream(shard, body, std::move(request), std::move(seat));
                };
                co_return r;
              }});
}

}  // namespace betsdb::api

#include "service/match_events.hpp"

namespace betsdb::service {

namespace {
// Per round trip: big enough to drain an import quickly, small enough to
// keep one script short (Redis serves nobody else while it runs).
constexpr std::size_t kBatch = 200;
}  // namespace

Async<std::size_t> publish_match_changes(Context& ctx, const MatchRenderer& render) {
  if (!ctx.outbox || !ctx.match_stream) co_return std::size_t{0};
  std::size_t appended = 0;
  while (true) {
    auto pending = co_await ctx.outbox->pending(kBatch);
    if (!pending.ok()) co_return std::move(pending).error();
    if (pending->empty()) break;
    std::vector<StreamEntry> entries;
    std::vector<std::int64_t> ids;
    entries.reserve(pending->size());
    ids.reserve(pending->size());
    for (const auto& change : *pending) {
      entries.push_back(
          StreamEntry{change.outbox_id, change.publish_key, change.match.id, render(change.match)});
      ids.push_back(change.outbox_id);
    }
    const std::span<const StreamEntry> batch(entries);
    auto added = co_await ctx.match_stream->append(batch);
    if (!added.ok()) co_return std::move(added).error();
    appended += *added;
    auto forgotten = co_await ctx.outbox->forget(ids);
    if (!forgotten.ok()) co_return std::move(forgotten).error();
    if (pending->size() < kBatch) break;
  }
  co_return appended;
}

Async<EventsSince> events_since(Context& ctx, domain::EventId after, std::size_t count) {
  // From `after` itself: finding it is what proves nothing after it was trimmed.
  auto events = co_await ctx.match_stream->from(after, count + 1);
  if (!events.ok()) co_return std::move(events).error();
  EventsSince out;
  if (events->empty() || events->front().id != after) {
    out.held = false;
    co_return out;
  }
  events->erase(events->begin());
  out.events = std::move(*events);
  co_return out;
}

Async<std::optional<domain::EventId>> newest_event(Context& ctx) {
  co_return co_await ctx.match_stream->newest();
}

}  // namespace betsdb::service

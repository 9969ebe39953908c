#include "store/redis/match_stream.hpp"

#include <charconv>
#include <optional>

namespace betsdb::redis {

const std::string kMatchStreamKey = "stream:{matches}";

namespace {

// The mark comes first: an entry whose outbox id is marked with its own
// publish key is in the stream already (a publisher that appended and then
// failed to drop the outbox row, or a concurrent one). A mark holding another
// key was left by an earlier change under the same id (handed out again
// after a failover or a restore): this is a new change, appended, and the
// mark now names it. "1" is the mark of a betsdb from before publish keys
// (migration 014), which published the row: skipped, so that old and new
// publishers side by side append each row once. Marks outlive any sane
// outbox backlog: an hour.
const Script& append_script() {
  static const Script script(R"lua(
local appended = 0
for i = 2, #KEYS do
  local at = 2 + (i - 2) * 3
  local mark = redis.call('GET', KEYS[i])
  if not mark or (mark ~= '1' and mark ~= ARGV[at]) then
    redis.call('SET', KEYS[i], ARGV[at], 'EX', 3600)
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'm', ARGV[at + 1], 'd', ARGV[at + 2])
    appended = appended + 1
  end
end
return appended)lua");
  return script;
}

std::string sent_key(std::int64_t outbox_id) {
  return kMatchStreamKey + ":sent:" + std::to_string(outbox_id);
}

Error refused(const Reply& reply) {
  return Error::unavailable("Redis refused a stream command: " + reply.as_string());
}

// One entry: [id, [field, value, ...]], fields m (match id) and d (data).
Result<domain::MatchEvent> event_from(const Reply& entry) {
  const auto& parts = entry.elements();
  if (parts.size() != 2) return Error::internal("unexpected stream entry: " + entry.describe());
  auto id = domain::EventId::parse(parts[0].as_string());
  if (!id) return Error::internal("unexpected stream id: " + parts[0].as_string());
  domain::MatchEvent event{*id, 0, {}};
  const auto& fields = parts[1].elements();
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string& name = fields[i].as_string();
    const std::string& value = fields[i + 1].as_string();
    if (name == "m") {
      std::from_chars(value.data(), value.data() + value.size(), event.match_id);
    } else if (name == "d") {
      event.data = value;
    }
  }
  return event;
}

Result<std::vector<domain::MatchEvent>> events_from(const Reply& entries) {
  std::vector<domain::MatchEvent> out;
  out.reserve(entries.elements().size());
  for (const auto& entry : entries.elements()) {
    auto event = event_from(entry);
    if (!event.ok()) return std::move(event).error();
    out.push_back(std::move(*event));
  }
  return out;
}

}  // namespace

boost::asio::awaitable<Result<std::size_t>> append_match_events(
    Commands& redis, std::span<const StreamAppend> entries, std::size_t keep) {
  if (entries.empty()) co_return std::size_t{0};
  std::vector<std::string> keys;
  std::vector<std::string> args;
  keys.reserve(entries.size() + 1);
  args.reserve(entries.size() * 3 + 1);
  keys.push_back(kMatchStreamKey);
  args.push_back(std::to_string(keep));
  for (const auto& entry : entries) {
    keys.push_back(sent_key(entry.outbox_id));
    args.push_back(entry.publish_key);
    args.push_back(std::to_string(entry.match_id));
    args.push_back(entry.data);
  }
  auto reply = co_await redis.eval(append_script(), std::move(keys), std::move(args));
  if (!reply.ok()) co_return std::move(reply).error();
  if (reply->is_error()) co_return refused(*reply);
  co_return static_cast<std::size_t>(reply->as_integer());
}

boost::asio::awaitable<Result<std::vector<domain::MatchEvent>>> match_events_from(
    Commands& redis, domain::EventId from, std::size_t count) {
  const std::string start = from.text();
  const std::string limit = std::to_string(count);
  auto reply = co_await redis.command("XRANGE", kMatchStreamKey, start, "+", "COUNT", limit);
  if (!reply.ok()) co_return std::move(reply).error();
  if (reply->is_error()) co_return refused(*reply);
  co_return events_from(*reply);
}

boost::asio::awaitable<Result<std::vector<domain::MatchEvent>>> read_match_events_after(
    Commands& redis, domain::EventId after, std::chrono::milliseconds block, std::size_t count) {
  const std::string limit = std::to_string(count);
  const std::string wait = std::to_string(block.count());
  const std::string last = after.text();
  auto reply = co_await redis.command("XREAD", "COUNT", limit, "BLOCK", wait, "STREAMS",
                                      kMatchStreamKey, last);
  if (!reply.ok()) co_return std::move(reply).error();
  if (reply->is_error()) co_return refused(*reply);
  // nil on timeout, else [[key, [entries...]]].
  if (reply->is_nil() || reply->elements().empty()) co_return std::vector<domain::MatchEvent>{};
  const auto& stream = reply->elements()[0].elements();
  if (stream.size() != 2) co_return Error::internal("unexpected XREAD reply: " + reply->describe());
  co_return events_from(stream[1]);
}

boost::asio::awaitable<Result<bool>> match_events_held_after(Commands& redis,
                                                             domain::EventId after) {
  if (after == domain::EventId{}) {
    // From the very start (a reader that began on an empty stream): no
    // event to find, so the stream says whether it ever lost one: it holds
    // every entry ever added (Redis 7.0's XINFO STREAM: entries-added, which
    // trimming does not lower, equals length).
    auto info = co_await redis.command("XINFO", "STREAM", kMatchStreamKey);
    if (!info.ok()) co_return std::move(info).error();
    if (info->is_error()) co_return refused(*info);
    std::optional<std::int64_t> length;
    std::optional<std::int64_t> added;
    const auto& fields = info->elements();
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (!fields[i].is_string() || !fields[i + 1].is_integer()) continue;
      if (fields[i].as_string() == "length") length = fields[i + 1].as_integer();
      if (fields[i].as_string() == "entries-added") added = fields[i + 1].as_integer();
    }
    if (!length || !added) {
      co_return Error::internal("XINFO STREAM named no length or entries-added: " +
                                info->describe());
    }
    co_return *length == *added;
  }
  // From `after` itself, as a replay reads (service::events_since): finding
  // it is what proves nothing after it was trimmed.
  auto from = co_await match_events_from(redis, after, 1);
  if (!from.ok()) co_return std::move(from).error();
  co_return from->empty() || from->front().id == after;
}

boost::asio::awaitable<Result<std::optional<domain::EventId>>> newest_match_event(Commands& redis) {
  auto reply = co_await redis.command("XREVRANGE", kMatchStreamKey, "+", "-", "COUNT", "1");
  if (!reply.ok()) co_return std::move(reply).error();
  if (reply->is_error()) co_return refused(*reply);
  if (reply->elements().empty()) co_return std::optional<domain::EventId>{};
  auto event = event_from(reply->elements()[0]);
  if (!event.ok()) co_return std::move(event).error();
  co_return std::optional<domain::EventId>{event->id};
}

}  // namespace betsdb::redis

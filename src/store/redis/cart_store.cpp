#include "store/redis/cart_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <initializer_list>

#include "store/redis/cache.hpp"

namespace betsdb::redis {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Helpers of the cart scripts. KEYS[1] is the cart hash, KEYS[2] its id
// counter, ARGV[1] the TTL in milliseconds; on one Redis, the writes a
// bettor asks for add KEYS[3], the pause key (keys_for_write). A script
// includes only the helpers it calls: Redis runs the whole text on every call, and each local
// function is a closure made anew each time.
//
// Stored items are read with patterns rather than cjson.decode: Lua numbers
// are doubles, and ids are int64, so decoding could change a large id; the
// patterns return the exact digits. They rely on the fixed format that
// encode() writes (the only writer of cart values).
constexpr std::string_view kTouch = R"lua(
local function touch()
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
end
)lua";
constexpr std::string_view kReaders = R"lua(
local function match_of(v) return string.match(v, '"match_id":(%d+)') end
local function selection_of(v) return string.match(v, '"selection":"([^"]*)"') end
local function stake_of(v) return string.match(v, '"stake":(%d+)') end
local function added_at_of(v) return string.match(v, '"added_at":"([^"]*)"') end
local function odds_at_add_of(v) return string.match(v, '"odds_at_add":(%d+)') or '' end
)lua";
// Whether stored value v is for this match and selection: one plain search
// (encode() writes the two side by side), not two pattern matches.
constexpr std::string_view kPairSearch = R"lua(
local function pair_of(match_id, selection)
  return '"match_id":' .. match_id .. ',"selection":"' .. selection .. '"'
end
local function holds(v, pair) return string.find(v, pair, 1, true) ~= nil end
)lua";
// odds_at_add is integer hundredths, or '' for an item stored before prices
// were remembered (then left out).
constexpr std::string_view kEncode = R"lua(
local function encode(id, match_id, selection, stake, added_at, odds_at_add)
  local tail = odds_at_add ~= '' and (',"odds_at_add":' .. odds_at_add) or ''
  return '{"item_id":' .. id .. ',"match_id":' .. match_id .. ',"selection":"' .. selection ..
         '","stake":' .. stake .. ',"added_at":"' .. added_at .. '"' .. tail .. '}'
end
)lua";

// The first statement of a bettor's write: while the pause key exists (its
// value the pause's end), nothing is written or touched. Skipped without
// KEYS[3]: emptying the cart that a pause is closing, and on a cluster,
// where the pause is read before the script (keys_for_write).
constexpr std::string_view kRefuseWhilePaused = R"lua(
if KEYS[3] then
  local paused_until = redis.call('GET', KEYS[3])
  if paused_until then return {'paused', paused_until} end
end
)lua";

Script cart_script(std::initializer_list<std::string_view> helpers, std::string_view body) {
  std::string text;
  for (std::string_view helper : helpers) text += helper;
  text += body;
  return Script(std::move(text));
}

// ARGV: ttl, max items, match_id, selection, stake, added_at, odds_at_add[, generation].
// With a generation (one Redis only), KEYS[4] must hold it, else nothing is
// written (the caller validated the item against data of that generation).
// -> {'ok', value} | {'duplicate_item'} | {'cart_full'} | {'stale'} | {'paused', until}
const Script& add_script() {
  static const Script script =
      cart_script({kRefuseWhilePaused, kTouch, kPairSearch, kEncode}, R"lua(
if ARGV[8] and redis.call('GET', KEYS[4]) ~= ARGV[8] then return {'stale'} end
local values = redis.call('HVALS', KEYS[1])
local pair = pair_of(ARGV[3], ARGV[4])
for _, v in ipairs(values) do
  if holds(v, pair) then
    touch()
    return {'duplicate_item'}
  end
end
if #values >= tonumber(ARGV[2]) then
  touch()
  return {'cart_full'}
end
local id = string.format('%d', redis.call('INCR', KEYS[2]))
local value = encode(id, ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
redis.call('HSET', KEYS[1], id, value)
touch()
return {'ok', value})lua");
  return script;
}

// ARGV: ttl, item id, new selection or '', new stake or '', new odds_at_add or ''.
// -> {'ok', value} | {'item_not_found'} | {'duplicate_item'} | {'paused', until}
const Script& change_script() {
  static const Script script =
      cart_script({kRefuseWhilePaused, kTouch, kReaders, kPairSearch, kEncode}, R"lua(
local old = redis.call('HGET', KEYS[1], ARGV[2])
if not old then
  touch()
  return {'item_not_found'}
end
local match_id = match_of(old)
local selection = ARGV[3] ~= '' and ARGV[3] or selection_of(old)
local stake = ARGV[4] ~= '' and ARGV[4] or stake_of(old)
if selection ~= selection_of(old) then
  local all = redis.call('HGETALL', KEYS[1])
  local pair = pair_of(match_id, selection)
  for i = 1, #all, 2 do
    if all[i] ~= ARGV[2] and holds(all[i + 1], pair) then
      touch()
      return {'duplicate_item'}
    end
  end
end
local odds_at_add = ARGV[5] ~= '' and ARGV[5] or odds_at_add_of(old)
local value = encode(ARGV[2], match_id, selection, stake, added_at_of(old), odds_at_add)
redis.call('HSET', KEYS[1], ARGV[2], value)
touch()
return {'ok', value})lua");
  return script;
}

// ARGV: ttl. -> HGETALL
const Script& read_script() {
  static const Script script = cart_script({kTouch}, R"lua(
touch()
return redis.call('HGETALL', KEYS[1]))lua");
  return script;
}

// ARGV: ttl, item id. -> value | nil
const Script& find_script() {
  static const Script script = cart_script({kTouch}, R"lua(
touch()
return redis.call('HGET', KEYS[1], ARGV[2]))lua");
  return script;
}

// ARGV: ttl, item id. -> 1 removed | 0 not found | {'paused', until}
const Script& remove_script() {
  static const Script script = cart_script({kRefuseWhilePaused, kTouch}, R"lua(
local removed = redis.call('HDEL', KEYS[1], ARGV[2])
touch()
return removed)lua");
  return script;
}

// ARGV: ttl.
const Script& touch_script() {
  static const Script script = cart_script({kTouch}, R"lua(
touch()
return 1)lua");
  return script;
}

// ARGV: ttl. The counter stays (with a fresh TTL) so ids are not reused.
// -> 1 | {'paused', until} (with KEYS[3])
const Script& clear_script() {
  static const Script script = cart_script({kRefuseWhilePaused, kTouch}, R"lua(
redis.call('DEL', KEYS[1])
touch()
return 1)lua");
  return script;
}

// ARGV: ttl, then item id and expected value pairs. -> number removed
const Script& remove_unchanged_script() {
  static const Script script = cart_script({kTouch}, R"lua(
local removed = 0
for i = 2, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    removed = removed + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
touch()
return removed)lua");
  return script;
}

std::vector<std::string> keys_of(std::int64_t user_id) {
  return {cart_key(user_id), cart_sequence_key(user_id)};
}

// The writes a bettor asks for are refused while a pause closes the cart.
// On one Redis the pause key is a key of their script, so the check and the
// write are one step. On a Redis Cluster it is read alone, just before the
// script (require_open): a script's keys must all sit on one node while
// their slot is being resharded (TRYAGAIN otherwise, for as long as the
// slot's move lasts, which an operator may leave half done), and this one
// rarely exists. A write that read it just before a pause closed the cart
// then lands in the emptied cart, which cannot be checked out while the
// pause runs (checkout debits).
std::vector<std::string> keys_for_write(const Commands& client, std::int64_t user_id) {
  if (client.cluster()) return {cart_key(user_id), cart_sequence_key(user_id)};
  return {cart_key(user_id), cart_sequence_key(user_id), cart_pause_key(user_id)};
}

Status open_unless_paused(const Result<Reply>& paused) {
  if (!paused.ok()) return paused.error();
  if (paused->is_string()) return domain::betting_paused(paused->as_string());
  return Status{};
}

// The cluster's separate read of the pause (keys_for_write).
asio::awaitable<Status> require_open(Commands& client, std::int64_t user_id) {
  // Named, not a temporary inside the co_await: g++ 12 destroys those twice.
  const std::string pause_key = cart_pause_key(user_id);
  co_return open_unless_paused(co_await client.command("GET", pause_key));
}

// A bettor's write refused by kRefuseWhilePaused: {'paused', until}.
std::optional<Error> paused_refusal(const Reply& reply) {
  if (!reply.is_array() || reply.elements().size() != 2) return std::nullopt;
  const Reply& status = reply.elements()[0];
  const Reply& until = reply.elements()[1];
  if (!status.is_string() || status.as_string() != "paused" || !until.is_string()) {
    return std::nullopt;
  }
  return domain::betting_paused(until.as_string());
}

std::string ttl_arg() {
  return std::to_string(kCartTtl.count());
}

// Runs a cart script; a Redis error reply (OOM, BUSY, a script bug) becomes
// service_unavailable, since the cart cannot be used without Redis.
asio::awaitable<Result<Reply>> run_with_keys(Commands& client, const Script& script,
                                             std::int64_t user_id, std::vector<std::string> keys,
                                             std::vector<std::string> args) {
  auto reply = co_await client.eval(script, std::move(keys), std::move(args));
  if (!reply.ok()) co_return std::move(reply).error();
  if (reply->is_error()) {
    spdlog::error("cart script refused for user {}: {}", user_id, reply->as_string());
    co_return Error::unavailable("Redis refused the cart operation; retry later.");
  }
  co_return std::move(reply).value();
}

asio::awaitable<Result<Reply>> run(Commands& client, const Script& script, std::int64_t user_id,
                                   std::vector<std::string> args) {
  // Named, not a temporary inside the co_await (see redis_client.hpp on g++ 12).
  std::vector<std::string> keys = keys_of(user_id);
  co_return co_await run_with_keys(client, script, user_id, std::move(keys), std::move(args));
}

// run() for a bettor's write (keys_for_write): a refusal for the pause
// becomes its error. `keys` are keys_for_write() and then the script's own;
// on a cluster the caller has read the pause already.
asio::awaitable<Result<Reply>> run_unless_paused(Commands& client, const Script& script,
                                                 std::int64_t user_id,
                                                 std::vector<std::string> keys,
                                                 std::vector<std::string> args) {
  auto reply = co_await run_with_keys(client, script, user_id, std::move(keys), std::move(args));
  if (!reply.ok()) co_return std::move(reply).error();
  if (auto refusal = paused_refusal(*reply)) co_return std::move(*refusal);
  co_return std::move(reply).value();
}

Error unexpected(const Reply& reply) {
  return Error::internal("unexpected reply from a cart script: " + reply.describe());
}

Error duplicate_item() {
  return Error::make(Errc::duplicate_item, "This match and selection is already in your cart.");
}

Error item_not_found(std::int64_t item_id) {
  return Error::make(Errc::item_not_found,
                     "Your cart has no item with id " + std::to_string(item_id) + ".");
}

// {'ok', value} -> the item; {'<code>'} -> that error.
Result<CartItem> item_outcome(Reply reply, std::int64_t item_id) {
  if (!reply.is_array() || reply.elements().empty()) return unexpected(reply);
  auto elements = std::move(reply).elements();
  const std::string& status = elements[0].as_string();
  if (status == "ok" && elements.size() == 2) {
    return parse_cart_item(std::move(elements[1]).as_string());
  }
  if (status == "duplicate_item") return duplicate_item();
  if (status == "item_not_found") return item_not_found(item_id);
  if (status == "cart_full") {
    return Error::make(Errc::cart_full, "A cart holds at most " + std::to_string(kMaxCartItems) +
                                            " items; check out or remove some first.");
  }
  return Error::internal("unexpected cart script status: " + status);
}

// The add script's reply. The stored value is encode() of what we sent plus
// the new id, which leads it: only the id needs reading (this runs on every
// add, so the whole value is not parsed again).
Result<CartItem> added_outcome(Reply reply, const NewCartItem& sent) {
  if (!reply.is_array() || reply.elements().size() != 2 || !reply.elements()[0].is_string() ||
      reply.elements()[0].as_string() != "ok") {
    return item_outcome(std::move(reply), 0);
  }
  auto elements = std::move(reply).elements();
  std::string stored = std::move(elements[1]).as_string();
  constexpr std::string_view kLead = R"({"item_id":)";
  std::int64_t id = 0;
  const char* end = stored.data() + stored.size();
  std::from_chars_result parsed{stored.data(), std::errc::invalid_argument};
  if (stored.starts_with(kLead)) parsed = std::from_chars(stored.data() + kLead.size(), end, id);
  if (parsed.ec != std::errc() || parsed.ptr == end || *parsed.ptr != ',') {
    return Error::internal("a cart item is not in its stored form: " + stored);
  }
  CartItem out;
  out.item_id = id;
  out.match_id = sent.match_id;
  out.selection = sent.selection;
  out.stake = sent.stake;
  out.added_at = sent.added_at;
  out.odds_at_add = sent.odds_at_add;
  out.stored = std::move(stored);
  return out;
}

std::optional<std::int64_t> int64_member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_int64()) return std::nullopt;
  return v->get_int64();
}

std::optional<std::string_view> string_member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string());
}

}  // namespace

// The user id is a hash tag: the cart and its counter share a slot, which
// every cart script needs on a Redis Cluster.
std::string cart_key(std::int64_t user_id) {
  return "cart:{" + std::to_string(user_id) + "}";
}

std::string cart_sequence_key(std::int64_t user_id) {
  return cart_key(user_id) + ":seq";
}

std::string cart_pause_key(std::int64_t user_id) {
  return cart_key(user_id) + ":paused";
}

Result<CartItem> parse_cart_item(std::string stored) {
  boost::system::error_code ec;
  json::value parsed = json::parse(stored, ec);
  auto corrupt = [&stored]() {
    return Error::internal("a cart item is not in its stored form: " + stored);
  };
  if (ec || !parsed.is_object()) return corrupt();
  const json::object& o = parsed.get_object();
  auto item_id = int64_member(o, "item_id");
  auto match_id = int64_member(o, "match_id");
  auto selection_text = string_member(o, "selection");
  auto stake = int64_member(o, "stake");
  auto added_at_text = string_member(o, "added_at");
  if (!item_id || !match_id || !selection_text || !stake || !added_at_text) return corrupt();
  auto selection = domain::parse_selection(*selection_text);
  auto added_at = domain::parse_rfc3339(*added_at_text, "added_at");
  if (!selection || !added_at.ok()) return corrupt();
  std::optional<domain::Odds> odds_at_add;
  if (o.contains("odds_at_add")) {
    auto hundredths = int64_member(o, "odds_at_add");
    if (!hundredths) return corrupt();
    auto odds = domain::odds_from_hundredths(*hundredths, "odds_at_add");
    if (!odds.ok()) return corrupt();
    odds_at_add = *odds;
  }
  CartItem item;
  item.item_id = *item_id;
  item.match_id = *match_id;
  item.selection = *selection;
  item.stake = domain::Money(*stake);
  item.added_at = *added_at;
  item.odds_at_add = odds_at_add;
  item.stored = std::move(stored);
  return item;
}

asio::awaitable<Result<CartContents>> read_cart(Commands& client, std::int64_t user_id) {
  std::vector<std::string> args{ttl_arg()};
  auto reply = co_await run(client, read_script(), user_id, std::move(args));
  if (!reply.ok()) co_return std::move(reply).error();
  const Reply& fields = *reply;
  if (!fields.is_array() || fields.elements().size() % 2 != 0) co_return unexpected(*reply);

  CartContents out;
  const auto& flat = fields.elements();
  out.items.reserve(flat.size() / 2);
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
    auto item = parse_cart_item(flat[i + 1].as_string());
    if (!item.ok()) co_return std::move(item).error();
    out.items.push_back(std::move(item).value());
  }
  std::sort(out.items.begin(), out.items.end(),
            [](const CartItem& a, const CartItem& b) { return a.item_id < b.item_id; });
  // The script has just reset the TTL, so the time left is the whole TTL.
  // (A PTTL after it would read Redis's clock again, and in Redis 7.0 a
  // millisecond can pass inside one script.)
  out.expires_in = kCartTtl;
  co_return out;
}

asio::awaitable<Result<std::optional<CartItem>>> find_cart_item(Commands& client,
                                                                std::int64_t user_id,
                                                                std::int64_t item_id) {
  std::vector<std::string> args{ttl_arg(), std::to_string(item_id)};
  auto reply = co_await run(client, find_script(), user_id, std::move(args));
  if (!reply.ok()) co_return std::move(reply).error();
  if (reply->is_nil()) co_return std::optional<CartItem>{};
  if (!reply->is_string()) co_return unexpected(*reply);
  auto item = parse_cart_item(std::move(reply).value().as_string());
  if (!item.ok()) co_return std::move(item).error();
  co_return std::optional<CartItem>{std::move(item).value()};
}

asio::awaitable<Result<CartItem>> add_cart_item(CommandsPtr client, std::int64_t user_id,
                                                const NewCartItem& item) {
  auto added = co_await add_cart_item_if(client, user_id, item, nullptr);
  if (!added.ok()) co_return std::move(added).error();
  if (!*added) co_return Error::internal("the cart refused an unconditional add as stale");
  co_return std::move(**added);
}

asio::awaitable<Result<std::optional<CartItem>>> add_cart_item_if(CommandsPtr client,
                                                                  std::int64_t user_id,
                                                                  const NewCartItem& item,
                                                                  const KeyHolds* precondition) {
  if (precondition && client->cluster()) {
    // The precondition's key lives in another slot, which the script may not
    // touch: it is read first, with the pause (keys_for_write), usually from
    // the shard's kept counters (cache.hpp, read_counter). A change between
    // the read and the write is then missed, as a change between reading a
    // match from PostgreSQL and adding it would be; checkout validates every
    // item again anyway.
    using namespace asio::experimental::awaitable_operators;
    // Named, not temporaries inside the co_await: g++ 12 destroys those twice.
    const std::string pause_key = cart_pause_key(user_id);
    auto read_pause = client->command("GET", pause_key);
    auto read_current = read_counter(client, precondition->key);
    auto [paused, current] = co_await (std::move(read_pause) && std::move(read_current));
    if (auto open = open_unless_paused(paused); !open.ok()) co_return open.error();
    if (!current.ok()) co_return std::move(current).error();
    if (*current != precondition->value) co_return std::optional<CartItem>{};
  } else if (client->cluster()) {
    if (auto open = co_await require_open(*client, user_id); !open.ok()) co_return open.error();
  }
  std::vector<std::string> args{ttl_arg(),
                                std::to_string(kMaxCartItems),
                                std::to_string(item.match_id),
                                std::string(domain::to_string(item.selection)),
                                std::to_string(item.stake.cents()),
                                domain::format_rfc3339(item.added_at),
                                std::to_string(item.odds_at_add.hundredths())};
  std::vector<std::string> keys = keys_for_write(*client, user_id);
  if (precondition && !client->cluster()) {
    keys.push_back(precondition->key);
    args.push_back(precondition->value);
  }
  auto reply =
      co_await run_unless_paused(*client, add_script(), user_id, std::move(keys), std::move(args));
  if (!reply.ok()) co_return std::move(reply).error();
  if (reply->is_array() && reply->elements().size() == 1 && reply->elements()[0].is_string() &&
      reply->elements()[0].as_string() == "stale") {
    co_return std::optional<CartItem>{};
  }
  auto outcome = added_outcome(std::move(reply).value(), item);
  if (!outcome.ok()) co_return std::move(outcome).error();
  co_return std::optional<CartItem>{std::move(outcome).value()};
}

asio::awaitable<Result<CartItem>> change_cart_item(Commands& client, std::int64_t user_id,
                                                   std::int64_t item_id,
                                                   const CartItemChange& change) {
  std::vector<std::string> args{
      ttl_arg(), std::to_string(item_id),
      change.selection ? std::string(domain::to_string(*change.selection)) : std::string(),
      change.stake ? std::to_string(change.stake->cents()) : std::string(),
      change.odds_at_add ? std::to_string(change.odds_at_add->hundredths()) : std::string()};
  if (client.cluster()) {
    if (auto open = co_await require_open(client, user_id); !open.ok()) co_return open.error();
  }
  std::vector<std::string> keys = keys_for_write(client, user_id);
  auto reply = co_await run_unless_paused(client, change_script(), user_id, std::move(keys),
                                          std::move(args));
  if (!reply.ok()) co_return std::move(reply).error();
  co_return item_outcome(std::move(reply).value(), item_id);
}

asio::awaitable<Status> remove_cart_item(Commands& client, std::int64_t user_id,
                                         std::int64_t item_id) {
  std::vector<std::string> args{ttl_arg(), std::to_string(item_id)};
  if (client.cluster()) {
    if (auto open = co_await require_open(client, user_id); !open.ok()) co_return open.error();
  }
  std::vector<std::string> keys = keys_for_write(client, user_id);
  auto reply = co_await run_unless_paused(client, remove_script(), user_id, std::move(keys),
                                          std::move(args));
  if (!reply.ok()) co_return std::move(reply).error();
  if (!reply->is_integer()) co_return unexpected(*reply);
  if (reply->as_integer() == 0) co_return item_not_found(item_id);
  co_return Status{};
}

asio::awaitable<Status> touch_cart(Commands& client, std::int64_t user_id) {
  std::vector<std::string> args{ttl_arg()};
  auto reply = co_await run(client, touch_script(), user_id, std::move(args));
  if (!reply.ok()) co_return std::move(reply).error();
  co_return Status{};
}

asio::awaitable<Status> clear_cart(Commands& client, std::int64_t user_id) {
  std::vector<std::string> args{ttl_arg()};
  if (client.cluster()) {
    if (auto open = co_await require_open(client, user_id); !open.ok()) co_return open.error();
  }
  std::vector<std::string> keys = keys_for_write(client, user_id);
  auto reply =
      co_await run_unless_paused(client, clear_script(), user_id, std::move(keys), std::move(args));
  if (!reply.ok()) co_return std::move(reply).error();
  co_return Status{};
}

namespace {

// Closes the cart until ARGV[2] (Unix ms; ARGV[1] the same as RFC 3339),
// unless it is closed until later already: a time-out taken during a
// self-exclusion ends first, and must not reopen the cart when it does.
const Script& pause_close_script() {
  static const Script script(R"lua(
if redis.call('PEXPIRETIME', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
return 1)lua");
  return script;
}

}  // namespace

asio::awaitable<Status> close_cart_for_pause(Commands& client, std::int64_t user_id,
                                             domain::Timestamp until) {
  // Closed first, then emptied: a write that ran before the close is emptied
  // after it. On one Redis every write after it is refused
  // (kRefuseWhilePaused); on a cluster, one that read the pause just before
  // the close may still land in the emptied cart (keys_for_write).
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(until.time_since_epoch()).count();
  std::vector<std::string> keys{cart_pause_key(user_id)};
  std::vector<std::string> close_args{domain::format_rfc3339(until), std::to_string(millis)};
  auto closed = co_await client.eval(pause_close_script(), std::move(keys), std::move(close_args));
  if (!closed.ok()) co_return std::move(closed).error();
  if (closed->is_error()) co_return Error::unavailable("Redis refused to close the cart.");
  std::vector<std::string> args{ttl_arg()};
  auto reply = co_await run(client, clear_script(), user_id, std::move(args));
  if (!reply.ok()) co_return std::move(reply).error();
  co_return Status{};
}

asio::awaitable<Result<std::size_t>> remove_checked_out(Commands& client, std::int64_t user_id,
                                                        std::span<const CartItem> items) {
  std::vector<std::string> args;
  args.reserve(1 + 2 * items.size());
  args.push_back(ttl_arg());
  for (const auto& item : items) {
    args.push_back(std::to_string(item.item_id));
    args.push_back(item.stored);
  }
  auto reply = co_await run(client, remove_unchanged_script(), user_id, std::move(args));
  if (!reply.ok()) co_return std::move(reply).error();
  if (!reply->is_integer()) co_return unexpected(*reply);
  co_return static_cast<std::size_t>(reply->as_integer());
}

}  // namespace betsdb::redis

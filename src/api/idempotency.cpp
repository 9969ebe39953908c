#include "api/idempotency.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "api/query_params.hpp"
#include "store/redis/lock.hpp"
#include "util/token.hpp"

namespace betsdb::api {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxKeyLength = 255;

// Claims the record, or returns what it holds. Values:
//   "R <fingerprint> <token>"            the first request is running
//   "D <fingerprint> <status>\n<body>"   its final answer
const redis::Script& claim_script() {
  static const redis::Script script(R"lua(
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false)lua");
  return script;
}

void write_canonical(const json::value& v, std::string& out) {
  if (v.is_object()) {
    const auto& object = v.get_object();
    std::vector<const json::key_value_pair*> members;
    members.reserve(object.size());
    for (const auto& kv : object) members.push_back(&kv);
    std::sort(members.begin(), members.end(),
              [](auto* a, auto* b) { return a->key() < b->key(); });
    out += '{';
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i > 0) out += ',';
      out += json::serialize(json::string(members[i]->key()));
      out += ':';
      write_canonical(members[i]->value(), out);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    bool first = true;
    for (const auto& e : v.get_array()) {
      if (!first) out += ',';
      first = false;
      write_canonical(e, out);
    }
    out += ']';
  } else if (v.is_double()) {
    // 2.1 and 2.10 are the same number: compare values, not spellings.
    out += json::serialize(json::value(v.get_double()));
  } else {
    out += json::serialize(v);
  }
}

bool valid_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyLength) return false;
  return std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

http::Response replay(std::string_view record) {
  // "D <fingerprint> <status>\n<body>"
  const auto newline = record.find('\n');
  const auto space = record.rfind(' ', newline);
  http::Response response;
  response.status = std::stoi(std::string(record.substr(space + 1, newline - space - 1)));
  response.body = std::string(record.substr(newline + 1));
  if (response.status >= 400) response.content_type = "application/problem+json";
  if (response.body.empty()) response.content_type.clear();
  response.headers.push_back({"idempotent-replayed", "true"});
  return response;
}

std::string_view fingerprint_of(std::string_view record) {
  // The second word of either form.
  const auto start = record.find(' ') + 1;
  const auto end = record.find_first_of(" \n", start);
  return record.substr(start, end - start);
}

// Stripe's rule: an answer is kept only once the route began acting. A 5xx
// (an outage), a clash with a request still running, or a request refused
// before it could act (unreadable, malformed, invalid) leaves no record, so
// the client may fix it and retry with the same key.
bool is_final(const http::Response& response, const IdempotentRoute& route) {
  if (response.status >= 500) return false;
  if (response.status < 400) return true;
  for (Errc code : {route.in_progress, Errc::invalid_json, Errc::unsupported_media_type,
                    Errc::validation_failed, Errc::invalid_parameter}) {
    std::string needle = "\"code\":\"";
    needle += code_name(code);
    needle += '"';
    if (response.body.find(needle) != std::string::npos) return false;
  }
  return true;
}

}  // namespace

std::string body_fingerprint(std::string_view body) {
  std::string canonical;
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec) {
    canonical = "raw:";
    canonical += body;
  } else {
    canonical = "json:";
    write_canonical(parsed, canonical);
  }
  return to_hex(sha256(canonical));
}

asio::awaitable<http::Response> idempotent(ApiShard& shard, const http::Request& request,
                                           std::int64_t user_id, IdempotentRoute route,
                                           Action action) {
  auto key = request.header("idempotency-key");
  if (!key) co_return co_await action();
  if (!valid_key(*key)) {
    co_return error_response(invalid_parameter(
        "Idempotency-Key", "must be 1 to 255 printable ASCII characters"));
  }

  const std::string record_key = "idem:" + std::to_string(user_id) + ":" + std::string(route.name) +
                                 ":" + to_hex(sha256(*key));
  const std::string fingerprint = body_fingerprint(request.body);
  const std::string claim = "R " + fingerprint + " " + generate_token();
  const std::string claim_ms =
      std::to_string(std::chrono::milliseconds(kIdempotencyClaimTtl).count());

  std::vector<std::string> keys{record_key};
  std::vector<std::string> args{claim, claim_ms};
  auto existing = co_await shard.ctx.redis->eval(claim_script(), std::move(keys), std::move(args));
  if (!existing.ok() || existing->is_error()) {
    co_return error_response(Error::unavailable(
        "Idempotency keys need Redis, which is not answering; retry later or send no key."));
  }
  if (existing->is_string()) {
    const std::string& record = existing->as_string();
    if (fingerprint_of(record) != fingerprint) {
      co_return error_response(Error::make(
          Errc::idempotency_key_reused,
          "This Idempotency-Key was used with a different request body."));
    }
    if (record.starts_with("R ")) {
      co_return error_response(
          Error::make(route.in_progress, "A request with this Idempotency-Key is still running."));
    }
    co_return replay(record);
  }

  // We hold the claim. Whatever happens, it must end as an answer or be dropped.
  const redis::LockToken claim_token{record_key, claim};
  http::Response response;
  try {
    response = co_await action();
  } catch (...) {
    asio::co_spawn(shard.ctx.redis->executor(),
                   [redis = shard.ctx.redis, claim_token]() -> asio::awaitable<void> {
                     co_await redis::unlock(*redis, claim_token);
                   },
                   asio::detached);
    throw;
  }
  if (!is_final(response, route)) {
    auto dropped = co_await redis::unlock(*shard.ctx.redis, claim_token);
    if (!dropped.ok()) spdlog::warn("idempotency claim {} not dropped; it expires", record_key);
    co_return response;
  }
  const std::string answer =
      "D " + fingerprint + " " + std::to_string(response.status) + "\n" + response.body;
  const std::string keep_ms =
      std::to_string(std::chrono::milliseconds(kIdempotencyRetention).count());
  auto stored = co_await shard.ctx.redis->command("SET", record_key, answer, "PX", keep_ms);
  if (!stored.ok() || !stored->is_ok()) {
    // The action happened; say so. A retry within the claim's TTL gets 409,
    // later ones run again and meet the database's duplicate guard.
    spdlog::warn("idempotency answer for {} not stored", record_key);
  }
  co_return response;
}

}  // namespace betsdb::api

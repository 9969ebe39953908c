#include "api/idempotency.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "api/query_params.hpp"
#include "service/idempotency.hpp"
#include "util/token.hpp"

namespace betsdb::api {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxKeyLength = 255;

constexpr double kExactDoubleIntegers = 9007199254740992.0;  // 2^53

void write_canonical(const json::value& v, std::string& out) {
  if (v.is_object()) {
    const auto& object = v.get_object();
    std::vector<const json::key_value_pair*> members;
    members.reserve(object.size());
    for (const auto& kv : object) members.push_back(&kv);
    std::sort(members.begin(), members.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
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
    // 2.1 and 2.10 are the same number, and so are 2 and 2.0 (an integer
    // when parsed): compare values, not spellings. Up to 2^53 a whole double
    // is exactly that integer.
    const double d = v.get_double();
    if (std::trunc(d) == d && std::fabs(d) <= kExactDoubleIntegers) {
      out += std::to_string(static_cast<std::int64_t>(d));
    } else {
      out += json::serialize(json::value(d));
    }
  } else {
    out += json::serialize(v);
  }
}

bool valid_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyLength) return false;
  return std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

http::Response replay(service::RecordedAnswer answer) {
  http::Response response;
  response.status = answer.status;
  response.body = std::move(answer.body);
  if (response.status >= 400) response.content_type = "application/problem+json";
  if (response.body.empty()) response.content_type.clear();
  response.headers.push_back({"idempotent-replayed", "true"});
  return response;
}

// Stripe's rule: an answer is kept only once the route began acting. A 5xx
// (an outage), a clash with a request still running, or a request refused
// before it could act (unreadable, malformed, invalid) leaves no record, so
// the client may fix it and retry with the same key. So does a running
// pause, whether the route or the placing statement met it (one that began
// while the request was on its way): the bettor retries once it has ended.
bool is_final(const Result<http::Response>& outcome, const IdempotentRoute& route) {
  if (outcome.ok()) return outcome->status < 500;
  const Errc code = outcome.error().code;
  if (http_status(code) >= 500) return false;
  for (Errc before_acting :
       {route.in_progress, Errc::invalid_json, Errc::unsupported_media_type,
        Errc::validation_failed, Errc::invalid_parameter, Errc::self_excluded}) {
    if (code == before_acting) return false;
  }
  return true;
}

http::Response response_of(Result<http::Response> outcome) {
  if (outcome.ok()) return std::move(outcome).value();
  return error_response(outcome.error());
}

}  // namespace

std::string body_fingerprint(std::string_view body) {
  // The contract: no body is the same request as {}.
  if (body.empty()) body = "{}";
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

Result<std::optional<std::string_view>> idempotency_key(const http::Request& request) {
  auto key = request.header("idempotency-key");
  if (!key) return std::optional<std::string_view>{};
  if (!valid_key(*key)) {
    return invalid_parameter("Idempotency-Key", "must be 1 to 255 printable ASCII characters");
  }
  return std::optional<std::string_view>{*key};
}

asio::awaitable<http::Response> idempotent(ApiShard& shard, const http::Request& request,
                                           std::int64_t user_id, IdempotentRoute route,
                                           Action action) {
  auto header = idempotency_key(request);
  if (!header.ok()) co_return error_response(header.error());
  if (!*header) co_return response_of(co_await action());
  const std::string_view key = **header;

  const std::string fingerprint = body_fingerprint(request.body);
  const service::IdempotentRequest idempotent_request{user_id, route.name, key, fingerprint};
  auto claim = co_await service::claim_idempotency_key(shard.ctx, idempotent_request);
  if (!claim.ok()) co_return error_response(claim.error());
  switch (claim->kind) {
    case service::IdempotencyClaim::Kind::reused:
      co_return error_response(
          Error::make(Errc::idempotency_key_reused,
                      "This Idempotency-Key was used with a different request body."));
    case service::IdempotencyClaim::Kind::in_progress:
      co_return error_response(
          Error::make(route.in_progress, "A request with this Idempotency-Key is still running."));
    case service::IdempotencyClaim::Kind::replay:
      co_return replay(std::move(*claim->answer));
    case service::IdempotencyClaim::Kind::claimed:
      break;
  }

  // We hold the claim: it ends as the answer, or is dropped (by the guard,
  // on every other path, exceptions included).
  service::HeldLock held = std::move(*claim->claim);
  auto outcome = co_await action();
  const bool final = is_final(outcome, route);
  http::Response response = response_of(std::move(outcome));
  if (!final) {
    (void)co_await held.release();  // a failed drop is logged; the claim expires
    co_return response;
  }
  // Named, not a temporary in the co_await: g++ 12 destroys such temporaries twice.
  service::RecordedAnswer answer{response.status, response.body};
  co_await service::record_answer(shard.ctx, std::move(held), fingerprint, std::move(answer));
  co_return response;
}

}  // namespace betsdb::api

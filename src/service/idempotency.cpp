#include "service/idempotency.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <charconv>

#include "service/retry_later.hpp"
#include "util/token.hpp"

namespace betsdb::service {

namespace asio = boost::asio;

namespace {

// Record values:
//   "R <fingerprint> <token>"            the first request is running
//   "D <fingerprint> <status>\n<body>"   its final answer
std::string_view fingerprint_of(std::string_view record) {
  const auto start = record.find(' ') + 1;
  const auto end = record.find_first_of(" \n", start);
  return record.substr(start, end - start);
}

std::optional<RecordedAnswer> answer_of(std::string_view record) {
  const auto newline = record.find('\n');
  if (newline == std::string_view::npos) return std::nullopt;
  const auto space = record.rfind(' ', newline);
  if (space == std::string_view::npos) return std::nullopt;
  RecordedAnswer answer;
  const char* first = record.data() + space + 1;
  const char* last = record.data() + newline;
  if (std::from_chars(first, last, answer.status).ptr != last) return std::nullopt;
  answer.body = std::string(record.substr(newline + 1));
  return answer;
}

std::string answer_record(std::string_view fingerprint, const RecordedAnswer& answer) {
  std::string record = "D ";
  record += fingerprint;
  record += ' ';
  record += std::to_string(answer.status);
  record += '\n';
  record += answer.body;
  return record;
}

// Until Redis takes the answer, or someone else's record is found (our claim
// lapsed and another request claimed the key), or the record's retention
// would be over anyway.
asio::awaitable<void> store_answer_later(std::shared_ptr<IdempotencyStore> store, std::string key,
                                         std::string claim, std::string record) {
  const bool stored = co_await retry_later(
      [&]() -> asio::awaitable<bool> {
        auto answered = co_await store->answer(key, claim, record, kIdempotencyRetention);
        co_return answered.ok();
      },
      RetryPlan{.give_up_after = kIdempotencyRetention});
  if (stored) spdlog::info("idempotency answer for {} stored after a retry", key);
}

}  // namespace

std::string idempotency_record_key(std::int64_t user_id, std::string_view route,
                                   std::string_view key) {
  std::string record_key = "idem:";
  record_key += std::to_string(user_id);
  record_key += ':';
  record_key += route;
  record_key += ':';
  record_key += to_hex(sha256(key));
  return record_key;
}

Async<IdempotencyClaim> claim_idempotency_key(Context& ctx, const IdempotentRequest& request) {
  std::string record_key = idempotency_record_key(request.user_id, request.route, request.key);
  std::string claim = "R ";
  claim += request.fingerprint;
  claim += ' ';
  claim += generate_token();
  auto existing = co_await ctx.idempotency->claim(
      record_key, claim,
      std::chrono::duration_cast<std::chrono::milliseconds>(kIdempotencyClaimTtl));
  if (!existing.ok()) {
    // A claim Redis may have written without its answer reaching us would
    // tell the client's retry "in progress" until it expired.
    release_in_background(
        ctx.locks, LockToken{std::move(record_key), std::move(claim)},
        std::chrono::duration_cast<std::chrono::milliseconds>(kIdempotencyClaimTtl));
    co_return Error::unavailable(
        "Idempotency keys need Redis, which is not answering; retry later or send no key.");
  }
  IdempotencyClaim out;
  if (!*existing) {
    out.kind = IdempotencyClaim::Kind::claimed;
    out.claim.emplace(ctx.locks, LockToken{std::move(record_key), std::move(claim)},
                      std::chrono::duration_cast<std::chrono::milliseconds>(kIdempotencyClaimTtl));
    co_return out;
  }
  const std::string& record = **existing;
  if (fingerprint_of(record) != request.fingerprint) {
    out.kind = IdempotencyClaim::Kind::reused;
  } else if (record.starts_with("R ")) {
    out.kind = IdempotencyClaim::Kind::in_progress;
  } else if (auto answer = answer_of(record)) {
    out.kind = IdempotencyClaim::Kind::replay;
    out.answer = std::move(answer);
  } else {
    co_return Error::internal("unreadable idempotency record under " + record_key);
  }
  co_return out;
}

asio::awaitable<void> record_answer(Context& ctx, HeldLock claim, std::string_view fingerprint,
                                    RecordedAnswer answer) {
  const std::string record = answer_record(fingerprint, answer);
  const LockToken token = claim.token();
  // From here the claim is only ever replaced by the answer, never dropped.
  claim.keep();
  auto stored =
      co_await ctx.idempotency->answer(token.key, token.token, record, kIdempotencyRetention);
  if (stored.ok()) co_return;
  spdlog::warn("idempotency answer for {} not stored ({}); the claim stays and it is retried",
               token.key, stored.error().detail);
  auto executor = co_await asio::this_coro::executor;
  asio::co_spawn(executor, store_answer_later(ctx.idempotency, token.key, token.token, record),
                 asio::detached);
}

}  // namespace betsdb::service

// Signing in and out (docs/api.md, "Sessions").
#include <cctype>
#include <string>
#include <string_view>

#include "api/api_shard.hpp"
#include "api/json_input.hpp"
#include "api/query_params.hpp"
#include "api/views.hpp"
#include "domain/text.hpp"
#include "http/client_address.hpp"
#include "service/accounts.hpp"

namespace betsdb::api {

namespace asio = boost::asio;
using http::Request;
using http::Response;

namespace {

std::string lowered_and_trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view role_of(const domain::Account& account) {
  return account.is_operator() ? domain::to_string(account.role) : "user";
}

asio::awaitable<Response> sign_in(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  auto body = json_object_body(req);
  if (!body.ok()) co_return error_response(body.error());
  FieldReader fields(*body);
  auto email = fields.required_string("email");
  auto password = fields.required_string("password");
  // Any email is looked up (an unknown one fails like a wrong password), in
  // the normalised form sign-up stores. A string sign-up would not take as
  // an address names no account: it fails as an unknown email does (401,
  // counted toward the lock-out), not as a malformed body (docs/api.md).
  std::string normalised;
  if (email) {
    auto normal = domain::normalize_email(*email);
    normalised = normal.ok() ? std::move(*normal) : lowered_and_trimmed(*email);
  }
  if (auto s = fields.finish(); !s.ok()) co_return error_response(s.error());

  auto signed_in = co_await service::sign_in(shard.ctx, normalised, std::move(*password),
                                             http::client_block(req.client_address));
  if (!signed_in.ok()) co_return error_response(signed_in.error());
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("token", signed_in->token);
  w.field(signed_in->account.is_operator() ? "operator_id" : "user_id", signed_in->account.id);
  w.field("role", role_of(signed_in->account))
      .field("expires_at", domain::format_rfc3339(signed_in->expires_at))
      .end_object();
  co_return json_response(201, std::move(out));
}

asio::awaitable<Response> sign_out(ApiShard& shard, Request& req) {
  if (auto q = QueryParams::parse(req.query, {}); !q.ok()) co_return error_response(q.error());
  if (req.principal.is_owner()) {
    co_return error_response(Error::make(
        Errc::forbidden, "The configured admin token cannot be revoked; rotate it instead."));
  }
  // signed_in let the request in, so it carries a well-formed bearer token.
  const Digest digest = sha256(bearer_token(req).value_or(""));
  const std::string account = revocation_account(req.principal);
  auto revoked = co_await service::sign_out(shard.ctx, account, digest);
  if (!revoked.ok()) co_return error_response(revoked.error());
  shard.auth.forget(digest);
  if (!*revoked) {
    // Revoked by a concurrent request since this one was let in.
    co_return error_response(Error::make(Errc::unauthorized, "The bearer token is not valid."));
  }
  co_return Response::no_content();
}

}  // namespace

void add_session_routes(http::Router& router, ApiShard& shard) {
  auto bind = [&shard](asio::awaitable<Response> (*fn)(ApiShard&, Request&)) {
    return [&shard, fn](Request& req) { return fn(shard, req); };
  };
  router.add({http::Method::post, "/v1/sessions", anyone(shard.auth), bind(sign_in)});
  router.add({http::Method::del, "/v1/sessions/current", signed_in(shard.auth), bind(sign_out)});
}

}  // namespace betsdb::api

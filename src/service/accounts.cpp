#include "service/accounts.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <string_view>

#include "service/password_pool.hpp"
#include "service/retry_later.hpp"
#include "util/password.hpp"

namespace betsdb::service {

namespace {

std::string sign_in_key(const std::string& email) {
  return "signin:{" + to_hex(sha256(email)) + "}";
}

std::int64_t seconds_left(std::chrono::milliseconds remaining) {
  return std::chrono::ceil<std::chrono::seconds>(remaining).count();
}

// A revocation committed whose mark Redis did not take: marked later, until
// Redis takes it or no process could still trust the token by memory
// (kTokenTrust), so that they hear of it without the client's retry.
boost::asio::awaitable<void> mark_revoked_later(std::shared_ptr<AccessLimits> access,
                                                std::string account, Digest digest) {
  const bool marked = co_await retry_later(
      [&]() -> boost::asio::awaitable<bool> {
        auto done = co_await access->mark_revoked(account, digest, kRevocationMarkLife);
        co_return done.ok();
      },
      RetryPlan{.give_up_after = kTokenTrust});
  if (marked) spdlog::info("a revoked token of {} was marked after a retry", account);
}

Error invalid_credentials() {
  return Error::make(Errc::invalid_credentials, "The email or the password is wrong.");
}

Error email_taken() {
  return Error::make(Errc::email_taken, "An account with this email already exists.");
}

// Counts an attempt as a failure before its password is checked (uncounted
// by not_a_failure if it is not one), so that attempts made side by side (a
// password check takes tens of milliseconds) cannot all pass a count read
// before any was counted. Refused with `refusal` once `limit` are counted in
// the window.
Async<void> count_attempt(Context& ctx, const std::string& key, std::int64_t limit,
                          std::string_view refusal) {
  auto attempt = co_await ctx.access->take(key, limit, kSignInWindow);
  if (!attempt.ok()) co_return std::move(attempt).error();
  if (!attempt->taken) {
    co_return Error::rate_limited(seconds_left(attempt->window.remaining), std::string(refusal));
  }
  co_return Status{};
}

// The attempt was counted before its password was checked; one that turns
// out not to be a failure is uncounted. Redis failing here leaves it counted
// (a failure too many, until the window ends), never the other way round.
boost::asio::awaitable<void> not_a_failure(Context& ctx, const std::string& key) {
  auto given_back = co_await ctx.access->give_back(key);
  if (!given_back.ok()) {
    spdlog::warn("a sign-in attempt stays counted as a failure ({})", given_back.error().detail);
  }
}

}  // namespace

Async<SignedIn> sign_in(Context& ctx, const std::string& email, std::string password,
                        const std::string& client) {
  // Held until the answer, so that one client's flood is refused before it
  // costs Redis, the database or a place in the password queue.
  const auto turn = ctx.passwords->enter(client);
  if (!turn) {
    co_return Error::rate_limited(
        1, "Too many sign-ins from this address at once; try again in a moment.");
  }
  const std::string key = sign_in_key(email);
  auto counted = co_await count_attempt(
      ctx, key, kSignInFailureLimit, "Too many failed sign-ins for this email; try again later.");
  if (!counted.ok()) co_return std::move(counted).error();
  auto found = co_await ctx.accounts->credentials(email);
  if (!found.ok()) {
    co_await not_a_failure(ctx, key);
    co_return std::move(found).error();
  }
  // An unknown email (or an account without a password) is checked against
  // the decoy, so the answer takes as long as a wrong password's.
  const bool known = *found && !(*found)->password_hash.empty();
  std::string hash = known ? (*found)->password_hash : decoy_password_hash();
  auto matches = co_await ctx.passwords->verify(std::move(hash), std::move(password));
  if (!matches.ok()) {
    co_await not_a_failure(ctx, key);
    co_return std::move(matches).error();
  }
  if (!known || !*matches) co_return invalid_credentials();  // the attempt stays counted
  SignedIn out{generate_token(), (*found)->account, ctx.now() + domain::kSessionLifetime};
  auto added = co_await ctx.accounts->add_session(sha256(out.token), out.account,
                                                  (*found)->password_hash, out.expires_at);
  if (!added.ok()) {
    co_await not_a_failure(ctx, key);
    co_return std::move(added).error();
  }
  // An operator disabled, or a password changed, while the password was
  // checked: refused, and counted, as a sign-in with that password would be.
  if (!*added) co_return invalid_credentials();
  co_await not_a_failure(ctx, key);
  co_return out;
}

namespace {

// After the revocation's commit, before the answer: a process that still
// remembers the token sees the mark on its next use of it. A mark Redis did
// not take is retried in the background, and the caller answers the error.
Async<void> mark_revoked_or_retry(Context& ctx, const std::string& account, const Digest& digest) {
  auto marked = co_await ctx.access->mark_revoked(account, digest, kRevocationMarkLife);
  if (!marked.ok()) {
    spdlog::warn("a revoked token of {} is not marked yet ({}); retried", account,
                 marked.error().detail);
    auto executor = co_await boost::asio::this_coro::executor;
    boost::asio::co_spawn(executor, mark_revoked_later(ctx.access, account, digest),
                          boost::asio::detached);
    co_return std::move(marked).error();
  }
  co_return Status{};
}

Error account_not_found(const domain::Account& account) {
  const std::string id = std::to_string(account.id);
  if (account.is_operator()) {
    return Error::make(Errc::operator_not_found, "No operator with id " + id + ".");
  }
  return Error::make(Errc::user_not_found, "No user with id " + id + ".");
}

Error wrong_password() {
  return Error::make(Errc::wrong_password, "The current password is wrong.");
}

// Wrong current passwords one token may send in a window before its next
// password change is refused: a stolen token guesses no faster than the
// sign-in form. Counted per token, not per email, so that nobody else (the
// thief of another token, anyone who fills the email's sign-in lock-out)
// can stop the holder from changing the password.
constexpr std::int64_t kPasswordCheckLimit = kSignInFailureLimit;

std::string password_check_key(const Digest& token) {
  return "pwcheck:{" + to_hex(token) + "}";
}

// The holder's proof of the password on file.
Async<void> check_current_password(Context& ctx, const domain::Credentials& on_file,
                                   const std::optional<std::string>& current,
                                   const Digest& asked_with) {
  if (on_file.password_hash.empty()) co_return Status{};  // nothing to prove
  if (!current) {
    co_return Error::validation("current_password", "is required: the account has a password");
  }
  const std::string key = password_check_key(asked_with);
  auto counted =
      co_await count_attempt(ctx, key, kPasswordCheckLimit,
                             "Too many wrong passwords from this sign-in; try again later.");
  if (!counted.ok()) co_return std::move(counted).error();
  auto matches = co_await ctx.passwords->verify(on_file.password_hash, *current);
  if (!matches.ok()) {
    co_await not_a_failure(ctx, key);
    co_return std::move(matches).error();
  }
  if (!*matches) co_return wrong_password();  // the attempt stays counted
  co_await not_a_failure(ctx, key);
  co_return Status{};
}

}  // namespace

Async<void> change_password(Context& ctx, PasswordChangeRequest request, const domain::Actor& actor,
                            const std::string& client) {
  // Only an operator's password is ever reset; a bettor's is theirs alone.
  if (!request.by_holder && !request.account.is_operator()) {
    co_return Error::make(Errc::forbidden, "Only the account's holder may change this password.");
  }
  if (request.by_holder && !request.asked_with) {
    co_return Error::internal("a holder's password change without the token it was asked with");
  }
  const auto turn = ctx.passwords->enter(client);
  if (!turn) {
    co_return Error::rate_limited(
        1, "Too many password checks from this address at once; try again in a moment.");
  }
  auto on_file = co_await ctx.accounts->password(request.account);
  if (!on_file.ok()) co_return std::move(on_file).error();
  if (!*on_file) co_return account_not_found(request.account);
  domain::PasswordChange change;
  change.account = request.account;
  if (request.by_holder) {
    auto proven =
        co_await check_current_password(ctx, **on_file, request.current, *request.asked_with);
    if (!proven.ok()) co_return std::move(proven).error();
    change.expected_hash = (*on_file)->password_hash;
    change.kept_session = request.asked_with;
  }
  auto hashed = co_await ctx.passwords->hash(std::move(request.new_password));
  if (!hashed.ok()) co_return std::move(hashed).error();
  change.new_hash = std::move(*hashed);
  auto ended = co_await ctx.accounts->change_password(change, actor, kRevocationMarkLife);
  if (!ended.ok()) co_return std::move(ended).error();
  // The holder proved a password that another change replaced meanwhile (or
  // the operator was disabled meanwhile).
  if (!*ended) {
    if (request.by_holder) co_return wrong_password();
    co_return account_not_found(request.account);
  }
  // Committed: the answer says so whatever Redis does. A mark Redis did not
  // take is retried in the background (mark_revoked_or_retry); until it
  // lands, a process that verified one of these tokens within kTokenTrust
  // may still accept it (docs/api.md says so). A 503 here would leave the
  // client unable to tell a change made from one not made.
  const std::string account = domain::account_name(request.account);
  for (const Digest& digest : **ended) (void)co_await mark_revoked_or_retry(ctx, account, digest);
  co_return Status{};
}

Async<bool> sign_out(Context& ctx, const std::string& account, const Digest& digest) {
  auto revoked = co_await ctx.accounts->revoke(digest);
  if (!revoked.ok()) co_return std::move(revoked).error();
  // Marked also when this call found it revoked already: it may be the retry
  // of a sign-out whose mark failed.
  auto marked = co_await mark_revoked_or_retry(ctx, account, digest);
  if (!marked.ok()) co_return std::move(marked).error();
  co_return *revoked;
}

Async<std::optional<domain::Session>> session_for_token(Context& ctx, const Digest& digest) {
  count(ctx.counters->service.token_lookups);
  co_return co_await ctx.accounts->session(digest, ctx.now());
}

Async<RevocationCheck> token_revoked(Context& ctx, const std::string& account,
                                     const Digest& digest) {
  co_return co_await ctx.access->revoked(account, digest);
}

Async<void> count_sign_up(Context& ctx, const std::string& client_address) {
  if (ctx.signup_rate_limit <= 0) co_return Status{};
  auto counted = co_await ctx.access->count("signup:{" + client_address + "}", kSignUpWindow);
  if (!counted.ok()) co_return std::move(counted).error();
  if (counted->count > ctx.signup_rate_limit) {
    co_return Error::rate_limited(seconds_left(counted->remaining),
                                  "Too many sign-ups from this address; try again later.");
  }
  co_return Status{};
}

Async<domain::Operator> create_operator(Context& ctx, const std::string& email,
                                        domain::OperatorRole role, std::string password,
                                        const domain::Actor& actor) {
  auto hashed = co_await ctx.passwords->hash(std::move(password));
  if (!hashed.ok()) co_return std::move(hashed).error();
  auto created = co_await ctx.accounts->add_operator(email, role, *hashed, actor);
  if (!created.ok()) {
    if (created.error().is(Errc::conflict)) co_return email_taken();
    co_return std::move(created).error();
  }
  co_return std::move(*created);
}

Async<domain::ListPage<domain::Operator>> list_operators(Context& ctx, domain::Page page) {
  co_return co_await ctx.accounts->operators(page);
}

Async<domain::Operator> update_operator(Context& ctx, std::int64_t operator_id,
                                        const domain::OperatorChange& change,
                                        const domain::Actor& actor) {
  // Sessions ended within a mark's life are named again: this may be the
  // retry of a change whose marks failed.
  auto updated =
      co_await ctx.accounts->update_operator(operator_id, change, actor, kRevocationMarkLife);
  if (!updated.ok()) co_return std::move(updated).error();
  if (!*updated) {
    co_return Error::make(Errc::operator_not_found,
                          "No operator with id " + std::to_string(operator_id) + ".");
  }
  // A session's role is read with it, so a new sign-in gets the new role;
  // the tokens of before end everywhere at once, as a sign-out's do.
  const std::string account = domain::operator_name(operator_id);
  Status all_marked;
  for (const Digest& digest : (*updated)->sessions_to_mark) {
    auto marked = co_await mark_revoked_or_retry(ctx, account, digest);
    if (!marked.ok() && all_marked.ok()) all_marked = std::move(marked).error();
  }
  if (!all_marked.ok()) co_return std::move(all_marked).error();
  co_return std::move((*updated)->now);
}

Async<domain::ListPage<domain::AuditEntry>> list_audit(Context& ctx, const AuditQuery& query,
                                                       domain::Page page) {
  co_return co_await ctx.accounts->audit(query, page);
}

}  // namespace betsdb::service

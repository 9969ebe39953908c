#include "service/users.hpp"

#include "util/token.hpp"

namespace betsdb::service {

namespace {
Error user_not_found(std::int64_t id) {
  return Error::make(Errc::user_not_found, "No user with id " + std::to_string(id) + ".");
}
}  // namespace

Async<SignedUp> sign_up(Context& ctx, SignUp request) {
  std::string token = generate_token();
  store::NewUser row{request.email, request.name, request.initial_balance, sha256(token)};
  auto user = co_await store::insert_user(*ctx.db, row);
  if (!user.ok()) {
    if (user.error().is(Errc::conflict) && user.error().constraint == "users_email_key") {
      co_return Error::make(Errc::email_taken, "A user with this email already exists.");
    }
    co_return std::move(user).error();
  }
  co_return SignedUp{std::move(*user), std::move(token)};
}

Async<domain::User> get_user(Context& ctx, std::int64_t user_id) {
  auto user = co_await store::find_user(*ctx.db, user_id);
  if (!user.ok()) co_return std::move(user).error();
  if (!*user) co_return user_not_found(user_id);
  co_return std::move(**user);
}

Async<store::Deposit> deposit(Context& ctx, std::int64_t user_id, domain::Money amount) {
  auto result = co_await store::deposit(*ctx.db, user_id, amount);
  if (!result.ok()) co_return std::move(result).error();
  if (!*result) co_return user_not_found(user_id);
  co_return std::move(**result);
}

Async<domain::ListPage<domain::LedgerEntry>> list_transactions(Context& ctx, std::int64_t user_id,
                                                                domain::Page page) {
  auto user = co_await store::find_user(*ctx.db, user_id);
  if (!user.ok()) co_return std::move(user).error();
  if (!*user) co_return user_not_found(user_id);
  co_return co_await store::list_ledger(*ctx.db, user_id, page);
}

}  // namespace betsdb::service

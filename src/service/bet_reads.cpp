#include "service/bet_reads.hpp"

#include "service/cache_keys.hpp"

namespace betsdb::service {

namespace asio = boost::asio;

namespace {

Loader list_loader(Context& ctx, domain::BetFilter filter, domain::Page page,
                   Render<BetPage> render) {
  return [&ctx, filter = std::move(filter), page,
          render = std::move(render)](ReadSource source) -> asio::awaitable<Result<std::string>> {
    auto bets = co_await bet_reader(ctx, source).list(filter, page);
    if (!bets.ok()) co_return std::move(bets).error();
    co_return render(*bets);
  };
}

}  // namespace

Async<std::string> list_bets(Context& ctx, const domain::BetFilter& filter, domain::Page page,
                             Render<BetPage> render) {
  // Named, not temporaries in the co_await: g++ 12 destroys such temporaries twice.
  Loader load = list_loader(ctx, filter, page, std::move(render));
  CacheNamespace ns = ReadCache::bets();
  std::string key = bet_list_key(filter, page);
  co_return co_await cached(ctx, CacheArea::bets, std::move(ns), std::move(key), std::move(load));
}

Async<std::string> list_user_bets(Context& ctx, std::int64_t user_id, domain::BetFilter filter,
                                  domain::Page page, Render<BetPage> render) {
  filter.user_id = user_id;
  auto email = co_await user_email(ctx, user_id);
  if (!email.ok()) co_return std::move(email).error();
  std::string key = bet_list_key(filter, page);
  Loader load = list_loader(ctx, std::move(filter), page, std::move(render));
  CacheNamespace ns = ReadCache::user_bets(*email);
  co_return co_await cached(ctx, CacheArea::user_bets, std::move(ns), std::move(key),
                            std::move(load));
}

Async<std::string> bet_summary(Context& ctx, Render<domain::BetSummary> render) {
  Loader load = [&ctx, render = std::move(render)](
                    ReadSource source) -> asio::awaitable<Result<std::string>> {
    auto summary = co_await bet_reader(ctx, source).summary();
    if (!summary.ok()) co_return std::move(summary).error();
    co_return render(*summary);
  };
  CacheNamespace ns = ReadCache::summary();
  std::string key = "all";
  co_return co_await cached(ctx, CacheArea::summary, std::move(ns), std::move(key),
                            std::move(load));
}

}  // namespace betsdb::service

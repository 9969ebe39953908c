// service::accept_cash_out against fakes: what a cash-out invalidates, on
// success and on the refusals a client's retry can meet. The cash-out's own
// rules (prices, states, money) are proven against PostgreSQL (tests/api).
#include "service/cash_out.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "service/test_fakes.hpp"
#include "service/test_support.hpp"

namespace betsdb::service {
namespace {

using namespace fakes;
using test_support::kEmail;
using test_support::kUser;
using test_support::kUserBetsGeneration;

constexpr std::int64_t kBet = 5;
const std::string kQuote = "the-quote";

class FakeQuotes final : public QuoteStore {
 public:
  std::map<std::string, std::string> quotes;
  Async<void> put(const std::string& id, const std::string& quote,
                  std::chrono::milliseconds) override {
    quotes[id] = quote;
    co_return Status{};
  }
  Async<std::optional<std::string>> get(const std::string& id) override {
    auto it = quotes.find(id);
    if (it == quotes.end()) co_return std::optional<std::string>{};
    co_return std::optional<std::string>{it->second};
  }
};

class AcceptCashOutTest : public ::testing::Test {
 protected:
  AcceptCashOutTest() : f(/*with_cache=*/true) {
    f.users->add(kUser, kEmail, 100'000);
    f.ctx.quotes = quotes;
    // As quote_cash_out stores it: bet|user|cents|expires (µs)|match:version.
    const auto expires = (f.now + std::chrono::seconds(30)).time_since_epoch().count();
    quotes->quotes[kQuote] = std::to_string(kBet) + "|" + std::to_string(kUser) + "|900|" +
                             std::to_string(expires) + "|42:1";
  }
  Result<domain::Bet> accept() { return f.run(accept_cash_out(f.ctx, kUser, kBet, kQuote)); }
  // The store refuses the cash-out with `problem`.
  void refuse_with(domain::CashOutProblem problem) {
    f.bets->on_cash_out = [problem](const domain::CashOutOrder&) -> Result<domain::CashedOut> {
      domain::CashedOut out;
      out.problem = problem;
      return out;
    };
  }

  std::shared_ptr<FakeQuotes> quotes = std::make_shared<FakeQuotes>();
  Fakes f;
};

// The retry of a cash-out whose commit was not confirmed meets its own
// cash-out: the bettor's lists must show it now, as a duplicate bet's do.
TEST_F(AcceptCashOutTest, AnAlreadySettledBetStillInvalidatesTheUsersLists) {
  refuse_with(domain::CashOutProblem::already_settled);
  auto out = accept();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::already_settled);
  EXPECT_TRUE(f.cache_store->bumped(kUserBetsGeneration))
      << "the bettor's bet lists were not invalidated";
  EXPECT_TRUE(f.cache_store->bumped("gen:{bets}"));
  EXPECT_TRUE(f.cache_store->bumped("gen:{summary}"));
}

// A moved price changed nothing: nothing to invalidate.
TEST_F(AcceptCashOutTest, AMovedPriceInvalidatesNothing) {
  refuse_with(domain::CashOutProblem::odds_changed);
  auto out = accept();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::odds_changed);
  EXPECT_FALSE(f.cache_store->bumped(kUserBetsGeneration));
  EXPECT_FALSE(f.cache_store->bumped("gen:{bets}"));
}

}  // namespace
}  // namespace betsdb::service

// In-memory fakes of the service's ports (service/ports/), for the unit tests
// of the use cases; only *_test.cpp files include this header.
//
// Each fake records the calls it gets and can be told to fail
// (service_unavailable), to answer what a test decides, or to throw. The
// Redis-backed ports (Locks, IdempotencyStore) share one Keyspace, as they
// share one Redis in production: releasing an idempotency claim through
// Locks deletes the record the IdempotencyStore sees.
//
// Fakes::run() runs a use case to completion on the test's own io_context
// (no thread), then whatever it left ready (background releases);
// Fakes::run_until() drives timers (background retries) until a condition
// holds, within a bound.
//
// Thread-safety: none; one test's thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain/placement.hpp"
#include "domain/settled_match.hpp"
#include "domain/settlement.hpp"
#include "service/context.hpp"
#include "service/read_cache.hpp"

namespace betsdb::service::fakes {

namespace asio = boost::asio;
using namespace std::chrono_literals;

inline Error redis_down() {
  return Error::unavailable("fake: Redis is not answering");
}
inline Error database_down() {
  return Error::unavailable("fake: PostgreSQL is not answering");
}

// What the tests throw from a fake, to see a use case clean up after it.
struct FakeFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ------------------------------------------------------------------ Redis

// The string keys of one fake Redis (no expiry: tests expire keys by hand).
struct Keyspace {
  std::map<std::string, std::string> values;

  bool holds(const std::string& key) const { return values.contains(key); }
  std::string value(const std::string& key) const {
    auto it = values.find(key);
    return it == values.end() ? std::string() : it->second;
  }
};

class FakeLocks final : public Locks {
 public:
  FakeLocks(std::shared_ptr<Keyspace> keys, asio::any_io_executor executor)
      : keys_(std::move(keys)), executor_(std::move(executor)) {}

  struct TryLock {
    std::string key;
    std::chrono::milliseconds ttl;
  };
  std::vector<TryLock> try_locks;
  std::vector<LockToken> unlocks;  // as the calls start
  bool unavailable = false;        // try_lock and unlock answer service_unavailable
  // How long an unlock takes to answer (a Redis round trip); zero: at once.
  std::chrono::milliseconds unlock_delay{0};

  // try_lock takes the key, then answers service_unavailable, as when its
  // reply is lost.
  bool lose_lock_replies = false;

  Async<bool> try_lock(const LockToken& lock, std::chrono::milliseconds ttl) override {
    try_locks.push_back({lock.key, ttl});
    if (unavailable) co_return redis_down();
    if (keys_->holds(lock.key)) co_return false;
    keys_->values[lock.key] = lock.token;
    if (lose_lock_replies) co_return redis_down();
    co_return true;
  }

  Async<bool> unlock(const LockToken& lock) override {
    unlocks.push_back(lock);
    const LockToken ours = lock;
    if (unlock_delay.count() > 0) {
      asio::steady_timer timer(executor_);
      timer.expires_after(unlock_delay);
      co_await timer.async_wait(asio::use_awaitable);
    }
    if (unavailable) co_return redis_down();
    auto it = keys_->values.find(ours.key);
    if (it == keys_->values.end() || it->second != ours.token) co_return false;
    keys_->values.erase(it);
    co_return true;
  }

  asio::any_io_executor executor() const override { return executor_; }

  std::size_t unlocks_of(const std::string& key) const {
    std::size_t n = 0;
    for (const auto& u : unlocks) n += u.key == key ? 1 : 0;
    return n;
  }

 private:
  std::shared_ptr<Keyspace> keys_;
  asio::any_io_executor executor_;
};

class FakeIdempotencyStore final : public IdempotencyStore {
 public:
  explicit FakeIdempotencyStore(std::shared_ptr<Keyspace> keys) : keys_(std::move(keys)) {}

  bool claims_unavailable = false;  // claim() answers service_unavailable
  // claim() writes (if the key is free) but answers service_unavailable: its
  // reply was lost.
  bool claim_replies_lost = false;
  int answer_failures = 0;  // so many answer() calls fail before one lands
  int claim_calls = 0;
  int answer_calls = 0;

  Async<std::optional<std::string>> claim(const std::string& key, const std::string& claim,
                                          std::chrono::milliseconds) override {
    ++claim_calls;
    if (claims_unavailable) co_return redis_down();
    if (keys_->holds(key)) co_return std::optional<std::string>{keys_->value(key)};
    keys_->values[key] = claim;
    if (claim_replies_lost) co_return redis_down();
    co_return std::optional<std::string>{};
  }

  Async<bool> answer(const std::string& key, const std::string& claim, const std::string& answer,
                     std::chrono::milliseconds) override {
    ++answer_calls;
    if (answer_failures > 0) {
      --answer_failures;
      co_return redis_down();
    }
    if (keys_->holds(key) && keys_->value(key) != claim) co_return false;
    keys_->values[key] = answer;
    co_return true;
  }

 private:
  std::shared_ptr<Keyspace> keys_;
};

// The read cache's storage: always a miss; bumps are recorded and counted.
class FakeCacheStore final : public CacheStore {
 public:
  std::vector<std::vector<std::string>> bumps;
  std::map<std::string, std::int64_t> generations;
  int stores = 0;
  // What read() says of the namespace's written position.
  std::optional<std::uint64_t> written_position;
  // The Redis process read() says answered.
  std::string origin = "fake-origin";

  int reads = 0;
  Async<CacheRead> read(const CacheNamespace& ns, std::string) override {
    ++reads;
    std::string joined;
    for (const auto& g : ns.generations) {
      if (!joined.empty()) joined += '.';
      joined += std::to_string(generations[g]);
    }
    co_return CacheRead{joined, std::nullopt, origin, written_position};
  }
  void store(const CacheNamespace&, const CacheRead&, const std::string&, std::string) override {
    ++stores;
  }
  std::vector<std::optional<std::uint64_t>> positions;  // each bump's written position

  // Every call of bump(), failed ones included.
  int bump_attempts = 0;
  // Redis reachable but refusing every bump (error replies, a stall).
  bool bumps_fail = false;
  // While set, a bump waits for it (cancel() lets it go on).
  std::shared_ptr<asio::steady_timer> bump_gate;
  Async<void> bump(std::vector<std::string> keys,
                   std::optional<std::uint64_t> written_position) override {
    ++bump_attempts;
    if (bump_gate) {
      auto gate = bump_gate;
      co_await gate->async_wait(asio::as_tuple(asio::use_awaitable));
    }
    for (const auto& k : keys) {
      if (unreachable.contains(k)) co_return redis_down();
    }
    if (bumps_fail) co_return redis_down();
    bumps.push_back(keys);
    positions.push_back(written_position);
    for (const auto& k : keys) ++generations[k];
    co_return Status{};
  }
  Async<std::string> generation(std::string key) override {
    // Created on first use, as Redis's script creates it.
    std::int64_t& value = generations[key];
    if (value == 0) value = 1;
    co_return std::to_string(value);
  }
  bool connected() const override { return unreachable.empty(); }
  // Counters whose Redis (a cluster's master) is down: bumps that touch one fail.
  std::set<std::string> unreachable;
  bool reachable(const std::string& key) const override { return !unreachable.contains(key); }

  // Whether some bump INCRed `key`.
  bool bumped(const std::string& key) const {
    for (const auto& b : bumps) {
      for (const auto& k : b) {
        if (k == key) return true;
      }
    }
    return false;
  }
};

// Carts as the port promises them: every call refreshes the cart's expiry
// (counted in `refreshes`), refused ones included.
class FakeCartStore final : public CartStore {
 public:
  std::map<std::int64_t, std::vector<domain::CartItem>> carts;
  std::vector<std::string> calls;  // "read", "touch", "remove_checked_out", ...
  std::map<std::int64_t, int> refreshes;
  std::vector<std::vector<domain::CartItem>> removed_checked_out;
  bool unavailable = false;
  bool precondition_holds = true;  // what add() finds a given KeyHolds to be (checked first)

  std::size_t count(const std::string& call) const {
    std::size_t n = 0;
    for (const auto& c : calls) n += c == call ? 1 : 0;
    return n;
  }

  // Puts an item in the cart as add() would, for a test's set-up.
  domain::CartItem put(std::int64_t user_id, std::int64_t match_id, domain::Selection selection,
                       std::int64_t stake_cents) {
    domain::CartItem item;
    item.item_id = ++next_item_;
    item.match_id = match_id;
    item.selection = selection;
    item.stake = domain::Money(stake_cents);
    item.stored = "v" + std::to_string(++versions_);
    carts[user_id].push_back(item);
    return item;
  }

  Async<domain::CartContents> read(std::int64_t user_id) override {
    if (auto e = enter("read", user_id)) co_return *e;
    co_return domain::CartContents{carts[user_id], domain::kCartTtl};
  }

  Async<std::optional<domain::CartItem>> find_item(std::int64_t user_id,
                                                   std::int64_t item_id) override {
    if (auto e = enter("find_item", user_id)) co_return *e;
    for (const auto& item : carts[user_id]) {
      if (item.item_id == item_id) co_return std::optional<domain::CartItem>{item};
    }
    co_return std::optional<domain::CartItem>{};
  }

  Async<std::optional<domain::CartItem>> add(std::int64_t user_id, const domain::NewCartItem& item,
                                             const KeyHolds* precondition) override {
    // As the Redis script: a precondition that does not hold stops the add
    // before anything else, and refreshes nothing (the caller goes on).
    calls.emplace_back("add");
    if (unavailable) co_return redis_down();
    if (precondition && !precondition_holds) co_return std::optional<domain::CartItem>{};
    ++refreshes[user_id];
    auto& cart = carts[user_id];
    for (const auto& existing : cart) {
      if (existing.match_id == item.match_id && existing.selection == item.selection) {
        co_return Error::make(Errc::duplicate_item, "fake: duplicate item");
      }
    }
    if (cart.size() >= domain::kMaxCartItems) {
      co_return Error::make(Errc::cart_full, "fake: cart full");
    }
    domain::CartItem added = put(user_id, item.match_id, item.selection, item.stake.cents());
    carts[user_id].back().added_at = item.added_at;
    added.added_at = item.added_at;
    co_return std::optional<domain::CartItem>{added};
  }

  Async<domain::CartItem> change(std::int64_t user_id, std::int64_t item_id,
                                 const domain::CartItemChange& change) override {
    if (auto e = enter("change", user_id)) co_return *e;
    for (auto& item : carts[user_id]) {
      if (item.item_id != item_id) continue;
      if (change.selection) item.selection = *change.selection;
      if (change.stake) item.stake = *change.stake;
      item.stored = "v" + std::to_string(++versions_);
      co_return item;
    }
    co_return Error::make(Errc::item_not_found, "fake: no such item");
  }

  Async<void> remove(std::int64_t user_id, std::int64_t item_id) override {
    if (auto e = enter("remove", user_id)) co_return *e;
    auto& cart = carts[user_id];
    for (auto it = cart.begin(); it != cart.end(); ++it) {
      if (it->item_id == item_id) {
        cart.erase(it);
        co_return Status{};
      }
    }
    co_return Error::make(Errc::item_not_found, "fake: no such item");
  }

  Async<void> clear(std::int64_t user_id) override {
    if (auto e = enter("clear", user_id)) co_return *e;
    carts[user_id].clear();
    co_return Status{};
  }
  // Pauses are not faked: only emptied.
  Async<void> close_for_pause(std::int64_t user_id, domain::Timestamp) override {
    if (auto e = enter("close_for_pause", user_id)) co_return *e;
    carts[user_id].clear();
    co_return Status{};
  }

  int failing_removals = 0;  // remove_checked_out fails this many more times

  Async<std::size_t> remove_checked_out(std::int64_t user_id,
                                        std::span<const domain::CartItem> items) override {
    if (auto e = enter("remove_checked_out", user_id)) co_return *e;
    if (failing_removals > 0) {
      --failing_removals;
      co_return redis_down();
    }
    removed_checked_out.emplace_back(items.begin(), items.end());
    auto& cart = carts[user_id];
    std::size_t removed = 0;
    for (const auto& gone : items) {
      for (auto it = cart.begin(); it != cart.end(); ++it) {
        if (it->item_id == gone.item_id && it->stored == gone.stored) {
          cart.erase(it);
          ++removed;
          break;
        }
      }
    }
    co_return removed;
  }

  Async<void> touch(std::int64_t user_id) override {
    if (auto e = enter("touch", user_id)) co_return *e;
    co_return Status{};
  }

 private:
  std::optional<Error> enter(const char* call, std::int64_t user_id) {
    calls.emplace_back(call);
    if (unavailable) return redis_down();
    ++refreshes[user_id];
    return std::nullopt;
  }

  std::int64_t next_item_ = 0;
  int versions_ = 0;
};

// ------------------------------------------------------------------ PostgreSQL

class FakeUserStore final : public UserStore {
 public:
  std::map<std::int64_t, domain::User> users;
  int finds = 0;

  domain::User& add(std::int64_t id, std::string email, std::int64_t balance_cents = 0) {
    domain::User u;
    u.id = id;
    u.email = std::move(email);
    u.name = "Ann";
    u.balance = domain::Money(balance_cents);
    return users[id] = u;
  }

  Async<domain::User> insert(const domain::NewUser& user) override {
    for (const auto& [id, u] : users) {
      if (u.email == user.email) co_return Error::conflict(std::string(kEmailTaken), "fake");
    }
    const std::int64_t id = users.empty() ? 1 : users.rbegin()->first + 1;
    co_return add(id, user.email, user.initial_balance.cents());
  }
  Async<std::optional<domain::User>> find(std::int64_t user_id) override {
    ++finds;
    auto it = users.find(user_id);
    if (it == users.end()) co_return std::optional<domain::User>{};
    co_return std::optional<domain::User>{it->second};
  }
  Async<domain::DepositOutcome> deposit(std::int64_t, domain::Money, const std::optional<Digest>&,
                                        const domain::Actor&) override {
    co_return Error::internal("fake: deposit is not faked");
  }
  Async<domain::ListPage<domain::LedgerEntry>> ledger(std::int64_t, domain::Page) override {
    co_return domain::ListPage<domain::LedgerEntry>{};
  }
  Async<domain::ListPage<domain::User>> list(const domain::UserFilter&, domain::Page) override {
    co_return domain::ListPage<domain::User>{};
  }
};

class FakeMatchStore final : public MatchStore {
 public:
  std::map<std::int64_t, domain::Match> matches;
  int finds = 0;
  int find_manys = 0;
  bool unavailable = false;

  int reads() const { return finds + find_manys; }

  Async<domain::Match> insert(const domain::NewMatch&) override {
    co_return Error::internal("fake: insert is not faked");
  }
  Async<std::optional<domain::Match>> find(std::int64_t match_id) override {
    ++finds;
    if (unavailable) co_return database_down();
    auto it = matches.find(match_id);
    if (it == matches.end()) co_return std::optional<domain::Match>{};
    co_return std::optional<domain::Match>{it->second};
  }
  Async<std::vector<domain::Match>> find_many(std::span<const std::int64_t> ids) override {
    ++find_manys;
    if (unavailable) co_return database_down();
    std::vector<domain::Match> found;
    for (auto id : ids) {
      auto it = matches.find(id);
      if (it != matches.end()) found.push_back(it->second);
    }
    co_return found;
  }
  int lists = 0;
  Async<domain::ListPage<domain::Match>> list(const domain::MatchFilter&, domain::Page) override {
    ++lists;
    if (unavailable) co_return database_down();
    co_return domain::ListPage<domain::Match>{};
  }
  Async<std::optional<domain::Match>> change_unless_settled(std::int64_t,
                                                            const domain::MatchChange&) override {
    co_return Error::internal("fake: change_unless_settled is not faked");
  }
  // Moves a match in `from` to `to`; nullopt (no write) when it is in
  // another status, as the store's conditional update.
  Async<std::optional<domain::Match>> move_status(std::int64_t match_id, domain::MatchStatus from,
                                                  domain::MatchStatus to,
                                                  const std::optional<domain::Actor>&) override {
    if (unavailable) co_return database_down();
    auto it = matches.find(match_id);
    if (it == matches.end() || it->second.status != from) co_return std::optional<domain::Match>{};
    it->second.status = to;
    co_return std::optional<domain::Match>{it->second};
  }
  Async<std::optional<std::pair<domain::Exposure, domain::MatchLimits>>> exposure(
      std::int64_t) override {
    co_return Error::internal("fake: exposure is not faked");
  }
};

class FakeBetStore final : public BetStore {
 public:
  struct PlaceCall {
    std::int64_t user_id = 0;
    std::vector<domain::BetItem> items;
  };
  struct SettleCall {
    std::int64_t match_id = 0;
    domain::MatchResult result = domain::MatchResult::home;
    domain::SettlementPlan plan;
  };

  // What place() answers; by default every item becomes a bet. It may throw.
  std::function<Result<domain::Placement>(const PlaceCall&)> on_place;
  // What settle() answers; by default the match settles, changed.
  std::function<Result<domain::SettleOutcome>(const SettleCall&)> on_settle;
  // What the default settle() reports as the match's bettors.
  std::vector<std::string> bettor_emails;
  std::vector<PlaceCall> place_calls;
  std::vector<SettleCall> settle_calls;
  std::string email = "ann@example.com";  // the bettor's, as a placement reports it

  // Every item placed, as the store answers a placement that went through.
  static domain::Placement placed(const PlaceCall& call, std::string email,
                                  std::int64_t balance_cents = 0) {
    domain::Placement out;
    std::int64_t id = 100;
    for (const auto& item : call.items) {
      domain::Bet bet;
      bet.id = ++id;
      bet.user_id = call.user_id;
      bet.match_id = item.match_id;
      bet.selection = item.selection;
      bet.stake = item.stake;
      bet.odds = item.odds;
      bet.potential_payout = item.potential_payout;
      out.bets.push_back(bet);
    }
    out.balance = domain::Money(balance_cents);
    out.user_email = std::move(email);
    return out;
  }
  // Nothing placed, for these reasons (all `none`: the funds fell short).
  static domain::Placement refused(std::vector<domain::ItemProblem> problems) {
    domain::Placement out;
    out.problems = std::move(problems);
    return out;
  }

  Async<domain::Placement> place(std::int64_t user_id,
                                 std::span<const domain::BetItem> items) override {
    PlaceCall call{user_id, {items.begin(), items.end()}};
    place_calls.push_back(call);
    if (on_place) co_return on_place(call);
    co_return placed(call, email);
  }
  Async<std::optional<domain::Bet>> find(std::int64_t) override {
    co_return std::optional<domain::Bet>{};
  }
  // Accumulators and cash-out are proven against PostgreSQL (tests/api);
  // a cash-out's answer may be scripted, for what the service does with it.
  Async<domain::AccumulatorPlacement> place_accumulator(std::int64_t,
                                                        const domain::AccumulatorItem&) override {
    co_return Error::unavailable("the fake places no accumulator");
  }
  std::function<Result<domain::CashedOut>(const domain::CashOutOrder&)> on_cash_out;
  Async<domain::CashedOut> cash_out(const domain::CashOutOrder& order) override {
    if (on_cash_out) co_return on_cash_out(order);
    co_return Error::unavailable("the fake cashes nothing out");
  }
  Async<domain::SettleOutcome> settle(std::int64_t match_id, domain::MatchResult result,
                                      const domain::SettlementPlan& plan,
                                      const std::optional<domain::Actor>&) override {
    SettleCall call{match_id, result, plan};
    settle_calls.push_back(call);
    if (on_settle) co_return on_settle(call);
    domain::SettleOutcome out;
    out.settled.match.id = match_id;
    out.settled.match.status = domain::MatchStatus::settled;
    out.settled.match.result = result;
    out.settled.changed = true;
    out.bettor_emails = bettor_emails;
    co_return out;
  }
  // What bettors_if_settled() answers (unavailable while the flag is set),
  // and how many times it was asked.
  std::vector<std::string> settled_bettors;
  bool settled_bettors_unavailable = false;
  int settled_bettors_asked = 0;
  Async<std::vector<std::string>> bettors_if_settled(std::int64_t, domain::MatchResult) override {
    ++settled_bettors_asked;
    if (settled_bettors_unavailable) co_return Error::unavailable("the fake database is down");
    co_return settled_bettors;
  }
  Async<domain::ListPage<domain::Bet>> list(const domain::BetFilter&, domain::Page) override {
    co_return domain::ListPage<domain::Bet>{};
  }
  Async<domain::BetSummary> summary() override { co_return domain::BetSummary{}; }
};

class FakeProbe final : public DependencyProbe {
 public:
  Async<void> database() override { co_return Status{}; }
  Async<void> redis() override { co_return Status{}; }
};

// ------------------------------------------------------------------ values

inline domain::Odds odds(std::int64_t hundredths) {
  auto o = domain::odds_from_hundredths(hundredths, "odds");
  if (!o.ok()) throw std::invalid_argument("bad odds in a test");
  return *o;
}

// 2026-06-01T12:00:00Z, the fakes' "now".
inline domain::Timestamp test_now() {
  using namespace std::chrono;
  return domain::Timestamp(sys_days(year(2026) / June / 1).time_since_epoch() + 12h);
}

// An open match a week after test_now(), offering "1" 2.10, "X" 3.25, "2" 3.60.
inline domain::Match open_match(std::int64_t id, std::string team_1 = "Arsenal",
                                std::string team_2 = "Chelsea") {
  domain::Match m;
  m.id = id;
  m.team_1 = std::move(team_1);
  m.team_2 = std::move(team_2);
  m.date = test_now() + std::chrono::days(7);
  m.odds.set(domain::Selection::home, odds(210));
  m.odds.set(domain::Selection::draw, odds(325));
  m.odds.set(domain::Selection::away, odds(360));
  m.status = domain::MatchStatus::open;
  return m;
}

// ------------------------------------------------------------------ running

namespace detail {
// Shared, so a task abandoned by a failed test never writes to a dead frame.
template <class T>
asio::awaitable<void> into(asio::awaitable<T> task, std::shared_ptr<std::optional<T>> out) {
  out->emplace(co_await std::move(task));
}
}  // namespace detail

// Every port faked, wired into one Context on the test's io_context. With
// `with_cache`, ctx.cache is a ReadCache on `cache_store`.
struct Fakes {
  explicit Fakes(bool with_cache = false) {
    ctx.users = users;
    ctx.matches = matches;
    ctx.bets = bets;
    ctx.carts = carts;
    ctx.locks = locks;
    ctx.idempotency = idempotency;
    ctx.probe = std::make_shared<FakeProbe>();
    if (with_cache) ctx.cache = std::make_shared<ReadCache>(cache_store);
    ctx.clock = [this] { return now; };
  }
  Fakes(const Fakes&) = delete;
  Fakes& operator=(const Fakes&) = delete;

  // Runs `task` to its end, then what it left ready to run (a lock released
  // in the background); rethrows what the task threw.
  template <class T>
  T run(asio::awaitable<T> task) {
    auto result = std::make_shared<std::optional<T>>();
    run(detail::into(std::move(task), result));
    return std::move(**result);
  }
  void run(asio::awaitable<void> task) {
    struct Outcome {
      bool done = false;
      std::exception_ptr thrown;
    };
    auto outcome = std::make_shared<Outcome>();
    asio::co_spawn(io, std::move(task), [outcome](std::exception_ptr e) {
      outcome->thrown = e;
      outcome->done = true;
    });
    if (!run_until([&] { return outcome->done; })) {
      throw std::runtime_error("the use case did not finish");
    }
    io.restart();
    io.poll();
    if (outcome->thrown) std::rethrow_exception(outcome->thrown);
  }

  // Runs the loop, timers included, until `done()` holds; false if it does
  // not within `bound`.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds bound = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      if (io.stopped()) io.restart();
      io.run_one_for(10ms);
    }
    return true;
  }

  asio::io_context io;
  domain::Timestamp now = test_now();
  std::shared_ptr<Keyspace> redis = std::make_shared<Keyspace>();
  std::shared_ptr<FakeUserStore> users = std::make_shared<FakeUserStore>();
  std::shared_ptr<FakeMatchStore> matches = std::make_shared<FakeMatchStore>();
  std::shared_ptr<FakeBetStore> bets = std::make_shared<FakeBetStore>();
  std::shared_ptr<FakeCartStore> carts = std::make_shared<FakeCartStore>();
  std::shared_ptr<FakeLocks> locks = std::make_shared<FakeLocks>(redis, io.get_executor());
  std::shared_ptr<FakeIdempotencyStore> idempotency = std::make_shared<FakeIdempotencyStore>(redis);
  std::shared_ptr<FakeCacheStore> cache_store = std::make_shared<FakeCacheStore>();
  Context ctx;
};

}  // namespace betsdb::service::fakes

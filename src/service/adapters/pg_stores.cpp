#include "service/adapters/adapters.hpp"
#include "store/pg/account_store.hpp"
#include "store/pg/bet_queries.hpp"
#include "store/pg/bet_store.hpp"
#include "store/pg/cash_out_store.hpp"
#include "store/pg/limits_store.hpp"
#include "store/pg/match_lookup.hpp"
#include "store/pg/match_outbox.hpp"
#include "store/pg/match_store.hpp"
#include "store/pg/placement_batcher.hpp"
#include "store/pg/replica_monitor.hpp"
#include "store/pg/user_store.hpp"
#include "store/pg/wal.hpp"

namespace betsdb::service::adapters {

namespace {

class PgLimits final : public LimitsStore {
 public:
  explicit PgLimits(std::shared_ptr<pg::Pool> db) : db_(std::move(db)) {}

  Async<std::optional<domain::Limits>> read(std::int64_t user_id) override {
    return store::read_limits(*db_, user_id);
  }
  Async<std::optional<domain::Limits>> change(
      std::int64_t user_id, std::span<const domain::UserLimitChange> changes) override {
    return store::change_limits(*db_, user_id, changes);
  }
  Async<domain::PauseOutcome> pause(std::int64_t user_id,
                                    const domain::PauseRequest& pause) override {
    return store::start_pause(*db_, user_id, pause);
  }
  Async<std::optional<domain::Timestamp>> paused_until(std::int64_t user_id) override {
    return store::betting_paused_until(*db_, user_id);
  }

 private:
  std::shared_ptr<pg::Pool> db_;
};

class PgUsers final : public UserStore {
 public:
  explicit PgUsers(std::shared_ptr<pg::Pool> db) : db_(std::move(db)) {}

  Async<domain::User> insert(const domain::NewUser& user) override {
    return store::insert_user(*db_, user);
  }
  Async<std::optional<domain::User>> find(std::int64_t user_id) override {
    return store::find_user(*db_, user_id);
  }
  Async<domain::DepositOutcome> deposit(std::int64_t user_id, domain::Money amount,
                                        const std::optional<Digest>& key,
                                        const domain::Actor& actor) override {
    return store::deposit(*db_, user_id, amount, key, actor);
  }
  Async<domain::ListPage<domain::LedgerEntry>> ledger(std::int64_t user_id,
                                                      domain::Page page) override {
    return store::list_ledger(*db_, user_id, page);
  }
  Async<domain::ListPage<domain::User>> list(const domain::UserFilter& filter,
                                             domain::Page page) override {
    return store::list_users(*db_, filter, page);
  }

 private:
  std::shared_ptr<pg::Pool> db_;
};

class PgAccounts final : public AccountStore {
 public:
  explicit PgAccounts(std::shared_ptr<pg::Pool> db) : db_(std::move(db)) {}

  Async<std::optional<domain::Credentials>> credentials(const std::string& email) override {
    return store::find_credentials(*db_, email);
  }
  Async<std::optional<domain::Session>> session(const Digest& digest,
                                                domain::Timestamp now) override {
    return store::find_session(*db_, digest, now);
  }
  Async<std::optional<domain::Credentials>> password(const domain::Account& account) override {
    return store::find_password(*db_, account);
  }
  Async<bool> add_session(const Digest& digest, const domain::Account& account,
                          const std::string& password_hash, domain::Timestamp expires_at) override {
    return store::insert_session(*db_, digest, account, password_hash, expires_at);
  }
  Async<std::optional<std::vector<Digest>>> change_password(
      const domain::PasswordChange& change, const domain::Actor& actor,
      std::chrono::seconds also_ended_within) override {
    return change_password_rows(change, actor, also_ended_within);
  }
  Async<domain::ListPage<domain::Operator>> operators(domain::Page page) override {
    return store::list_operators(*db_, page);
  }
  Async<std::optional<domain::OperatorChanged>> update_operator(
      std::int64_t operator_id, const domain::OperatorChange& change, const domain::Actor& actor,
      std::chrono::seconds also_ended_within) override {
    return update_operator_row(operator_id, change, actor, also_ended_within);
  }
  Async<bool> revoke(const Digest& digest) override { return store::revoke_session(*db_, digest); }
  Async<domain::Operator> add_operator(const std::string& email, domain::OperatorRole role,
                                       const std::string& password_hash,
                                       const domain::Actor& actor) override {
    return add_operator_row(store::NewOperator{email, role, password_hash}, actor);
  }
  Async<domain::ListPage<domain::AuditEntry>> audit(const AuditQuery& query,
                                                    domain::Page page) override {
    return list_audit(store::AuditFilter{query.actor, query.action}, page);
  }

 private:
  // Coroutines of their own, so what they build lives until the query is done.
  Async<domain::ListPage<domain::AuditEntry>> list_audit(store::AuditFilter filter,
                                                         domain::Page page) {
    co_return co_await store::list_audit(*db_, filter, page);
  }
  Async<domain::Operator> add_operator_row(store::NewOperator row, domain::Actor actor) {
    co_return co_await store::insert_operator(*db_, row, actor);
  }
  Async<std::optional<std::vector<Digest>>> change_password_rows(
      domain::PasswordChange change, domain::Actor actor, std::chrono::seconds also_ended_within) {
    co_return co_await store::change_password(*db_, change, actor, also_ended_within);
  }
  Async<std::optional<domain::OperatorChanged>> update_operator_row(
      std::int64_t operator_id, domain::OperatorChange change, domain::Actor actor,
      std::chrono::seconds also_ended_within) {
    co_return co_await store::update_operator(*db_, operator_id, change, actor, also_ended_within);
  }

  std::shared_ptr<pg::Pool> db_;
};

class PgOutbox final : public MatchOutbox {
 public:
  explicit PgOutbox(std::shared_ptr<pg::Pool> db) : db_(std::move(db)) {}

  Async<std::vector<PendingMatchChange>> pending(std::size_t limit) override {
    auto rows = co_await store::pending_match_changes(*db_, limit);
    if (!rows.ok()) co_return std::move(rows).error();
    std::vector<PendingMatchChange> out;
    out.reserve(rows->size());
    for (auto& row : *rows) {
      out.push_back(PendingMatchChange{row.id, std::move(row.publish_key), std::move(row.match)});
    }
    co_return out;
  }
  Async<void> forget(const std::vector<std::int64_t>& outbox_ids) override {
    return store::forget_match_changes(*db_, outbox_ids);
  }

 private:
  std::shared_ptr<pg::Pool> db_;
};

class PgMatches final : public MatchStore {
 public:
  explicit PgMatches(std::shared_ptr<pg::Pool> db) : db_(std::move(db)) {}

  Async<domain::Match> insert(const domain::NewMatch& match) override {
    return store::insert_match(*db_, match);
  }
  Async<std::optional<domain::Match>> find(std::int64_t match_id) override {
    return store::find_match(*db_, match_id);
  }
  Async<std::vector<domain::Match>> find_many(std::span<const std::int64_t> ids) override {
    return store::find_matches(*db_, ids);
  }
  Async<domain::ListPage<domain::Match>> list(const domain::MatchFilter& filter,
                                              domain::Page page) override {
    return store::list_matches(*db_, filter, page);
  }
  Async<std::optional<domain::Match>> change_unless_settled(
      std::int64_t match_id, const domain::MatchChange& change) override {
    return store::change_match_unless_settled(*db_, match_id, change);
  }
  Async<std::optional<domain::Match>> move_status(
      std::int64_t match_id, domain::MatchStatus from, domain::MatchStatus to,
      const std::optional<domain::Actor>& actor) override {
    return store::move_match_status(*db_, match_id, from, to, actor);
  }
  Async<std::optional<std::pair<domain::Exposure, domain::MatchLimits>>> exposure(
      std::int64_t match_id) override {
    return store::match_exposure(*db_, match_id);
  }

 private:
  std::shared_ptr<pg::Pool> db_;
};

class PgBets final : public BetStore {
 public:
  PgBets(std::shared_ptr<pg::Pool> db, std::shared_ptr<store::PlacementBatcher> placements)
      : db_(std::move(db)),
        placements_(placements ? std::move(placements)
                               : std::make_shared<store::PlacementBatcher>(db_)) {}

  Async<domain::Placement> place(std::int64_t user_id,
                                 std::span<const domain::BetItem> items) override {
    return placements_->place(user_id, items);
  }
  Async<domain::AccumulatorPlacement> place_accumulator(
      std::int64_t user_id, const domain::AccumulatorItem& item) override {
    return placements_->place_accumulator(user_id, item);
  }
  Async<std::optional<domain::Bet>> find(std::int64_t bet_id) override {
    return store::find_bet(*db_, bet_id);
  }
  Async<domain::CashedOut> cash_out(const domain::CashOutOrder& order) override {
    return placements_->cash_out(order);
  }
  Async<domain::SettleOutcome> settle(std::int64_t match_id, domain::MatchResult result,
                                      const domain::SettlementPlan& plan,
                                      const std::optional<domain::Actor>& actor) override {
    return store::settle_match(*db_, match_id, result, plan, actor);
  }
  Async<std::vector<std::string>> bettors_if_settled(std::int64_t match_id,
                                                     domain::MatchResult result) override {
    return store::bettors_if_settled(*db_, match_id, result);
  }
  Async<domain::ListPage<domain::Bet>> list(const domain::BetFilter& filter,
                                            domain::Page page) override {
    return store::list_bets(*db_, filter, page);
  }
  Async<domain::BetSummary> summary() override { return store::bet_summary(*db_); }

 private:
  std::shared_ptr<pg::Pool> db_;
  std::shared_ptr<store::PlacementBatcher> placements_;
};

class PgReplica final : public ReadReplica {
 public:
  PgReplica(std::shared_ptr<pg::Pool> db, std::shared_ptr<pg::ReplicaMonitor> standby)
      : db_(std::move(db)),
        standby_(std::move(standby)),
        matches_(standby_->pool()),
        bets_(standby_->pool(), nullptr) {}

  Async<std::uint64_t> primary_position() override {
    auto position = co_await pg::wal_insert_position(*db_);
    if (!position.ok()) co_return std::move(position).error();
    co_return std::uint64_t{*position};
  }
  ReplicaView view() override {
    const pg::ReplayView view = standby_->view();
    switch (view.state) {
      case pg::ReplayView::State::replayed:
        return {ReplicaView::State::replayed, view.position, view.epoch};
      case pg::ReplayView::State::down:
        return {ReplicaView::State::down, 0, 0};
      case pg::ReplayView::State::unknown:
        break;
    }
    return {};
  }
  bool still_valid(std::uint64_t epoch) const override { return standby_->unchanged_since(epoch); }
  MatchStore& matches() override { return matches_; }
  BetStore& bets() override { return bets_; }

 private:
  std::shared_ptr<pg::Pool> db_;
  std::shared_ptr<pg::ReplicaMonitor> standby_;
  PgMatches matches_;
  PgBets bets_;
};

}  // namespace

std::shared_ptr<ReadReplica> pg_replica(std::shared_ptr<pg::Pool> db,
                                        std::shared_ptr<pg::ReplicaMonitor> standby) {
  return std::make_shared<PgReplica>(std::move(db), std::move(standby));
}

std::shared_ptr<LimitsStore> pg_limits(std::shared_ptr<pg::Pool> db) {
  return std::make_shared<PgLimits>(std::move(db));
}
std::shared_ptr<UserStore> pg_users(std::shared_ptr<pg::Pool> db) {
  return std::make_shared<PgUsers>(std::move(db));
}
std::shared_ptr<AccountStore> pg_accounts(std::shared_ptr<pg::Pool> db) {
  return std::make_shared<PgAccounts>(std::move(db));
}
std::shared_ptr<MatchStore> pg_matches(std::shared_ptr<pg::Pool> db) {
  return std::make_shared<PgMatches>(std::move(db));
}
std::shared_ptr<MatchOutbox> pg_outbox(std::shared_ptr<pg::Pool> db) {
  return std::make_shared<PgOutbox>(std::move(db));
}
std::shared_ptr<BetStore> pg_bets(std::shared_ptr<pg::Pool> db,
                                  std::shared_ptr<store::PlacementBatcher> placements) {
  return std::make_shared<PgBets>(std::move(db), std::move(placements));
}

}  // namespace betsdb::service::adapters

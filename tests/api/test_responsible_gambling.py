"""Responsible gambling (API.md Part 2, "Responsible gambling"; the wire
decisions in the issue 21 design): deposit and stake limits over rolling
windows, pending raises and removals, self-exclusion and time-outs.

- GET /v1/users/{id}/limits: the owner, the admin (token or admin operator)
  and support operators; PUT: the owner only, validated field by field.
- Lowering or setting a limit applies at once; raising or removing one is
  pending for 24 h and then applies by itself (no job): the tests make a
  pending change due, and age deposits and stakes, with SQL (limits_support).
- A deposit, bet, accumulator or checkout that would take any window over
  its limit is refused (422 deposit_limit_exceeded / stake_limit_exceeded)
  and changes nothing; exactly reaching a limit is allowed; refunds, payouts
  and cash-outs do not give headroom back; the stake limit (and the deposit
  limit) hold under concurrent requests.
- POST .../self-exclusion and .../timeout (the owner only) start one at
  once, empty the cart, can only be lengthened (a shorter one is 409), and
  while one runs every write that adds risk is 403 self_excluded, checked
  before anything else; reads and cash-out keep working; once it has passed,
  its *_until reads null and betting works again.

Every refused write must leave the balance, the ledger, the bets, the cart
and the limits untouched; `Snapshot` and `LimitsDb.limit_rows` prove it.
"""

import datetime as dt
import uuid

import pytest

import redis_keys
from account_support import expect_forbidden, expect_unauthorized, parse_time
from api_support import (
    Api,
    describe,
    expect_json,
    expect_problem,
    expect_status,
    expect_validation_failed,
)
from bet_support import (
    MISSING_ID,
    create_user,
    parallel_map,
    run_concurrently,
    settle,
    statuses_and_codes,
    user_balance,
)
from limits_support import (
    EXCLUSION_MONTHS,
    MAX_LIMIT,
    MAX_TIMEOUT_HOURS,
    MIN_TIMEOUT_HOURS,
    PENDING_DELAY,
    PERIODS,
    WINDOWS,
    LimitsDb,
    acca_req,
    add_months,
    deposit_req,
    expect_between,
    expect_deposit_limit,
    expect_limits,
    expect_self_excluded,
    expect_stake_limit,
    get_limits,
    limits_of,
    limits_url,
    no_limits,
    now_utc,
    put_limits,
    self_exclude,
    self_exclusion_url,
    set_limits,
    time_out,
    timeout_url,
)
from shard_support import on_fresh_connections
from trading_support import add_item, added, cart_url, checkout, place

# The concurrency tests: RACERS requests race for headroom left for ROOM of them.
RACERS = 16
ROOM = 5
RACE_AMOUNT = 1000

EXCLUSION_KINDS = ("self-exclusion", "timeout")


# ==========================================================================
# Fixtures and helpers
# ==========================================================================

@pytest.fixture(scope="session")
def limits_db(db, redis):
    return LimitsDb(db, redis)


@pytest.fixture
def bettor(new_user):
    return new_user(balance=1_000_000)


@pytest.fixture
def spend(api, admin_token, new_match):
    """Factory: spend(kind, user, amount) -> response: a deposit of `amount`
    (by the admin) or a single bet of `amount` on a new match."""

    def make(kind, user, amount):
        if kind == "deposit":
            return deposit_req(api, admin_token, user, amount)
        return place(api, user, new_match(), "1", amount)

    return make


def spender(new_user, kind):
    """A user for spend(kind, ...): no initial deposit when deposits are
    limited, plenty of funds when stakes are."""
    return new_user() if kind == "deposit" else new_user(balance=10_000_000)


def expect_limit_refusal(kind, resp):
    return expect_deposit_limit(resp) if kind == "deposit" else expect_stake_limit(resp)


def start_exclusion(api, user, kind):
    """Starts the shortest self-exclusion or time-out; returns its end (RFC 3339)."""
    if kind == "self-exclusion":
        return expect_json(self_exclude(api, user, "6m"), 201)["self_excluded_until"]
    return expect_json(time_out(api, user, MIN_TIMEOUT_HOURS), 201)["timeout_until"]


def end_exclusion(limits_db, user, kind):
    if kind == "self-exclusion":
        limits_db.end_self_exclusion(user.id)
    else:
        limits_db.end_timeout(user.id)


def suspend(api, admin_token, match):
    expect_json(api.post(f"/v1/matches/{match['id']}/suspend", token=admin_token), 200)


def cart_items(api, user):
    return expect_json(api.get(cart_url(user), token=user.token), 200)["items"]


def staked_total(limits_db, user):
    return limits_db.ledger_sum(user.id, "stake")


# ==========================================================================
# Reading the limits
# ==========================================================================

def test_a_fresh_user_has_no_limits_and_no_exclusion(api, admin_token, new_user):
    """Every amount null, nothing pending, neither kind of exclusion running;
    the owner and the admin read the same."""
    user = new_user()
    assert get_limits(api, user) == no_limits()
    assert get_limits(api, user, token=admin_token) == no_limits()


def test_the_owner_the_admin_and_support_read_the_limits(api, admin_token, new_user, new_operator):
    """Design: the user themself, the admin (the token or an admin operator)
    and support operators (read-only) read the same body."""
    user = new_user()
    body = set_limits(api, user, {"deposit": {"week": 5000}, "stake": {"day": 1000}})
    for token in (admin_token, new_operator("admin").token, new_operator("support").token):
        assert get_limits(api, user, token=token) == body


def test_others_may_not_read_the_limits(api, new_user, new_operator):
    """Another user and a trader: 403 forbidden; no or a bad token: 401."""
    user, other = new_user(), new_user()
    url = limits_url(user.id)
    expect_forbidden(api.get(url, token=other.token))
    expect_forbidden(api.get(url, token=new_operator("trader").token))
    expect_unauthorized(api.get(url))
    expect_unauthorized(api.get(url, token="not-a-token"))


def test_an_unknown_user_is_404_and_a_bad_path_or_query_is_refused(api, admin_token, new_user, new_operator):
    """The admin and support get 404 user_not_found for a user that does not
    exist; a path id that is no positive integer matches no route; an
    unknown query parameter is 400 invalid_parameter."""
    for token in (admin_token, new_operator("support").token):
        expect_problem(api.get(limits_url(MISSING_ID), token=token), 404, "user_not_found")
    expect_problem(api.get("/v1/users/0/limits", token=admin_token), 404, "not_found")
    expect_problem(api.get("/v1/users/abc/limits", token=admin_token), 404, "not_found")
    user = new_user()
    expect_problem(api.get(limits_url(user.id) + "?period=day", token=user.token), 400, "invalid_parameter")


# ==========================================================================
# Changing the limits: who, and validation
# ==========================================================================

def test_only_the_owner_may_change_the_limits(api, admin_token, new_user, new_operator, limits_db):
    """The admin token, every operator role and another user: 403 forbidden;
    no token: 401. Nothing is stored."""
    user, other = new_user(), new_user()
    set_limits(api, user, {"stake": {"day": 1000}})
    rows = limits_db.limit_rows(user.id)
    body = {"stake": {"day": 10}, "deposit": {"week": 10}}
    tokens = [admin_token, other.token] + [new_operator(role).token for role in ("admin", "trader", "support")]
    for token in tokens:
        expect_forbidden(put_limits(api, user, body, token=token))
    resp = api.put(limits_url(user.id), json=body)
    expect_unauthorized(resp)
    assert limits_db.limit_rows(user.id) == rows
    assert get_limits(api, user) == limits_of(stake={"day": 1000})


BAD_LIMIT_BODIES = [
    ('{"deposit": 5000}', "deposit"),
    ('{"stake": [1000]}', "stake"),
    ('{"stake": null}', "stake"),
    ('{"stake": "1000"}', "stake"),
    ('{"stake": {"year": 100}}', "stake.year"),
    ('{"deposit": {"Day": 100}}', "deposit.Day"),
    ('{"deposit": {"week": -1}}', "deposit.week"),
    ('{"deposit": {"month": 1000000000001}}', "deposit.month"),
    ('{"stake": {"day": 10.5}}', "stake.day"),
    ('{"stake": {"day": 1000.0}}', "stake.day"),
    ('{"stake": {"day": 1e3}}', "stake.day"),
    ('{"stake": {"day": "1000"}}', "stake.day"),
    ('{"stake": {"day": true}}', "stake.day"),
    ('{"stake": {"day": {}}}', "stake.day"),
    ('{"stake": {"day": [1000]}}', "stake.day"),
    ('{"limits": {"stake": {"day": 100}}}', "limits"),
    ('{"Stake": {"day": 100}}', "Stake"),
    # A valid change next to a bad one: the whole request is refused.
    ('{"stake": {"day": 100, "week": -1}}', "stake.week"),
    ('{"deposit": {"day": 100}, "stake": {"month": "x"}}', "stake.month"),
]


@pytest.mark.parametrize("raw,field", BAD_LIMIT_BODIES, ids=[f for _, f in BAD_LIMIT_BODIES])
def test_a_bad_limits_body_is_422_naming_the_field_and_changes_nothing(api, new_user, limits_db, raw, field):
    user = new_user()
    before = set_limits(api, user, {"stake": {"day": 5000, "week": 9000}, "deposit": {"month": 7000}})
    rows = limits_db.limit_rows(user.id)
    expect_validation_failed(put_limits(api, user, raw=raw), field)
    assert limits_db.limit_rows(user.id) == rows
    assert get_limits(api, user) == before


@pytest.mark.parametrize("raw", ["[]", "null", '"stake"', "42", "true", '[{"stake": {"day": 1}}]'])
def test_a_limits_body_that_is_not_an_object_is_422(api, new_user, limits_db, raw):
    user = new_user()
    expect_validation_failed(put_limits(api, user, raw=raw))
    assert limits_db.limit_rows(user.id) == []
    assert get_limits(api, user) == no_limits()


def test_malformed_json_is_400_and_another_media_type_415(api, new_user, limits_db):
    user = new_user()
    expect_problem(put_limits(api, user, raw='{"stake": {"day": 1}'), 400, "invalid_json")
    resp = api.put(limits_url(user.id), body='{"stake": {"day": 1}}', token=user.token, content_type="text/plain")
    expect_problem(resp, 415, "unsupported_media_type")
    assert limits_db.limit_rows(user.id) == []


def test_an_empty_change_changes_nothing(api, new_user, limits_db):
    """`{}`, an empty kind, and null for a limit that is not set: 200 with the
    limits as they were, a pending raise included."""
    user = new_user()
    set_limits(api, user, {"stake": {"day": 1000}})
    before = set_limits(api, user, {"stake": {"day": 2000}})
    assert len(before["pending"]) == 1
    rows = limits_db.limit_rows(user.id)
    for body in ({}, {"stake": {}}, {"deposit": {}}, {"deposit": {"day": None}}, {"stake": {"week": None}}):
        assert expect_limits(put_limits(api, user, body)) == before, body
    assert limits_db.limit_rows(user.id) == rows


def test_limits_of_zero_and_of_the_maximum_are_accepted(api, admin_token, new_user, new_match, snapshot):
    """0 .. 10^12 both ends: a limit of 0 refuses every deposit or bet."""
    user = new_user(balance=5000)
    body = set_limits(api, user, {"stake": {"day": 0, "month": MAX_LIMIT}, "deposit": {"week": 0}})
    assert body == limits_of(stake={"day": 0, "month": MAX_LIMIT}, deposit={"week": 0})
    snap = snapshot(user)
    expect_stake_limit(place(api, user, new_match(), "1", 1))
    expect_deposit_limit(deposit_req(api, admin_token, user, 1))
    snap.expect_unchanged()


# ==========================================================================
# Changing the limits: at once, or pending for 24 h
# ==========================================================================

def test_setting_new_limits_applies_them_at_once(api, new_user):
    user = new_user()
    body = set_limits(api, user, {"deposit": {"week": 5000}, "stake": {"day": 1000, "month": 20_000}})
    assert body == limits_of(deposit={"week": 5000}, stake={"day": 1000, "month": 20_000})


def test_lowering_a_limit_applies_at_once(api, new_user):
    user = new_user()
    set_limits(api, user, {"deposit": {"day": 1000}, "stake": {"week": 800}})
    body = set_limits(api, user, {"deposit": {"day": 600}, "stake": {"week": 799}})
    assert body == limits_of(deposit={"day": 600}, stake={"week": 799})


@pytest.mark.parametrize("new", [2000, None], ids=["raise", "remove"])
def test_raising_or_removing_a_limit_is_pending_for_24_hours(api, new_user, new_match, snapshot, new):
    """The limit in force stays (and is what a bet is checked against); the
    change is listed with effective_at about now + 24 h (null: removal)."""
    user = new_user(balance=100_000)
    set_limits(api, user, {"stake": {"day": 1000}})
    started = now_utc()
    body = set_limits(api, user, {"stake": {"day": new}})
    answered = now_utc()
    assert body["stake"] == {"day": 1000, "week": None, "month": None}, body
    assert len(body["pending"]) == 1, body
    change = body["pending"][0]
    assert (change["kind"], change["period"], change["amount"]) == ("stake", "day", new), body
    expect_between(change["effective_at"], started + PENDING_DELAY, answered + PENDING_DELAY, "effective_at")
    snap = snapshot(user)
    expect_stake_limit(place(api, user, new_match(), "1", 1001))
    snap.expect_unchanged()


@pytest.mark.parametrize("again", [500, 1000], ids=["lower", "same-as-current"])
@pytest.mark.parametrize("pending", [3000, None], ids=["raise", "removal"])
def test_lowering_again_cancels_the_pending_change(api, new_user, limits_db, again, pending):
    """A value <= the limit in force applies at once and cancels the pending
    raise or removal (re-sending the current value included)."""
    user = new_user()
    set_limits(api, user, {"deposit": {"week": 1000}})
    assert len(set_limits(api, user, {"deposit": {"week": pending}})["pending"]) == 1
    body = set_limits(api, user, {"deposit": {"week": again}})
    assert body == limits_of(deposit={"week": again}), body
    assert limits_db.pending_rows(user.id) == 0


def test_resending_the_pending_value_keeps_its_time_and_another_value_restarts_it(api, new_user, limits_db):
    """The same pending raise sent again keeps its effective_at (the tests age
    it by an hour first, so a restarted clock would show); a different
    higher value replaces it, 24 h from now."""
    user = new_user()
    set_limits(api, user, {"stake": {"week": 1000}})
    set_limits(api, user, {"stake": {"week": 2000}})
    limits_db.age_pending(user.id, "1 hour")
    aged = get_limits(api, user)["pending"]
    assert len(aged) == 1 and aged[0]["amount"] == 2000, aged
    body = set_limits(api, user, {"stake": {"week": 2000}})
    assert body["pending"] == aged, body
    assert parse_time(aged[0]["effective_at"]) < now_utc() + PENDING_DELAY - dt.timedelta(minutes=50)

    started = now_utc()
    body = set_limits(api, user, {"stake": {"week": 3000}})
    answered = now_utc()
    assert body["stake"]["week"] == 1000, body
    assert [(c["kind"], c["period"], c["amount"]) for c in body["pending"]] == [("stake", "week", 3000)], body
    expect_between(body["pending"][0]["effective_at"], started + PENDING_DELAY, answered + PENDING_DELAY,
                   "effective_at")


def test_pending_changes_are_ordered_by_time_then_kind_then_period(api, new_user):
    """A raise made earlier comes first; changes made together are ordered by
    kind (deposit, stake), then period (day, week, month)."""
    user = new_user()
    set_limits(api, user, {"deposit": {"day": 100, "week": 100}, "stake": {"day": 100, "month": 100}})
    set_limits(api, user, {"stake": {"month": 200}})
    body = set_limits(api, user, {"stake": {"day": 300}, "deposit": {"week": None, "day": 500}})
    got = [(c["kind"], c["period"], c["amount"]) for c in body["pending"]]
    assert got[0] == ("stake", "month", 200), body
    assert sorted(got[1:]) == [("deposit", "day", 500), ("deposit", "week", None), ("stake", "day", 300)], body
    if len({c["effective_at"] for c in body["pending"][1:]}) == 1:
        assert got[1:] == [("deposit", "day", 500), ("deposit", "week", None), ("stake", "day", 300)], body
    assert body["deposit"] == {"day": 100, "week": 100, "month": None}, body
    assert body["stake"] == {"day": 100, "week": None, "month": 100}, body


def test_a_due_raise_applies_by_itself_to_reads_and_to_bets(api, new_user, new_match, limits_db):
    """No job runs: once effective_at has passed, GET shows the new limit,
    nothing is pending, and a bet the old limit refused is placed."""
    user = new_user(balance=100_000)
    set_limits(api, user, {"stake": {"day": 1000}})
    expect_json(place(api, user, new_match(), "1", 1000), 201)
    set_limits(api, user, {"stake": {"day": 2500}})
    expect_stake_limit(place(api, user, new_match(), "1", 1))
    limits_db.make_pending_due(user.id)
    assert get_limits(api, user) == limits_of(stake={"day": 2500})
    expect_json(place(api, user, new_match(), "1", 1500), 201)
    expect_stake_limit(place(api, user, new_match(), "1", 1))
    assert staked_total(limits_db, user) == 2500


def test_a_due_removal_applies_by_itself_to_reads_and_to_deposits(api, admin_token, new_user, limits_db):
    user = new_user()
    set_limits(api, user, {"deposit": {"week": 1000}})
    expect_json(deposit_req(api, admin_token, user, 1000), 201)
    set_limits(api, user, {"deposit": {"week": None}})
    expect_deposit_limit(deposit_req(api, admin_token, user, 1))
    limits_db.make_pending_due(user.id)
    assert get_limits(api, user) == no_limits()
    assert expect_json(deposit_req(api, admin_token, user, 5000), 201)["balance"] == 6000


# ==========================================================================
# Deposit limits
# ==========================================================================

@pytest.mark.parametrize("period", PERIODS)
def test_a_deposit_over_the_limit_is_refused_and_reaching_it_exactly_is_not(
        api, admin_token, new_user, snapshot, period):
    user = new_user()
    set_limits(api, user, {"deposit": {period: 10_000}})
    expect_json(deposit_req(api, admin_token, user, 6000), 201)
    snap = snapshot(user)
    expect_deposit_limit(deposit_req(api, admin_token, user, 4001))
    snap.expect_unchanged()
    assert expect_json(deposit_req(api, admin_token, user, 4000), 201)["balance"] == 10_000
    snap = snapshot(user)
    expect_deposit_limit(deposit_req(api, admin_token, user, 1))
    snap.expect_unchanged()
    assert user_balance(api, admin_token, user.id) == 10_000


def test_the_initial_balance_counts_as_a_deposit(api, admin_token, new_user, snapshot):
    user = new_user(balance=5000)
    set_limits(api, user, {"deposit": {"day": 6000}})
    snap = snapshot(user)
    expect_deposit_limit(deposit_req(api, admin_token, user, 1001))
    snap.expect_unchanged()
    assert expect_json(deposit_req(api, admin_token, user, 1000), 201)["balance"] == 6000


def test_deposits_made_before_the_limit_was_set_count(api, admin_token, new_user, snapshot):
    """The windows are the ledger's, not a counter started with the limit."""
    user = new_user()
    expect_json(deposit_req(api, admin_token, user, 800), 201)
    set_limits(api, user, {"deposit": {"month": 1000}})
    snap = snapshot(user)
    expect_deposit_limit(deposit_req(api, admin_token, user, 201))
    snap.expect_unchanged()
    expect_json(deposit_req(api, admin_token, user, 200), 201)


def test_an_admin_operators_deposit_is_limited_too(api, new_user, new_operator, snapshot):
    user = new_user()
    set_limits(api, user, {"deposit": {"day": 100}})
    op = new_operator("admin")
    snap = snapshot(user)
    expect_deposit_limit(deposit_req(api, op.token, user, 101))
    snap.expect_unchanged()
    expect_json(deposit_req(api, op.token, user, 100), 201)


# ==========================================================================
# Stake limits
# ==========================================================================

@pytest.mark.parametrize("period", PERIODS)
def test_a_bet_over_the_stake_limit_is_refused_and_reaching_it_exactly_is_not(
        api, admin_token, bettor, new_match, snapshot, limits_db, period):
    set_limits(api, bettor, {"stake": {period: 1000}})
    expect_json(place(api, bettor, new_match(), "1", 600), 201)
    snap = snapshot(bettor)
    expect_stake_limit(place(api, bettor, new_match(), "1", 401))
    snap.expect_unchanged()
    expect_json(place(api, bettor, new_match(), "X", 400), 201)
    snap = snapshot(bettor)
    expect_stake_limit(place(api, bettor, new_match(), "2", 1))
    snap.expect_unchanged()
    assert staked_total(limits_db, bettor) == 1000
    assert user_balance(api, admin_token, bettor.id) == 1_000_000 - 1000


def test_stakes_placed_before_the_limit_was_set_count(api, bettor, new_match, snapshot):
    expect_json(place(api, bettor, new_match(), "1", 800), 201)
    set_limits(api, bettor, {"stake": {"week": 1000}})
    snap = snapshot(bettor)
    expect_stake_limit(place(api, bettor, new_match(), "1", 201))
    snap.expect_unchanged()
    expect_json(place(api, bettor, new_match(), "1", 200), 201)


def test_an_accumulator_counts_toward_the_stake_limit(api, bettor, new_match, snapshot, limits_db):
    set_limits(api, bettor, {"stake": {"day": 1000}})
    expect_json(acca_req(api, bettor, [new_match(), new_match()], 600), 201)
    snap = snapshot(bettor)
    expect_stake_limit(acca_req(api, bettor, [new_match(), new_match()], 401))
    snap.expect_unchanged()
    expect_json(acca_req(api, bettor, [new_match(), new_match(), new_match()], 400), 201)
    snap = snapshot(bettor)
    expect_stake_limit(place(api, bettor, new_match(), "1", 1))
    snap.expect_unchanged()
    assert staked_total(limits_db, bettor) == 1000


def test_a_checkout_is_judged_by_its_whole_total_and_keeps_the_cart_when_refused(
        api, bettor, new_match, snapshot, limits_db):
    """Each item alone would fit the 600 left, both together do not: 422
    stake_limit_exceeded, nothing placed, the cart intact; once the total
    fits exactly, the checkout places both."""
    set_limits(api, bettor, {"stake": {"day": 1000}})
    expect_json(place(api, bettor, new_match(), "1", 400), 201)
    added(api, bettor, new_match(), "1", 300)
    second = added(api, bettor, new_match(), "2", 301)
    snap = snapshot(bettor)
    expect_stake_limit(checkout(api, bettor))
    snap.expect_unchanged()
    assert len(cart_items(api, bettor)) == 2
    resp = api.patch(f"{cart_url(bettor)}/items/{second['item_id']}", json={"stake": 300}, token=bettor.token)
    expect_json(resp, 200)
    assert expect_json(checkout(api, bettor), 201)["total_stake"] == 600
    assert cart_items(api, bettor) == []
    expect_stake_limit(place(api, bettor, new_match(), "1", 1))
    assert staked_total(limits_db, bettor) == 1000


def test_refunds_payouts_and_cash_outs_give_no_headroom_back(api, admin_token, bettor, new_match, snapshot,
                                                              limits_db):
    """A window sums the stakes placed in it: a voided bet (refunded), a won
    bet (paid out) and a cashed-out bet still count in full."""
    set_limits(api, bettor, {"stake": {"day": 1000}})
    voided, won, cashed = new_match(), new_match(), new_match()
    expect_json(place(api, bettor, voided, "1", 400), 201)
    expect_json(place(api, bettor, won, "1", 400), 201)
    bet = expect_json(place(api, bettor, cashed, "1", 200), 201)
    expect_status(settle(api, admin_token, voided["id"], "void"), 200)
    expect_status(settle(api, admin_token, won["id"], "1"), 200)
    quote = expect_json(api.post(f"/v1/bets/{bet['id']}/cash-out/quote", token=bettor.token), 201)
    resp = api.post(f"/v1/bets/{bet['id']}/cash-out", json={"quote_id": quote["quote_id"]}, token=bettor.token)
    assert expect_json(resp, 200)["status"] == "cashed_out"
    # 1_000_000 - 1000 staked + 400 refunded + 840 paid out + the cash-out.
    assert user_balance(api, admin_token, bettor.id) == 1_000_000 - 1000 + 400 + 840 + quote["amount"]
    snap = snapshot(bettor)
    expect_stake_limit(place(api, bettor, new_match(), "1", 1))
    expect_stake_limit(acca_req(api, bettor, [new_match(), new_match()], 1))
    snap.expect_unchanged()
    assert staked_total(limits_db, bettor) == 1000


def test_the_stake_limit_comes_after_max_stake_duplicate_and_funds_and_before_liability(
        api, admin_token, new_user, new_match, snapshot):
    """A single's order: ... max_stake, lock, duplicate, funds, stake limit,
    liability (API.md Part 2, Limits and exposure)."""
    user = new_user(balance=500)
    set_limits(api, user, {"stake": {"day": 100}})
    capped = new_match()
    expect_json(api.patch(f"/v1/matches/{capped['id']}", json={"max_stake": 150}, token=admin_token), 200)
    taken = new_match()
    expect_json(place(api, user, taken, "1", 50), 201)
    risky = new_match()
    expect_json(api.patch(f"/v1/matches/{risky['id']}", json={"max_liability": 1}, token=admin_token), 200)
    snap = snapshot(user)
    expect_problem(place(api, user, capped, "1", 151), 422, "stake_above_max")
    expect_problem(place(api, user, taken, "1", 60), 409, "duplicate_bet")
    expect_problem(place(api, user, new_match(), "1", 451), 422, "insufficient_funds")
    expect_stake_limit(place(api, user, risky, "1", 51))
    snap.expect_unchanged()


def test_a_checkouts_stake_limit_comes_after_its_funds_check(api, new_user, new_match, snapshot):
    user = new_user(balance=1000)
    set_limits(api, user, {"stake": {"day": 500}})
    added(api, user, new_match(), "1", 600)
    added(api, user, new_match(), "1", 600)
    snap = snapshot(user)
    expect_problem(checkout(api, user), 422, "insufficient_funds")
    snap.expect_unchanged()


# ==========================================================================
# Rolling windows (time moved with SQL)
# ==========================================================================

HOUR = dt.timedelta(hours=1)


def sql_interval(delta):
    return f"{int(delta.total_seconds())} seconds"


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("kind", ["deposit", "stake"])
def test_a_window_is_rolling_and_exactly_its_length(api, new_user, spend, limits_db, kind, period):
    """An amount an hour short of the window's length old still counts; an
    hour past it, it does not (day 24 h, week 7 days, month 30 days)."""
    user = spender(new_user, kind)
    set_limits(api, user, {kind: {period: 1000}})
    expect_json(spend(kind, user, 1000), 201)
    limits_db.age_money(user.id, sql_interval(WINDOWS[period] - HOUR))
    expect_limit_refusal(kind, spend(kind, user, 1))
    limits_db.age_money(user.id, sql_interval(2 * HOUR))
    expect_json(spend(kind, user, 1000), 201)
    expect_limit_refusal(kind, spend(kind, user, 1))


@pytest.mark.parametrize("kind", ["deposit", "stake"])
def test_aged_amounts_leave_the_shorter_windows_only(api, new_user, spend, limits_db, snapshot, kind):
    """Limits day 1000, week 2000, month 3000: something 25 h old counts in
    the week and the month but not the day; 8 days old, in the month only;
    31 days old, nowhere."""
    user = spender(new_user, kind)
    set_limits(api, user, {kind: {"day": 1000, "week": 2000, "month": 3000}})

    def refused():
        snap = snapshot(user)
        expect_limit_refusal(kind, spend(kind, user, 1))
        snap.expect_unchanged()

    expect_json(spend(kind, user, 1000), 201)         # A
    refused()                                          # day 1000
    limits_db.age_money(user.id, "25 hours")
    expect_json(spend(kind, user, 1000), 201)         # B; A out of the day, week 2000
    refused()
    limits_db.age_money(user.id, "25 hours")
    refused()                                          # day empty, week 2000: the week refuses
    limits_db.age_money(user.id, "8 days")
    expect_json(spend(kind, user, 1000), 201)         # C; A, B out of the week, month 3000
    refused()
    limits_db.age_money(user.id, "25 hours")
    refused()                                          # day empty, week 1000, month 3000: the month refuses
    limits_db.age_money(user.id, "31 days")
    expect_json(spend(kind, user, 1000), 201)         # A, B, C out of every window
    refused()                                          # the day again


# ==========================================================================
# Concurrency (also run against the ThreadSanitizer build: -m concurrency)
# ==========================================================================

def expect_race_outcome(responses, kind, room):
    outcomes = statuses_and_codes(responses)
    won = [r for r in responses if r.status_code == 201]
    assert len(won) == room, outcomes
    for resp in responses:
        if resp.status_code != 201:
            expect_limit_refusal(kind, resp)
    return won


@pytest.mark.concurrency
def test_concurrent_bets_never_take_the_stakes_over_the_limit(api, admin_token, base_url, new_user,
                                                               new_match, limits_db, bets_db):
    """RACERS bets on different matches race for room left for ROOM of them:
    exactly ROOM are placed, the rest are 422 stake_limit_exceeded, and the
    stakes placed stay within the limit."""
    user = new_user(balance=10_000_000)
    seed = 700
    limit = seed + ROOM * RACE_AMOUNT + RACE_AMOUNT // 2
    set_limits(api, user, {"stake": {"day": limit}})
    expect_json(place(api, user, new_match(), "1", seed), 201)
    matches = [new_match() for _ in range(RACERS)]

    def request(client, i):
        body = {"user_id": user.id, "match_id": matches[i]["id"], "selection": "1", "stake": RACE_AMOUNT}
        return client.post("/v1/bets", json=body, token=user.token)

    responses = run_concurrently([base_url], admin_token, RACERS, request)
    expect_race_outcome(responses, "stake", ROOM)
    assert staked_total(limits_db, user) == seed + ROOM * RACE_AMOUNT <= limit
    assert bets_db.bet_count(user_id=user.id) == ROOM + 1
    assert user_balance(api, admin_token, user.id) == 10_000_000 - seed - ROOM * RACE_AMOUNT
    bets_db.expect_invariant("after the stake-limit race")


@pytest.mark.concurrency
def test_concurrent_deposits_never_take_the_deposits_over_the_limit(api, admin_token, base_url, new_user,
                                                                     limits_db, bets_db):
    user = new_user(balance=300)
    limit = 300 + ROOM * RACE_AMOUNT + RACE_AMOUNT - 1
    set_limits(api, user, {"deposit": {"week": limit}})

    def request(client, i):
        return deposit_req(client, admin_token, user, RACE_AMOUNT)

    responses = run_concurrently([base_url], admin_token, RACERS, request)
    expect_race_outcome(responses, "deposit", ROOM)
    assert limits_db.ledger_sum(user.id, "deposit") == 300 + ROOM * RACE_AMOUNT <= limit
    assert user_balance(api, admin_token, user.id) == 300 + ROOM * RACE_AMOUNT
    bets_db.expect_invariant("after the deposit-limit race")


@pytest.mark.concurrency
def test_singles_accumulators_and_a_checkout_racing_share_one_stake_limit(api, admin_token, base_url, new_user,
                                                                          new_match, limits_db, bets_db, redis):
    """Every racer stakes RACE_AMOUNT: singles, accumulators, and one
    checkout of a two-item cart; exactly ROOM win, a refused checkout keeps
    its cart, a successful one empties it."""
    user = new_user(balance=10_000_000)
    limit = ROOM * RACE_AMOUNT + RACE_AMOUNT // 3
    set_limits(api, user, {"stake": {"month": limit}})
    added(api, user, new_match(), "1", RACE_AMOUNT // 2)
    added(api, user, new_match(), "2", RACE_AMOUNT - RACE_AMOUNT // 2)
    accas = 3
    matches = [new_match() for _ in range(RACERS - 1 + accas)]

    def request(client, i):
        if i == 0:
            return checkout(client, user)
        if i <= accas:
            return acca_req(client, user, [matches[i - 1], matches[RACERS - 1 + i - 1]], RACE_AMOUNT)
        body = {"user_id": user.id, "match_id": matches[i - 1]["id"], "selection": "1", "stake": RACE_AMOUNT}
        return client.post("/v1/bets", json=body, token=user.token)

    responses = run_concurrently([base_url], admin_token, RACERS, request)
    expect_race_outcome(responses, "stake", ROOM)
    assert staked_total(limits_db, user) == ROOM * RACE_AMOUNT <= limit
    cart_left = redis.hlen(redis_keys.cart(user.id))
    assert cart_left == (0 if responses[0].status_code == 201 else 2), describe(responses[0])
    bets_db.expect_invariant("after the mixed stake-limit race")


# ==========================================================================
# Self-exclusion and time-out: starting one
# ==========================================================================

@pytest.mark.parametrize("period", sorted(EXCLUSION_MONTHS))
def test_a_self_exclusion_runs_for_its_period(api, new_user, period):
    user = new_user()
    started = now_utc()
    resp = self_exclude(api, user, period)
    answered = now_utc()
    body = expect_json(resp, 201)
    assert set(body) == {"self_excluded_until"}, describe(resp)
    months = EXCLUSION_MONTHS[period]
    until = expect_between(body["self_excluded_until"], add_months(started, months), add_months(answered, months),
                           "self_excluded_until")
    limits = get_limits(api, user)
    assert parse_time(limits["self_excluded_until"]) == until, limits
    assert limits["timeout_until"] is None, limits


@pytest.mark.parametrize("hours", [MIN_TIMEOUT_HOURS, 100, MAX_TIMEOUT_HOURS])
def test_a_time_out_runs_for_its_hours(api, new_user, hours):
    user = new_user()
    started = now_utc()
    resp = time_out(api, user, hours)
    answered = now_utc()
    body = expect_json(resp, 201)
    assert set(body) == {"timeout_until"}, describe(resp)
    span = dt.timedelta(hours=hours)
    until = expect_between(body["timeout_until"], started + span, answered + span, "timeout_until")
    limits = get_limits(api, user)
    assert parse_time(limits["timeout_until"]) == until, limits
    assert limits["self_excluded_until"] is None, limits


BAD_EXCLUSIONS = [
    ("self-exclusion", '{"period": "3m"}', "period"),
    ("self-exclusion", '{"period": "6M"}', "period"),
    ("self-exclusion", '{"period": "2y"}', "period"),
    ("self-exclusion", '{"period": ""}', "period"),
    ("self-exclusion", '{"period": 6}', "period"),
    ("self-exclusion", '{"period": null}', "period"),
    ("self-exclusion", '{"period": ["6m"]}', "period"),
    ("self-exclusion", "{}", "period"),
    ("self-exclusion", '{"period": "6m", "hours": 24}', "hours"),
    ("timeout", '{"hours": 23}', "hours"),
    ("timeout", '{"hours": 1009}', "hours"),
    ("timeout", '{"hours": 0}', "hours"),
    ("timeout", '{"hours": -24}', "hours"),
    ("timeout", '{"hours": 24.5}', "hours"),
    ("timeout", '{"hours": 48.0}', "hours"),
    ("timeout", '{"hours": "48"}', "hours"),
    ("timeout", '{"hours": true}', "hours"),
    ("timeout", '{"hours": null}', "hours"),
    ("timeout", "{}", "hours"),
    ("timeout", '{"hours": 48, "period": "6m"}', "period"),
]


@pytest.mark.parametrize("kind,raw,field", BAD_EXCLUSIONS, ids=[f"{k}-{r}" for k, r, _ in BAD_EXCLUSIONS])
def test_a_bad_exclusion_body_is_422_naming_the_field_and_starts_nothing(api, new_user, new_match, limits_db,
                                                                         kind, raw, field):
    user = new_user()
    added(api, user, new_match())
    url = self_exclusion_url(user.id) if kind == "self-exclusion" else timeout_url(user.id)
    expect_validation_failed(api.post(url, body=raw, token=user.token), field)
    assert limits_db.exclusion_columns(user.id) == (None, None)
    assert len(cart_items(api, user)) == 1


@pytest.mark.parametrize("kind", EXCLUSION_KINDS)
def test_an_exclusion_body_that_is_not_json_or_not_an_object_is_refused(api, new_user, limits_db, kind):
    user = new_user()
    url = self_exclusion_url(user.id) if kind == "self-exclusion" else timeout_url(user.id)
    expect_problem(api.post(url, body='{"period": "6m"', token=user.token), 400, "invalid_json")
    for raw in ("[]", "null", '"6m"', "24"):
        expect_validation_failed(api.post(url, body=raw, token=user.token))
    assert limits_db.exclusion_columns(user.id) == (None, None)


@pytest.mark.parametrize("kind", EXCLUSION_KINDS)
def test_only_the_owner_may_start_an_exclusion(api, admin_token, new_user, new_operator, new_match, limits_db,
                                               kind):
    """Nobody can exclude a user but the user: the admin token, every
    operator and another user are 403 forbidden, no token 401; the cart is
    left alone."""
    user, other = new_user(), new_user()
    added(api, user, new_match())
    tokens = [admin_token, other.token] + [new_operator(role).token for role in ("admin", "trader", "support")]
    for token in tokens + [None]:
        if kind == "self-exclusion":
            resp = api.post(self_exclusion_url(user.id), json={"period": "5y"}, token=token)
        else:
            resp = api.post(timeout_url(user.id), json={"hours": 1008}, token=token)
        if token is None:
            expect_unauthorized(resp)
        else:
            expect_forbidden(resp)
    assert limits_db.exclusion_columns(user.id) == (None, None)
    assert len(cart_items(api, user)) == 1


@pytest.mark.parametrize("kind", EXCLUSION_KINDS)
def test_an_exclusion_empties_the_cart(api, new_user, new_match, redis, kind):
    user = new_user(balance=10_000)
    added(api, user, new_match(), "1", 100)
    added(api, user, new_match(), "2", 200)
    start_exclusion(api, user, kind)
    cart = expect_json(api.get(cart_url(user), token=user.token), 200)
    assert (cart["items"], cart["total_stake"]) == ([], 0), cart
    assert redis.hlen(redis_keys.cart(user.id)) == 0


def test_a_longer_self_exclusion_replaces_a_shorter_one_and_a_shorter_one_is_409(api, new_user):
    user = new_user()
    first = expect_json(self_exclude(api, user, "6m"), 201)["self_excluded_until"]
    longer = expect_json(self_exclude(api, user, "1y"), 201)["self_excluded_until"]
    assert parse_time(longer) > parse_time(first) + dt.timedelta(days=150)
    expect_self_excluded(self_exclude(api, user, "6m"), status=409)
    assert get_limits(api, user)["self_excluded_until"] == longer
    longest = expect_json(self_exclude(api, user, "5y"), 201)["self_excluded_until"]
    assert parse_time(longest) > parse_time(longer) + dt.timedelta(days=3 * 365)
    for period in ("6m", "1y"):
        expect_self_excluded(self_exclude(api, user, period), status=409)
    assert get_limits(api, user)["self_excluded_until"] == longest


def test_a_longer_time_out_replaces_a_shorter_one_and_a_shorter_one_is_409(api, new_user):
    user = new_user()
    first = expect_json(time_out(api, user, 48), 201)["timeout_until"]
    longer = expect_json(time_out(api, user, 72), 201)["timeout_until"]
    assert parse_time(longer) > parse_time(first) + dt.timedelta(hours=23)
    for hours in (24, 71):
        expect_self_excluded(time_out(api, user, hours), status=409)
    assert get_limits(api, user)["timeout_until"] == longer


def test_each_kind_is_compared_with_its_own_kind(api, new_user):
    """A 24-hour time-out during a 5-year self-exclusion is no 'shorter one':
    it starts (201) and leaves the self-exclusion as it was."""
    user = new_user()
    excluded = expect_json(self_exclude(api, user, "5y"), 201)["self_excluded_until"]
    started = now_utc()
    resp = time_out(api, user, 24)
    answered = now_utc()
    until = expect_json(resp, 201)["timeout_until"]
    expect_between(until, started + dt.timedelta(hours=24), answered + dt.timedelta(hours=24), "timeout_until")
    limits = get_limits(api, user)
    assert (limits["self_excluded_until"], limits["timeout_until"]) == (excluded, until), limits
    # And the other way round: a running time-out does not block a self-exclusion.
    other = new_user()
    expect_json(time_out(api, other, MAX_TIMEOUT_HOURS), 201)
    expect_json(self_exclude(api, other, "6m"), 201)


# ==========================================================================
# While one runs
# ==========================================================================

@pytest.mark.parametrize("kind", EXCLUSION_KINDS)
def test_every_write_that_adds_risk_is_403_self_excluded_first(api, admin_token, new_user, new_match, snapshot,
                                                               kind):
    """Bets, accumulators, every cart write, checkout and the admin's
    deposits: 403 self_excluded before any other check (a bad body, an
    unknown or a suspended match, an item that is gone, an empty cart), and
    nothing changes."""
    user = new_user(balance=100_000)
    open_match, other_match, halted = new_match(), new_match(), new_match()
    suspend(api, admin_token, halted)
    item = added(api, user, open_match)
    until = start_exclusion(api, user, kind)
    snap = snapshot(user)
    uid = user.id
    item_url = f"{cart_url(user)}/items/{item['item_id']}"
    refused = {
        "single": place(api, user, open_match, "1", 100),
        "single on a missing match": api.post("/v1/bets", json={"user_id": uid, "match_id": MISSING_ID,
                                                                "selection": "1", "stake": 100}, token=user.token),
        "single on a suspended match": place(api, user, halted, "1", 100),
        "single with a bad body": api.post("/v1/bets", json={"user_id": uid, "stake": -1}, token=user.token),
        "accumulator": acca_req(api, user, [open_match, other_match], 100),
        "accumulator with one leg": acca_req(api, user, [open_match], 100),
        "cart add": add_item(api, user, other_match, "1", 100),
        "cart add on a missing match": api.post(cart_url(user) + "/items", json={
            "match_id": MISSING_ID, "selection": "1", "stake": 100}, token=user.token),
        "cart add with a bad body": api.post(cart_url(user) + "/items", json={"stake": "x"}, token=user.token),
        "cart update": api.patch(item_url, json={"stake": 200}, token=user.token),
        "cart update with a bad body": api.patch(item_url, json={"stake": -5}, token=user.token),
        "cart item delete": api.delete(item_url, token=user.token),
        "cart clear": api.delete(cart_url(user), token=user.token),
        "checkout": checkout(api, user),
        "checkout with a bad body": checkout(api, user, json={"x": 1}),
        "deposit": deposit_req(api, admin_token, user, 1000),
        "deposit with a bad amount": deposit_req(api, admin_token, user, -5),
    }
    for what, resp in refused.items():
        assert resp.status_code == 403, f"{what}: {describe(resp)}"
        expect_self_excluded(resp, until)
    snap.expect_unchanged()


def test_a_refused_cart_write_or_checkout_leaves_the_cart_as_it_was(api, admin_token, new_user, new_match,
                                                                     snapshot, limits_db):
    """A time-out set behind the API's back keeps the cart full, so the
    refusals can be seen to leave every item where it was."""
    user = new_user(balance=100_000)
    first = added(api, user, new_match(), "1", 100)
    added(api, user, new_match(), "2", 200)
    limits_db.start_timeout(user.id)
    snap = snapshot(user)
    item_url = f"{cart_url(user)}/items/{first['item_id']}"
    for resp in (api.patch(item_url, json={"stake": 300}, token=user.token),
                 api.delete(item_url, token=user.token),
                 api.delete(cart_url(user), token=user.token),
                 checkout(api, user),
                 add_item(api, user, new_match(), "1", 100)):
        expect_self_excluded(resp)
    snap.expect_unchanged()
    assert [i["stake"] for i in cart_items(api, user)] == [100, 200]


@pytest.mark.parametrize("kind", EXCLUSION_KINDS)
def test_reads_keep_working_while_excluded(api, admin_token, new_user, new_match, kind):
    user = new_user(balance=100_000)
    match = new_match()
    bet = expect_json(place(api, user, match, "1", 100), 201)
    until = start_exclusion(api, user, kind)
    for path in (f"/v1/users/{user.id}", f"/v1/users/{user.id}/bets", f"/v1/bets/{bet['id']}", cart_url(user),
                 f"/v1/users/{user.id}/transactions", limits_url(user.id), "/v1/matches",
                 f"/v1/matches/{match['id']}"):
        for token in (user.token, admin_token):
            if path == cart_url(user) and token == admin_token:
                continue
            expect_json(api.get(path, token=token), 200)
    limits = get_limits(api, user)
    assert limits["self_excluded_until" if kind == "self-exclusion" else "timeout_until"] == until, limits


@pytest.mark.parametrize("kind", EXCLUSION_KINDS)
def test_cash_out_of_a_bet_placed_before_works_while_excluded(api, admin_token, new_user, new_match, kind):
    """Cash-out closes a position, it does not open one."""
    user = new_user(balance=10_000)
    bet = expect_json(place(api, user, new_match(), "1", 1000), 201)
    start_exclusion(api, user, kind)
    quote = expect_json(api.post(f"/v1/bets/{bet['id']}/cash-out/quote", token=user.token), 201)
    resp = api.post(f"/v1/bets/{bet['id']}/cash-out", json={"quote_id": quote["quote_id"]}, token=user.token)
    assert expect_json(resp, 200)["status"] == "cashed_out"
    assert user_balance(api, admin_token, user.id) == 9000 + quote["amount"]


@pytest.mark.parametrize("kind", EXCLUSION_KINDS)
def test_once_it_has_passed_it_reads_null_and_betting_works_again(api, admin_token, new_user, new_match,
                                                                  limits_db, kind):
    user = new_user(balance=100_000)
    start_exclusion(api, user, kind)
    match = new_match()
    expect_self_excluded(place(api, user, match, "1", 100))
    end_exclusion(limits_db, user, kind)
    assert get_limits(api, user) == no_limits()
    expect_json(place(api, user, match, "1", 100), 201)
    expect_json(acca_req(api, user, [new_match(), new_match()], 100), 201)
    added(api, user, new_match(), "1", 100)
    expect_json(checkout(api, user), 201)
    expect_json(deposit_req(api, admin_token, user, 1000), 201)


def test_an_ended_time_out_leaves_a_running_self_exclusion_in_force(api, new_user, new_match, limits_db):
    user = new_user(balance=100_000)
    excluded = expect_json(self_exclude(api, user, "6m"), 201)["self_excluded_until"]
    expect_json(time_out(api, user, 24), 201)
    limits_db.end_timeout(user.id)
    limits = get_limits(api, user)
    assert (limits["self_excluded_until"], limits["timeout_until"]) == (excluded, None), limits
    expect_self_excluded(place(api, user, new_match(), "1", 100), excluded)


@pytest.mark.parametrize("kind", EXCLUSION_KINDS)
def test_an_exclusion_holds_on_every_shard_at_once(api, admin_token, base_url, new_user, new_match, bets_db, kind):
    """The next request after the 201, on whichever server thread it lands,
    is refused."""
    user = new_user(balance=100_000)
    match = new_match()
    start_exclusion(api, user, kind)
    results = on_fresh_connections(base_url, admin_token, lambda client: place(client, user, match, "1", 100))
    for resp in results:
        expect_self_excluded(resp)
    assert bets_db.bet_count(user_id=user.id) == 0


@pytest.mark.concurrency
def test_limits_and_exclusions_hold_across_two_instances(api, admin_token, base_url, new_user, new_match,
                                                          limits_db, bets_db, second_betsdb):
    """Bets through two server processes race for one stake limit; then a
    time-out started through one instance is in force on the other at once."""
    other = second_betsdb()
    user = new_user(balance=10_000_000)
    limit = ROOM * RACE_AMOUNT + RACE_AMOUNT - 1
    set_limits(api, user, {"stake": {"week": limit}})
    matches = [new_match() for _ in range(RACERS)]

    def request(client, i):
        body = {"user_id": user.id, "match_id": matches[i]["id"], "selection": "1", "stake": RACE_AMOUNT}
        return client.post("/v1/bets", json=body, token=user.token)

    responses = run_concurrently([base_url, other.base_url], admin_token, RACERS, request)
    expect_race_outcome(responses, "stake", ROOM)
    assert staked_total(limits_db, user) == ROOM * RACE_AMOUNT

    late = new_user(balance=100_000)
    other_api = Api(other.base_url, admin_token)
    try:
        match = new_match()
        expect_json(place(other_api, late, match, "X", 100), 201)   # the other instance has seen the user
        until = expect_json(time_out(api, late, 24), 201)["timeout_until"]
        expect_self_excluded(place(other_api, late, match, "1", 100), until)
        assert get_limits(other_api, late)["timeout_until"] == until
    finally:
        other_api.close()
    bets_db.expect_invariant("after the two-instance race")
    other.stop()


# ==========================================================================
# Bulk: many users at once stay independent
# ==========================================================================

def test_one_users_limits_and_exclusion_do_not_touch_another(api, admin_token, base_url, new_match):
    """Limits and exclusions are per user: ten users, every other one
    excluded with a stake limit of 0; the rest bet freely."""
    users = parallel_map(base_url, admin_token, lambda a, _: create_user(a, admin_token, 10_000), range(10))
    match = new_match()
    for i, user in enumerate(users):
        if i % 2:
            expect_limits(api.put(limits_url(user.id), json={"stake": {"day": 0}}, token=user.token))
            expect_json(time_out(api, user, 24), 201)
    for i, user in enumerate(users):
        resp = place(api, user, match, "1", 100)
        if i % 2:
            expect_self_excluded(resp)
        else:
            expect_json(resp, 201)


def test_a_pause_the_placing_statement_meets_is_not_kept_under_the_idempotency_key(api, new_user, new_match,
                                                                                    limits_db, bets_db):
    """api.md, Idempotency: a `403 self_excluded` is not stored, so a retry
    with the same key once the pause has ended acts. Here the time-out is in
    the database only (as when it starts while the bet is on its way), so it
    is the placing statement, not the route, that refuses the bet."""
    user = new_user(balance=100_000)
    match = new_match()
    key = f"key-{uuid.uuid4()}"
    limits_db.db.query(f"UPDATE {limits_db.users} SET timeout_until = now() + interval '1 hour' "
                       f"WHERE id = %s RETURNING id", (user.id,))
    body = {"user_id": user.id, "match_id": match["id"], "selection": "1", "stake": 1000}
    expect_self_excluded(api.post("/v1/bets", json=body, token=user.token, headers={"Idempotency-Key": key}))
    assert bets_db.bet_count(user_id=user.id) == 0
    limits_db.end_timeout(user.id)
    again = api.post("/v1/bets", json=body, token=user.token, headers={"Idempotency-Key": key})
    expect_json(again, 201)
    assert "Idempotent-Replayed" not in again.headers
    assert bets_db.bet_count(user_id=user.id) == 1


def test_a_time_out_taken_during_a_self_exclusion_keeps_the_cart_closed_for_the_longer(api, new_user, new_match,
                                                                                       limits_db, redis):
    """The cart stays closed until the later pause ends: a 24-hour time-out
    taken during a six-month self-exclusion must not reopen it after a day
    (and a self-exclusion after a time-out extends the close)."""
    first = new_user(balance=10_000)
    expect_json(self_exclude(api, first, "6m"), 201)
    expect_json(time_out(api, first, 24), 201)
    assert redis.pttl(limits_db.cart_pause_key(first.id)) > 150 * 86_400_000
    second = new_user(balance=10_000)
    expect_json(time_out(api, second, 24), 201)
    assert redis.pttl(limits_db.cart_pause_key(second.id)) <= 86_400_000
    expect_json(self_exclude(api, second, "6m"), 201)
    assert redis.pttl(limits_db.cart_pause_key(second.id)) > 150 * 86_400_000
    # What the expired close would have allowed: a cart write, refused.
    expect_self_excluded(api.post(cart_url(first) + "/items", json={"match_id": new_match()["id"], "selection": "1",
                                                         "stake": 100}, token=first.token))

"""Placing and reading bets (API.md: Bets), the duplicate-bet lock included.

Every rejected placement must leave the balance, the ledger and the bets
untouched; `Snapshot` proves it.
"""

import json
from decimal import Decimal

import pytest

import redis_keys
from api_support import (
    MAX_BODY_BYTES,
    describe,
    expect_json,
    expect_problem,
    expect_timestamp,
    expect_validation_failed,
    json_decimal,
    past_date,
)
from bet_support import (
    MAX_STAKE,
    MISSING_ID,
    bet_body,
    expect_bet,
    expect_consistent_ledger,
    expect_exactly_one_bet,
    lock_key,
    place_bet,
    run_concurrently,
    settle,
    statuses_and_codes,
    transactions,
    user_balance,
)

# The seed's lock test asks for "30+" concurrent identical bets.
CONCURRENT_BETS = 32


class Snapshot:
    """A user's balance, ledger length and bets, to compare after a rejection."""

    def __init__(self, db, bets_db, user):
        self.db, self.bets_db, self.user = db, bets_db, user
        self.before = self._take()

    def _take(self):
        return (self.db.balance(self.user.id), self.db.ledger_rows(self.user.id),
                self.bets_db.bet_count(user_id=self.user.id))

    def expect_unchanged(self):
        assert self._take() == self.before, f"{self.user} changed: {self.before} -> {self._take()}"


@pytest.fixture
def snapshot(db, bets_db):
    return lambda user: Snapshot(db, bets_db, user)


@pytest.fixture
def bettor(new_user):
    return new_user(balance=100_000)


# ------------------------------------------------------------------ placing

def test_place_bet_is_201_with_the_bet(api, bettor, new_match):
    match = new_match(odds={"1": 2.10, "X": 3.25, "2": 3.60})
    resp = place_bet(api, bettor, match, "1", 1000)
    bet = expect_bet(resp, 201, bettor, match, "1", 1000, "2.10")
    assert json_decimal(resp)["odds"] == Decimal("2.10")
    assert bet["potential_payout"] == 2100
    assert bet["status"] == "pending"
    assert bet["settled_at"] is None
    expect_timestamp(bet["created_at"])


def test_placing_debits_the_balance_and_writes_a_stake_row(api, admin_token, bettor, new_match, bets_db):
    match = new_match()
    bet = expect_json(place_bet(api, bettor, match, "X", 2500), 201)
    assert user_balance(api, admin_token, bettor.id) == 100_000 - 2500
    rows = expect_consistent_ledger(api, admin_token, bettor.id)
    assert [(r["kind"], r["amount"], r["bet_id"], r["balance_after"]) for r in rows] == [
        ("deposit", 100_000, None, 100_000),
        ("stake", -2500, bet["id"], 97_500),
    ]
    assert bets_db.bet_count(user_id=bettor.id, match_id=match["id"], status="pending") == 1
    bets_db.expect_invariant()


def test_each_selection_of_a_match_takes_its_own_bet_and_odds(api, admin_token, bettor, new_match):
    match = new_match(odds={"1": 2.10, "X": 3.25, "2": 3.60})
    placed = [expect_bet(place_bet(api, bettor, match, sel, stake), 201, bettor, match, sel, stake, odds)
              for sel, stake, odds in (("1", 100, "2.10"), ("X", 200, "3.25"), ("2", 300, "3.60"))]
    assert len({b["id"] for b in placed}) == 3
    rows = expect_consistent_ledger(api, admin_token, bettor.id)
    assert [(r["kind"], r["amount"], r["bet_id"], r["balance_after"]) for r in rows[1:]] == [
        ("stake", -100, placed[0]["id"], 99_900),
        ("stake", -200, placed[1]["id"], 99_700),
        ("stake", -300, placed[2]["id"], 99_400),
    ]


def test_stake_equal_to_the_whole_balance_leaves_zero(api, admin_token, new_user, new_match):
    user = new_user(balance=1234)
    expect_json(place_bet(api, user, new_match(), "2", 1234), 201)
    assert user_balance(api, admin_token, user.id) == 0
    expect_consistent_ledger(api, admin_token, user.id)


@pytest.mark.parametrize("stake", [1, MAX_STAKE])
def test_stake_bounds_are_accepted(api, new_user, new_match, stake):
    user = new_user(balance=MAX_STAKE)
    match = new_match(odds={"1": 1.5})
    expect_bet(place_bet(api, user, match, "1", stake), 201, user, match, "1", stake, "1.5")


def test_same_selection_for_two_users_is_two_bets(api, new_user, new_match):
    """Same match and selection for two users: two bets (the duplicate rule is per user)."""
    match = new_match()
    first, second = new_user(balance=500), new_user(balance=500)
    a = expect_json(place_bet(api, first, match, "1", 500), 201)
    b = expect_json(place_bet(api, second, match, "1", 500), 201)
    assert a["id"] != b["id"]


def test_bet_keeps_the_odds_it_was_placed_at(api, admin_token, new_user, new_match):
    match = new_match(odds={"1": 2.10, "X": 3.25})
    early, late = new_user(balance=10_000), new_user(balance=10_000)
    placed = expect_json(place_bet(api, early, match, "1", 1000), 201)
    expect_json(api.patch(f"/v1/matches/{match['id']}", json={"odds": {"1": 5.55}}, token=admin_token), 200)

    resp = api.get(f"/v1/bets/{placed['id']}", token=early.token)
    assert json_decimal(resp)["odds"] == Decimal("2.10")
    assert expect_json(resp, 200) == placed
    later = expect_bet(place_bet(api, late, match, "1", 1000), 201, late, match, "1", 1000, "5.55")
    assert later["potential_payout"] == 5550

    # ... and the payout is made at the odds each bet was placed at.
    expect_json(settle(api, admin_token, match["id"], "1"), 200)
    assert user_balance(api, admin_token, early.id) == 10_000 - 1000 + 2100
    assert user_balance(api, admin_token, late.id) == 10_000 - 1000 + 5550


def test_withdrawn_selection_cannot_be_bet_on(api, admin_token, bettor, new_match, snapshot):
    match = new_match(odds={"1": 2.10, "X": 3.25})
    expect_json(api.patch(f"/v1/matches/{match['id']}", json={"odds": {"X": None}}, token=admin_token), 200)
    snap = snapshot(bettor)
    expect_problem(place_bet(api, bettor, match, "X"), 422, "invalid_selection")
    snap.expect_unchanged()


# ---------------------------------------------------------- errors, in order

def test_no_token_is_401(api, bettor, new_match, snapshot):
    snap = snapshot(bettor)
    expect_problem(api.post("/v1/bets", json=bet_body(bettor, new_match())), 401, "unauthorized")
    snap.expect_unchanged()


@pytest.mark.parametrize("authorization", ["Bearer not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz",
                                           "Bearer " + "A" * 43])
def test_bad_token_is_401(api, bettor, new_match, snapshot, authorization):
    snap = snapshot(bettor)
    resp = api.post("/v1/bets", json=bet_body(bettor, new_match()), headers={"Authorization": authorization})
    expect_problem(resp, 401, "unauthorized")
    snap.expect_unchanged()


def test_auth_is_checked_before_the_body(api, admin_token):
    expect_problem(api.post("/v1/bets", body="{"), 401, "unauthorized")
    expect_problem(api.post("/v1/bets", body="{", token="nope"), 401, "unauthorized")
    expect_problem(api.post("/v1/bets", body="{", token=admin_token), 403, "forbidden")
    expect_problem(api.post("/v1/bets", body="x", token=admin_token, content_type="text/plain"), 403, "forbidden")


def test_admin_cannot_place_bets(api, admin_token, bettor, new_match, snapshot):
    snap = snapshot(bettor)
    expect_problem(api.post("/v1/bets", json=bet_body(bettor, new_match()), token=admin_token), 403, "forbidden")
    snap.expect_unchanged()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_body_that_is_not_json_is_415(api, bettor, new_match, snapshot, content_type):
    snap = snapshot(bettor)
    resp = api.post("/v1/bets", json=bet_body(bettor, new_match()), token=bettor.token, content_type=content_type)
    expect_problem(resp, 415, "unsupported_media_type")
    snap.expect_unchanged()


def test_body_over_64_kib_is_413(api, bettor, new_match, snapshot):
    snap = snapshot(bettor)
    match = new_match()
    raw = ('{"user_id":%d,"match_id":%d,"selection":"1","stake":100,"pad":"%s"}'
           % (bettor.id, match["id"], "p" * MAX_BODY_BYTES))
    expect_problem(api.post("/v1/bets", body=raw, token=bettor.token), 413, "payload_too_large")
    snap.expect_unchanged()


@pytest.mark.parametrize("raw", ["", "{", '{"stake":1000,}', '{"stake":1000} x', "{'stake':1000}",
                                 '{"stake":1000,"stake":1000}'])
def test_malformed_json_is_400(api, bettor, snapshot, raw):
    snap = snapshot(bettor)
    expect_problem(api.post("/v1/bets", body=raw, token=bettor.token), 400, "invalid_json")
    snap.expect_unchanged()


@pytest.mark.parametrize("raw", ["[]", '"bet"', "1000", "null", "true"])
def test_body_that_is_not_an_object_is_422(api, bettor, raw):
    expect_problem(api.post("/v1/bets", body=raw, token=bettor.token), 422, "validation_failed")


@pytest.mark.parametrize("extra", [{"price": 2.10}, {"note": "x"}, {"status": "won"}, {"Stake": 1000}])
def test_unknown_field_is_422_naming_it(api, bettor, new_match, snapshot, extra):
    snap = snapshot(bettor)
    body = dict(bet_body(bettor, new_match()), **extra)
    expect_validation_failed(api.post("/v1/bets", json=body, token=bettor.token), next(iter(extra)))
    snap.expect_unchanged()


@pytest.mark.parametrize("field", ["user_id", "match_id", "selection", "stake"])
def test_missing_field_is_422_naming_it(api, bettor, new_match, snapshot, field):
    snap = snapshot(bettor)
    body = bet_body(bettor, new_match())
    del body[field]
    expect_validation_failed(api.post("/v1/bets", json=body, token=bettor.token), field)
    snap.expect_unchanged()


@pytest.mark.parametrize(
    "field, raw_value",
    [
        ("stake", "0"), ("stake", "100000001"), ("stake", "1000.0"), ('stake', '"1000"'), ("stake", "null"),
        ("stake", "-1000"), ("stake", "true"), ("stake", "1e3"), ("stake", "10.5"),
        ("stake", str(2**63)), ("stake", str(-2**63)), ("stake", "[1000]"),
        ("selection", '"x"'), ("selection", '"3"'), ("selection", '""'), ("selection", '"1 "'),
        ("selection", '"draw"'), ("selection", "1"), ("selection", "null"), ("selection", '["1"]'),
        ("match_id", "0"), ("match_id", "-3"), ("match_id", str(2**63)), ("match_id", '"3"'), ("match_id", "null"), ("match_id", "1.5"),
        ("user_id", "0"), ("user_id", "-1"), ("user_id", "null"), ("user_id", "{}"),
    ],
)
def test_invalid_field_is_422_naming_it(api, bettor, new_match, snapshot, field, raw_value):
    snap = snapshot(bettor)
    body = bet_body(bettor, new_match())
    placeholder = "__VALUE__"
    body[field] = placeholder
    raw = json.dumps(body, separators=(",", ":")).replace(f'"{placeholder}"', raw_value)
    expect_validation_failed(api.post("/v1/bets", body=raw, token=bettor.token), field)
    snap.expect_unchanged()


def test_user_id_as_a_string_is_422_not_accepted_as_the_caller(api, bettor, new_match, snapshot):
    snap = snapshot(bettor)
    body = dict(bet_body(bettor, new_match()), user_id=str(bettor.id))
    expect_validation_failed(api.post("/v1/bets", json=body, token=bettor.token), "user_id")
    snap.expect_unchanged()


def test_every_invalid_field_is_reported(api, bettor):
    body = {"user_id": bettor.id, "match_id": 0, "selection": "Z", "stake": 0}
    problem = expect_validation_failed(api.post("/v1/bets", json=body, token=bettor.token))
    fields = {e["field"] for e in problem["errors"]}
    assert {"match_id", "selection", "stake"} <= fields, problem


def test_another_users_id_is_403(api, bettor, new_user, new_match, snapshot):
    other = new_user(balance=100_000)
    snaps = [snapshot(bettor), snapshot(other)]
    body = bet_body(other, new_match())
    expect_problem(api.post("/v1/bets", json=body, token=bettor.token), 403, "forbidden")
    for snap in snaps:
        snap.expect_unchanged()


def test_another_users_id_with_an_invalid_body_is_422_first(api, bettor, new_user, new_match):
    other = new_user(balance=100_000)
    body = dict(bet_body(other, new_match()), stake=0)
    expect_validation_failed(api.post("/v1/bets", json=body, token=bettor.token), "stake")


def test_missing_users_id_is_403(api, bettor, new_match):
    body = dict(bet_body(bettor, new_match()), user_id=MISSING_ID)
    expect_problem(api.post("/v1/bets", json=body, token=bettor.token), 403, "forbidden")


def test_another_users_id_is_403_before_match_not_found(api, bettor, new_user):
    other = new_user(balance=100_000)
    body = {"user_id": other.id, "match_id": MISSING_ID, "selection": "1", "stake": 100}
    expect_problem(api.post("/v1/bets", json=body, token=bettor.token), 403, "forbidden")


def test_missing_match_is_404_match_not_found(api, bettor, snapshot):
    snap = snapshot(bettor)
    body = {"user_id": bettor.id, "match_id": MISSING_ID, "selection": "1", "stake": 100}
    expect_problem(api.post("/v1/bets", json=body, token=bettor.token), 404, "match_not_found")
    snap.expect_unchanged()


def test_largest_match_id_is_404_match_not_found(api, bettor):
    body = {"user_id": bettor.id, "match_id": 2**63 - 1, "selection": "1", "stake": 100}
    expect_problem(api.post("/v1/bets", json=body, token=bettor.token), 404, "match_not_found")


def test_selection_not_offered_is_422_invalid_selection(api, bettor, new_match, snapshot):
    match = new_match(odds={"1": 2.10, "X": 3.25})
    snap = snapshot(bettor)
    expect_problem(place_bet(api, bettor, match, "2"), 422, "invalid_selection")
    snap.expect_unchanged()


def test_invalid_selection_comes_before_match_closed(api, bettor, new_match):
    match = new_match(odds={"1": 2.10}, date=past_date(days=1))
    expect_problem(place_bet(api, bettor, match, "X"), 422, "invalid_selection")


def test_match_in_the_past_is_422_match_closed(api, bettor, new_match, snapshot):
    match = new_match(date=past_date(days=1))
    snap = snapshot(bettor)
    expect_problem(place_bet(api, bettor, match, "1"), 422, "match_closed")
    snap.expect_unchanged()


def test_settled_match_is_422_match_closed(api, admin_token, bettor, new_match, snapshot):
    match = new_match()
    expect_json(settle(api, admin_token, match["id"], "2"), 200)
    snap = snapshot(bettor)
    for sel in ("1", "X", "2"):
        expect_problem(place_bet(api, bettor, match, sel), 422, "match_closed")
    snap.expect_unchanged()


def test_match_closed_comes_before_duplicate_bet(api, admin_token, bettor, new_match):
    match = new_match()
    expect_json(place_bet(api, bettor, match, "1"), 201)
    expect_json(settle(api, admin_token, match["id"], "X"), 200)
    expect_problem(place_bet(api, bettor, match, "1"), 422, "match_closed")


def test_second_bet_on_the_same_selection_is_409_duplicate_bet(api, bettor, new_match, snapshot):
    match = new_match()
    expect_json(place_bet(api, bettor, match, "X", 1000), 201)
    snap = snapshot(bettor)
    expect_problem(place_bet(api, bettor, match, "X", 1000), 409, "duplicate_bet")
    expect_problem(place_bet(api, bettor, match, "X", 7), 409, "duplicate_bet")
    snap.expect_unchanged()


def test_duplicate_bet_comes_before_insufficient_funds(api, new_user, new_match):
    user = new_user(balance=1000)
    match = new_match()
    expect_json(place_bet(api, user, match, "1", 1000), 201)
    expect_problem(place_bet(api, user, match, "1", 1000), 409, "duplicate_bet")
    expect_problem(place_bet(api, user, match, "X", 1000), 422, "insufficient_funds")


@pytest.mark.parametrize("balance, stake", [(999, 1000), (None, 1), (MAX_STAKE - 1, MAX_STAKE)])
def test_stake_over_the_balance_is_422_insufficient_funds(api, new_user, new_match, snapshot, balance, stake):
    user = new_user(balance=balance)
    snap = snapshot(user)
    expect_problem(place_bet(api, user, new_match(), "1", stake), 422, "insufficient_funds")
    snap.expect_unchanged()


def test_unknown_query_parameter_is_400_and_places_nothing(api, bettor, new_match, snapshot):
    """API.md: "Unknown or repeated query parameters ... give 400 invalid_parameter"."""
    snap = snapshot(bettor)
    resp = api.post("/v1/bets?stake=1", json=bet_body(bettor, new_match()), token=bettor.token)
    expect_problem(resp, 400, "invalid_parameter")
    snap.expect_unchanged()


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_on_bets_are_405(api, bettor, method):
    expect_problem(api.request(method, "/v1/bets", json={}, token=bettor.token), 405, "method_not_allowed")


# -------------------------------------------------------------- reading

def test_owner_reads_the_bet(api, bettor, new_match):
    placed = expect_json(place_bet(api, bettor, new_match(), "2", 500), 201)
    assert expect_json(api.get(f"/v1/bets/{placed['id']}", token=bettor.token), 200) == placed


def test_admin_reads_any_bet(api, admin_token, bettor, new_match):
    placed = expect_json(place_bet(api, bettor, new_match(), "2", 500), 201)
    assert expect_json(api.get(f"/v1/bets/{placed['id']}", token=admin_token), 200) == placed


def test_another_user_reading_a_bet_is_403(api, bettor, new_user, new_match):
    placed = expect_json(place_bet(api, bettor, new_match()), 201)
    expect_problem(api.get(f"/v1/bets/{placed['id']}", token=new_user().token), 403, "forbidden")


def test_reading_a_bet_without_token_is_401(api, bettor, new_match):
    placed = expect_json(place_bet(api, bettor, new_match()), 201)
    expect_problem(api.get(f"/v1/bets/{placed['id']}"), 401, "unauthorized")
    expect_problem(api.get(f"/v1/bets/{placed['id']}", token="bad-token"), 401, "unauthorized")


def test_missing_bet_is_404_bet_not_found(api, admin_token, bettor):
    expect_problem(api.get(f"/v1/bets/{MISSING_ID}", token=admin_token), 404, "bet_not_found")
    expect_problem(api.get(f"/v1/bets/{MISSING_ID}", token=bettor.token), 404, "bet_not_found")


def test_missing_bet_with_the_largest_id_is_404_bet_not_found(api, admin_token):
    expect_problem(api.get(f"/v1/bets/{2**63 - 1}", token=admin_token), 404, "bet_not_found")


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "1.5", "1e3", str(2**64)])
def test_bet_path_id_that_is_not_a_positive_integer_is_404_not_found(api, admin_token, bad_id):
    expect_problem(api.get(f"/v1/bets/{bad_id}", token=admin_token), 404, "not_found")


def test_reading_a_bet_with_a_query_parameter_is_400(api, bettor, new_match):
    placed = expect_json(place_bet(api, bettor, new_match()), 201)
    expect_problem(api.get(f"/v1/bets/{placed['id']}?x=1", token=bettor.token), 400, "invalid_parameter")


# ---------------------------------------------------------------- the lock

@pytest.mark.concurrency
def test_concurrent_identical_bets_place_exactly_one(api, admin_token, base_url, new_user, new_match, redis,
                                                     bets_db):
    """The seed's lock test: 30+ identical bets at once -> one 201, the rest 409,
    one debit, and no lock left behind."""
    user = new_user(balance=1_000_000)
    match = new_match()
    body = bet_body(user, match, "1", 1000)

    responses = run_concurrently([base_url], admin_token, CONCURRENT_BETS,
                                 lambda client, i: client.post("/v1/bets", json=body, token=user.token))
    expect_exactly_one_bet(api, admin_token, bets_db, responses, user, match, 1000, 1_000_000)
    rows = expect_consistent_ledger(api, admin_token, user.id)
    assert [r["kind"] for r in rows] == ["deposit", "stake"]
    assert redis_keys.bet_locks_of(redis, user.id) == set()


def test_held_lock_is_409_bet_in_progress_until_released(api, bettor, new_match, redis, snapshot):
    match = new_match()
    key = lock_key(bettor.id, match)
    assert redis.set(key, "held-by-the-test", px=120_000, nx=True)
    try:
        snap = snapshot(bettor)
        for sel in ("1", "X"):  # the lock covers the user's bets on the whole match
            expect_problem(place_bet(api, bettor, match, sel), 409, "bet_in_progress")
        snap.expect_unchanged()
        # Only its owner may release it.
        assert redis.get(key) == "held-by-the-test"
    finally:
        redis.delete(key)
    expect_json(place_bet(api, bettor, match, "1"), 201)
    assert redis.exists(key) == 0


def test_held_lock_does_not_block_other_users_or_matches(api, bettor, new_user, new_match, redis):
    match, other_match = new_match(), new_match()
    key = lock_key(bettor.id, match)
    assert redis.set(key, "held-by-the-test", px=120_000, nx=True)
    try:
        other = new_user(balance=10_000)
        expect_json(place_bet(api, other, match, "1"), 201)
        expect_json(place_bet(api, bettor, other_match, "1"), 201)
        expect_problem(place_bet(api, bettor, match, "1"), 409, "bet_in_progress")
    finally:
        redis.delete(key)


@pytest.mark.concurrency
def test_concurrent_bets_never_overdraw_the_balance(api, admin_token, base_url, new_user, new_match, bets_db):
    """The conditional debit: 12 bets of 300 on different matches against a
    balance of 1000 -> exactly 3 placed, 100 left, never below zero."""
    user = new_user(balance=1000)
    matches = [new_match() for _ in range(12)]

    responses = run_concurrently(
        [base_url], admin_token, len(matches),
        lambda client, i: client.post("/v1/bets", json=bet_body(user, matches[i], "1", 300), token=user.token))
    outcomes = statuses_and_codes(responses)
    assert outcomes.count((201, None)) == 3, outcomes
    assert outcomes.count((422, "insufficient_funds")) == 9, outcomes
    assert user_balance(api, admin_token, user.id) == 100
    assert bets_db.bet_count(user_id=user.id) == 3
    rows = expect_consistent_ledger(api, admin_token, user.id)
    assert sorted(r["balance_after"] for r in rows) == [100, 400, 700, 1000]
    bets_db.expect_invariant()


def test_no_lock_is_left_after_sequential_bets(api, bettor, new_match, redis):
    match = new_match()
    for sel in ("1", "X", "2"):
        expect_json(place_bet(api, bettor, match, sel, 10), 201)
    expect_problem(place_bet(api, bettor, match, "2", 10), 409, "duplicate_bet")
    assert redis.exists(lock_key(bettor.id, match)) == 0
    assert len(transactions(api, bettor.token, bettor.id)) == 4


def test_back_to_back_bets_on_one_match_never_meet_their_own_lock(api, new_user, new_match):
    """The lock is released before the answer (the contract's order), so a
    bettor's next bet on the same match, sent as soon as the answer arrives,
    is never 409 bet_in_progress."""
    user = new_user(balance=1_000_000)
    for _ in range(15):
        match = new_match()
        for selection in ("1", "X", "2"):
            body = {"user_id": user.id, "match_id": match["id"], "selection": selection, "stake": 100}
            resp = api.post("/v1/bets", json=body, token=user.token)
            assert resp.status_code == 201, describe(resp)

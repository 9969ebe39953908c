"""Settling matches and the money it moves (API.md: Matches "POST .../result",
Bets, Users "Invariant"): payout arithmetic at the edges, void refunds,
settlement idempotency and races, ledger rows, and the ledger invariant after
a randomized mix of deposits, bets and settlements.
"""

import os
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from api_support import (
    Api,
    describe,
    expect_json,
    expect_problem,
    expect_timestamp,
    expect_validation_failed,
    future_date,
    past_date,
)
from bet_support import (
    MAX_STAKE,
    MISSING_ID,
    SETTLED_KEYS,
    bet_body,
    create_user,
    deposit,
    expect_bet,
    expect_consistent_ledger,
    expected_payout,
    ledger_of_kind,
    parallel_map,
    place_bet,
    run_concurrently,
    settle,
    statuses_and_codes,
    transactions,
    user_balance,
)

# "settlement of a match with ~2,000 pending bets from many users": each user
# may hold one bet per selection, so 3 bets a user.
BULK_USERS = 680
SELECTIONS = ("1", "X", "2")


def settled_body(won=0, lost=0, void=0, paid_out=0, refunded=0):
    return {"won": won, "lost": lost, "void": void, "paid_out": paid_out, "refunded": refunded}


def expect_settlement(resp, match, result, expected):
    """200 {"match": the settled match, "settled": expected}; returns the body."""
    body = expect_json(resp, 200)
    assert set(body.keys()) == {"match", "settled"}, describe(resp)
    assert set(body["settled"].keys()) == SETTLED_KEYS, describe(resp)
    assert body["settled"] == expected, describe(resp)
    settled_match = body["match"]
    assert settled_match["id"] == match["id"]
    assert settled_match["status"] == "settled", describe(resp)
    assert settled_match["result"] == result, describe(resp)
    for key in ("team_1", "team_2", "date", "odds", "created_at"):
        assert settled_match[key] == match[key], (key, describe(resp))
    return body


@pytest.fixture
def match_with_bets(api, new_user, new_match):
    """A match with bets from three users: ann 1 and X, bob X, cid 2 and X."""
    match = new_match(odds={"1": 2.10, "X": 3.25, "2": 3.60})
    users = {name: new_user(balance=100_000) for name in ("ann", "bob", "cid")}
    plan = [("ann", "1", 1000), ("ann", "X", 333), ("bob", "X", 2001), ("cid", "2", 777), ("cid", "X", 1)]
    odds = {"1": "2.10", "X": "3.25", "2": "3.60"}
    bets = []
    for name, sel, stake in plan:
        user = users[name]
        bet = expect_bet(place_bet(api, user, match, sel, stake), 201, user, match, sel, stake, odds[sel])
        bets.append((name, bet))
    return match, users, bets


# ------------------------------------------------------------ who may settle

def test_settling_without_token_is_401(api, match_with_bets, db, bets_db):
    match, _, bets = match_with_bets
    before = db.match_row(match["id"])
    expect_problem(api.post(f"/v1/matches/{match['id']}/result", json={"result": "1"}), 401, "unauthorized")
    expect_problem(api.post(f"/v1/matches/{match['id']}/result", json={"result": "1"}, token="nope"),
                   401, "unauthorized")
    assert db.match_row(match["id"]) == before
    assert bets_db.bet_count(match_id=match["id"], status="pending") == len(bets)


def test_settling_with_a_user_token_is_403(api, match_with_bets, db, bets_db):
    match, users, bets = match_with_bets
    before = db.match_row(match["id"])
    resp = api.post(f"/v1/matches/{match['id']}/result", json={"result": "1"}, token=users["ann"].token)
    expect_problem(resp, 403, "forbidden")
    assert db.match_row(match["id"]) == before
    assert bets_db.bet_count(match_id=match["id"], status="pending") == len(bets)


# ------------------------------------------------------------- bad requests

@pytest.mark.parametrize(
    "raw",
    ['{"result":"3"}', '{"result":"x"}', '{"result":"VOID"}', '{"result":"Void"}', '{"result":""}',
     '{"result":" 1"}', '{"result":"draw"}', '{"result":null}', '{"result":1}', '{"result":2}',
     '{"result":true}', '{"result":["1"]}', '{"result":{}}', "{}"],
)
def test_bad_result_is_422_and_changes_nothing(api, admin_token, match_with_bets, db, bets_db, raw):
    match, _, bets = match_with_bets
    before = db.match_row(match["id"])
    expect_validation_failed(api.post(f"/v1/matches/{match['id']}/result", body=raw, token=admin_token), "result")
    assert db.match_row(match["id"]) == before
    assert bets_db.bet_count(match_id=match["id"], status="pending") == len(bets)


def test_unknown_field_in_a_result_is_422(api, admin_token, new_match, db):
    match = new_match()
    before = db.match_row(match["id"])
    resp = api.post(f"/v1/matches/{match['id']}/result", json={"result": "1", "score": "2-1"}, token=admin_token)
    expect_validation_failed(resp, "score")
    assert db.match_row(match["id"]) == before


@pytest.mark.parametrize("raw", ["[]", '"1"', "null"])
def test_result_body_that_is_not_an_object_is_422(api, admin_token, new_match, raw):
    match = new_match()
    expect_problem(api.post(f"/v1/matches/{match['id']}/result", body=raw, token=admin_token), 422,
                   "validation_failed")


def test_result_body_with_bad_media_type_or_syntax(api, admin_token, new_match, db):
    match = new_match()
    before = db.match_row(match["id"])
    path = f"/v1/matches/{match['id']}/result"
    expect_problem(api.post(path, body='{"result":"1"}', token=admin_token, content_type="text/plain"),
                   415, "unsupported_media_type")
    expect_problem(api.post(path, body='{"result":"1"', token=admin_token), 400, "invalid_json")
    expect_problem(api.post(path, token=admin_token), 415, "unsupported_media_type")
    assert db.match_row(match["id"]) == before


def test_settling_a_missing_match_is_404(api, admin_token):
    expect_problem(settle(api, admin_token, MISSING_ID, "1"), 404, "match_not_found")


@pytest.mark.parametrize("bad_id", ["abc", "0", "-2"])
def test_settling_a_bad_path_id_is_404_not_found(api, admin_token, bad_id):
    expect_problem(api.post(f"/v1/matches/{bad_id}/result", json={"result": "1"}, token=admin_token),
                   404, "not_found")


def test_other_methods_on_result_are_405(api, admin_token, new_match):
    match = new_match()
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        expect_problem(api.request(method, f"/v1/matches/{match['id']}/result", token=admin_token),
                       405, "method_not_allowed")


# ---------------------------------------------------------------- settling

@pytest.mark.parametrize("result", ["1", "X", "2"])
def test_settling_pays_winners_and_reports_exact_totals(api, admin_token, match_with_bets, result):
    match, users, bets = match_with_bets
    before = {name: user_balance(api, admin_token, u.id) for name, u in users.items()}
    winners = [(name, b) for name, b in bets if b["selection"] == result]
    losers = [(name, b) for name, b in bets if b["selection"] != result]
    paid_out = sum(b["potential_payout"] for _, b in winners)

    body = expect_settlement(settle(api, admin_token, match["id"], result), match, result,
                             settled_body(won=len(winners), lost=len(losers), paid_out=paid_out))
    assert expect_json(api.get(f"/v1/matches/{match['id']}"), 200) == body["match"]

    for name, user in users.items():
        won = sum(b["potential_payout"] for n, b in winners if n == name)
        assert user_balance(api, admin_token, user.id) == before[name] + won, name
        rows = expect_consistent_ledger(api, admin_token, user.id)
        payouts = ledger_of_kind(rows, "payout")
        assert sorted((r["bet_id"], r["amount"]) for r in payouts) == sorted(
            (b["id"], b["potential_payout"]) for n, b in winners if n == name)
    for name, bet in bets:
        now = expect_json(api.get(f"/v1/bets/{bet['id']}", token=users[name].token), 200)
        assert now["status"] == ("won" if bet["selection"] == result else "lost"), now
        expect_timestamp(now["settled_at"])
        assert {k: v for k, v in now.items() if k not in ("status", "settled_at")} == {
            k: v for k, v in bet.items() if k not in ("status", "settled_at")}


def test_void_refunds_every_stake(api, admin_token, match_with_bets):
    match, users, bets = match_with_bets
    before = {name: user_balance(api, admin_token, u.id) for name, u in users.items()}
    refunded = sum(b["stake"] for _, b in bets)
    expect_settlement(settle(api, admin_token, match["id"], "void"), match, "void",
                      settled_body(void=len(bets), refunded=refunded))
    for name, user in users.items():
        mine = [b for n, b in bets if n == name]
        assert user_balance(api, admin_token, user.id) == before[name] + sum(b["stake"] for b in mine)
        assert user_balance(api, admin_token, user.id) == 100_000
        rows = expect_consistent_ledger(api, admin_token, user.id)
        refunds = ledger_of_kind(rows, "refund")
        assert sorted((r["bet_id"], r["amount"]) for r in refunds) == sorted((b["id"], b["stake"]) for b in mine)
        assert ledger_of_kind(rows, "payout") == []
    for name, bet in bets:
        now = expect_json(api.get(f"/v1/bets/{bet['id']}", token=users[name].token), 200)
        assert now["status"] == "void"
        expect_timestamp(now["settled_at"])


def test_several_refunds_of_one_user_have_running_balances(api, admin_token, new_user, new_match):
    user = new_user(balance=1000)
    match = new_match()
    placed = [expect_json(place_bet(api, user, match, sel, stake), 201)
              for sel, stake in (("1", 100), ("X", 200), ("2", 300))]
    expect_json(settle(api, admin_token, match["id"], "void"), 200)
    rows = expect_consistent_ledger(api, admin_token, user.id)  # balance_after chains row by row
    refunds = ledger_of_kind(rows, "refund")
    assert sorted((r["bet_id"], r["amount"]) for r in refunds) == sorted((b["id"], b["stake"]) for b in placed)
    assert rows[-4]["balance_after"] == 400
    assert rows[-1]["balance_after"] == 1000


def test_settling_a_match_without_bets(api, admin_token, new_match):
    match = new_match()
    expect_settlement(settle(api, admin_token, match["id"], "X"), match, "X", settled_body())


def test_result_may_be_entered_before_or_after_the_match_date(api, admin_token, new_match):
    early = new_match(date=future_date(days=300))
    late = new_match(date=past_date(days=3))
    expect_settlement(settle(api, admin_token, early["id"], "1"), early, "1", settled_body())
    expect_settlement(settle(api, admin_token, late["id"], "void"), late, "void", settled_body())


def test_result_before_the_date_settles_the_pending_bets(api, admin_token, new_user, new_match):
    match = new_match(date=future_date(days=1))
    user = new_user(balance=5000)
    bet = expect_json(place_bet(api, user, match, "2", 5000), 201)
    expect_settlement(settle(api, admin_token, match["id"], "2"), match, "2",
                      settled_body(won=1, paid_out=bet["potential_payout"]))
    assert user_balance(api, admin_token, user.id) == 18_000


# --------------------------------------------------------- settling twice

@pytest.mark.parametrize("result", ["1", "void"])
def test_same_result_again_returns_the_same_body_and_changes_nothing(api, admin_token, match_with_bets, db,
                                                                     bets_db, result):
    match, users, bets = match_with_bets
    first = settle(api, admin_token, match["id"], result)
    expect_json(first, 200)
    state = _money_state(api, admin_token, users, db)
    row = db.match_row(match["id"])
    for _ in range(2):
        again = settle(api, admin_token, match["id"], result)
        assert expect_json(again, 200) == first.json()
    assert _money_state(api, admin_token, users, db) == state
    assert db.match_row(match["id"]) == row
    assert bets_db.bet_count(match_id=match["id"], status="pending") == 0


def _money_state(api, admin_token, users, db):
    return {name: (user_balance(api, admin_token, u.id), db.ledger_rows(u.id)) for name, u in users.items()}


@pytest.mark.parametrize("first, second", [("1", "2"), ("1", "void"), ("void", "X"), ("X", "1")])
def test_another_result_after_settlement_is_409_already_settled(api, admin_token, match_with_bets, db,
                                                                first, second):
    match, users, bets = match_with_bets
    settled = expect_json(settle(api, admin_token, match["id"], first), 200)
    state = _money_state(api, admin_token, users, db)
    row = db.match_row(match["id"])
    expect_problem(settle(api, admin_token, match["id"], second), 409, "already_settled")
    assert _money_state(api, admin_token, users, db) == state
    assert db.match_row(match["id"]) == row
    assert expect_json(api.get(f"/v1/matches/{match['id']}"), 200) == settled["match"]
    # ... and the first result can still be repeated.
    assert expect_json(settle(api, admin_token, match["id"], first), 200) == settled


def test_settled_match_refuses_odds_changes(api, admin_token, new_match, db):
    match = new_match()
    expect_json(settle(api, admin_token, match["id"], "1"), 200)
    row = db.match_row(match["id"])
    expect_problem(api.patch(f"/v1/matches/{match['id']}", json={"odds": {"1": 1.5}}, token=admin_token),
                   422, "match_closed")
    assert db.match_row(match["id"]) == row


def test_settled_match_refuses_new_bets(api, admin_token, new_user, new_match, bets_db):
    match = new_match()
    expect_json(settle(api, admin_token, match["id"], "void"), 200)
    user = new_user(balance=1000)
    for sel in SELECTIONS:
        expect_problem(place_bet(api, user, match, sel, 10), 422, "match_closed")
    assert bets_db.bet_count(user_id=user.id) == 0
    assert user_balance(api, admin_token, user.id) == 1000


# -------------------------------------------------------------- races

@pytest.mark.concurrency
def test_concurrent_identical_settlements_pay_once(api, admin_token, base_url, match_with_bets, db, bets_db):
    match, users, bets = match_with_bets
    responses = run_concurrently([base_url], admin_token, 10,
                                 lambda client, i: settle(client, admin_token, match["id"], "X"))
    bodies = [expect_json(r, 200) for r in responses]
    assert all(b == bodies[0] for b in bodies)
    winners = [b for _, b in bets if b["selection"] == "X"]
    assert bodies[0]["settled"] == settled_body(won=len(winners), lost=len(bets) - len(winners),
                                                paid_out=sum(b["potential_payout"] for b in winners))
    for user in users.values():
        rows = expect_consistent_ledger(api, admin_token, user.id)
        payout_bets = [r["bet_id"] for r in ledger_of_kind(rows, "payout")]
        assert len(payout_bets) == len(set(payout_bets))
    assert sum(len(ledger_of_kind(transactions(api, admin_token, u.id), "payout"))
               for u in users.values()) == len(winners)
    bets_db.expect_invariant()


@pytest.mark.concurrency
def test_concurrent_different_results_settle_once(api, admin_token, base_url, match_with_bets, bets_db):
    match, users, bets = match_with_bets
    results = ["1", "X", "2", "void"] * 3
    responses = run_concurrently([base_url], admin_token, len(results),
                                 lambda client, i: settle(client, admin_token, match["id"], results[i]))
    accepted = {results[i] for i, r in enumerate(responses) if r.status_code == 200}
    assert len(accepted) == 1, statuses_and_codes(responses)
    (winner,) = accepted
    for i, resp in enumerate(responses):
        if results[i] == winner:
            expect_json(resp, 200)
        else:
            expect_problem(resp, 409, "already_settled")
    assert expect_json(api.get(f"/v1/matches/{match['id']}"), 200)["result"] == winner
    for name, bet in bets:
        status = expect_json(api.get(f"/v1/bets/{bet['id']}", token=admin_token), 200)["status"]
        expected = "void" if winner == "void" else ("won" if bet["selection"] == winner else "lost")
        assert status == expected, (winner, bet, status)
    for user in users.values():
        expect_consistent_ledger(api, admin_token, user.id)
    bets_db.expect_invariant()


@pytest.mark.concurrency
def test_bets_racing_a_settlement_are_either_settled_or_refused(api, admin_token, base_url, new_match, bets_db):
    """No bet may slip in after the settlement and stay pending (or unpaid)."""
    match = new_match(odds={"1": 1.5, "X": 3.0, "2": 4.0})
    bettors = parallel_map(base_url, admin_token, lambda a, i: create_user(a, admin_token, 10_000), range(24))

    def act(client, i):
        if i == 0:
            return settle(client, admin_token, match["id"], "1")
        user = bettors[i - 1]
        return client.post("/v1/bets", json=bet_body(user, match, "1", 1000), token=user.token)

    responses = run_concurrently([base_url], admin_token, 1 + len(bettors), act)
    settlement = expect_json(responses[0], 200)
    placed = []
    for user, resp in zip(bettors, responses[1:]):
        if resp.status_code == 201:
            placed.append((user, resp.json()))
        else:
            expect_problem(resp, 422, "match_closed")
    assert settlement["settled"] == settled_body(won=len(placed), paid_out=1500 * len(placed))
    assert bets_db.bet_count(match_id=match["id"], status="pending") == 0
    assert bets_db.bet_count(match_id=match["id"], status="won") == len(placed)
    for user, bet in placed:
        assert user_balance(api, admin_token, user.id) == 10_000 - 1000 + 1500
    bets_db.expect_invariant()


@pytest.mark.concurrency
def test_concurrent_settlements_of_matches_sharing_bettors(api, admin_token, base_url, new_match, bets_db):
    """Settlements of different matches credit overlapping users (and deposits
    land meanwhile): no deadlock, no lost update, every balance exact."""
    matches = [new_match(odds={"1": 2.0, "X": 3.0, "2": 4.0}) for _ in range(6)]
    users = parallel_map(base_url, admin_token, lambda a, i: create_user(a, admin_token, 60_000), range(10))

    def bet_everywhere(client, user):
        placed = []
        for match in matches:
            for sel in random.Random(user.id).sample(SELECTIONS, 2):
                placed.append(expect_json(client.post("/v1/bets", json=bet_body(user, match, sel, 1000 + user.id % 97),
                                                      token=user.token), 201))
        return placed

    placed = parallel_map(base_url, admin_token, bet_everywhere, users, workers=4)
    results = ["1", "X", "2", "void", "1", "2"]

    def act(client, i):
        if i < len(matches):
            return settle(client, admin_token, matches[i]["id"], results[i])
        return client.post(f"/v1/users/{users[i - len(matches)].id}/deposits", json={"amount": 7},
                           token=admin_token)

    responses = run_concurrently([base_url], admin_token, len(matches) + len(users), act)
    for i, resp in enumerate(responses):
        expect_json(resp, 200 if i < len(matches) else 201)
    result_of = {m["id"]: r for m, r in zip(matches, results)}
    for user, bets in zip(users, placed):
        expected = 60_000 + 7
        for bet in bets:
            result = result_of[bet["match_id"]]
            expected -= bet["stake"]
            if result == "void":
                expected += bet["stake"]
            elif result == bet["selection"]:
                expected += bet["potential_payout"]
        assert user_balance(api, admin_token, user.id) == expected, user
        expect_consistent_ledger(api, admin_token, user.id)
    bets_db.expect_invariant()


# ---------------------------------------------------------- payout edges

@pytest.mark.parametrize(
    "stake, odds, payout",
    [
        (1, "1.01", 1),                        # 1.01 -> 1
        (1, "1000.00", 1000),
        (MAX_STAKE, "1.01", 101_000_000),
        (MAX_STAKE, "1000.00", 100_000_000_000),
        (MAX_STAKE, "999.99", 99_999_000_000),
        (MAX_STAKE - 1, "1.01", 100_999_998),  # 100999998.99 -> down
        (99, "1.01", 99),                      # 99.99 -> 99
        (1, "1.99", 1),
        (100, "1.13", 113),                    # binary floats say 112.99999999999999
        (100, "1.15", 115),                    # ... and 114.99999999999999
        (100, "4.35", 435),                    # ... and 434.99999999999994
        (7, "1.15", 8),                        # 8.05 -> 8
        (3, "2.35", 7),                        # 7.05 -> 7
        (33, "3.33", 109),                     # 109.89 -> 109
        (12_345_678, "7.77", 95_925_918),      # 95925918.06
    ],
)
def test_payout_is_floor_of_stake_times_odds(api, admin_token, new_user, new_match, stake, odds, payout):
    assert expected_payout(stake, odds) == payout
    match = new_match(odds={"1": float(odds), "2": 1.5})
    user = new_user(balance=stake)
    bet = expect_bet(place_bet(api, user, match, "1", stake), 201, user, match, "1", stake, odds)
    assert bet["potential_payout"] == payout
    assert expect_json(api.get(f"/v1/bets/{bet['id']}", token=user.token), 200)["potential_payout"] == payout

    expect_settlement(settle(api, admin_token, match["id"], "1"), match, "1",
                      settled_body(won=1, paid_out=payout))
    assert user_balance(api, admin_token, user.id) == payout
    rows = expect_consistent_ledger(api, admin_token, user.id)
    assert [(r["kind"], r["amount"], r["bet_id"], r["balance_after"]) for r in rows] == [
        ("deposit", stake, None, stake),
        ("stake", -stake, bet["id"], 0),
        ("payout", payout, bet["id"], payout),
    ]


@pytest.mark.parametrize("stake", [1, MAX_STAKE])
def test_void_refunds_the_stake_exactly_at_the_edges(api, admin_token, new_user, new_match, stake):
    match = new_match(odds={"1": 1000})
    user = new_user(balance=stake)
    bet = expect_json(place_bet(api, user, match, "1", stake), 201)
    expect_settlement(settle(api, admin_token, match["id"], "void"), match, "void",
                      settled_body(void=1, refunded=stake))
    rows = expect_consistent_ledger(api, admin_token, user.id)
    assert [(r["kind"], r["amount"], r["bet_id"], r["balance_after"]) for r in rows] == [
        ("deposit", stake, None, stake), ("stake", -stake, bet["id"], 0), ("refund", stake, bet["id"], stake)]


def test_lost_bet_pays_nothing(api, admin_token, new_user, new_match):
    match = new_match()
    user = new_user(balance=500)
    expect_json(place_bet(api, user, match, "1", 500), 201)
    expect_settlement(settle(api, admin_token, match["id"], "2"), match, "2", settled_body(lost=1))
    assert user_balance(api, admin_token, user.id) == 0
    assert [r["kind"] for r in expect_consistent_ledger(api, admin_token, user.id)] == ["deposit", "stake"]


# ------------------------------------------------------- ~2,000 pending bets

def test_settling_a_match_with_about_2000_bets_in_one_request(api, admin_token, base_url, new_match, bets_db):
    match = new_match(odds={"1": 1.87, "X": 3.41, "2": 4.09})
    odds = {"1": "1.87", "X": "3.41", "2": "4.09"}
    rng = random.Random(2000)
    stakes = [[rng.randint(1, 30_000) for _ in SELECTIONS] for _ in range(BULK_USERS)]

    def make_bettor(client, i):
        user = create_user(client, admin_token, sum(stakes[i]) + i)
        bets = []
        for sel, stake in zip(SELECTIONS, stakes[i]):
            resp = client.post("/v1/bets", json=bet_body(user, match, sel, stake), token=user.token)
            bets.append(expect_json(resp, 201))
        return user, bets

    made = parallel_map(base_url, admin_token, make_bettor, range(BULK_USERS))
    total_bets = 3 * BULK_USERS
    assert bets_db.bet_count(match_id=match["id"], status="pending") == total_bets

    result = "X"
    winners = [b for _, bets in made for b in bets if b["selection"] == result]
    paid_out = sum(expected_payout(b["stake"], odds[result]) for b in winners)
    expect_settlement(settle(api, admin_token, match["id"], result), match, result,
                      settled_body(won=BULK_USERS, lost=2 * BULK_USERS, paid_out=paid_out))
    assert bets_db.bet_count(match_id=match["id"], status="pending") == 0
    assert bets_db.bet_count(match_id=match["id"], status="won") == BULK_USERS
    assert bets_db.bet_count(match_id=match["id"], status="lost") == 2 * BULK_USERS

    for i, (user, bets) in enumerate(made):
        x_bet = bets[1]
        expected_balance = i + expected_payout(x_bet["stake"], odds["X"])
        assert bets_db.db.balance(user.id) == expected_balance, (user, bets)
        assert bets_db.ledger_kinds(user.id) == [
            ("deposit", sum(stakes[i]) + i),
            ("stake", -stakes[i][0]), ("stake", -stakes[i][1]), ("stake", -stakes[i][2]),
            ("payout", expected_payout(x_bet["stake"], odds["X"])),
        ], user
    for user, _ in made[:: BULK_USERS // 10]:  # the API's view of a sample
        expect_consistent_ledger(api, admin_token, user.id)
    bets_db.expect_invariant()


# --------------------------------------------------- the ledger invariant

def _seed():
    seed = os.environ.get("BETSDB_TEST_SEED")
    return int(seed) if seed else random.randrange(2**32)


def _random_odds(rng):
    offered = [s for s in SELECTIONS if rng.random() < 0.8] or [rng.choice(SELECTIONS)]
    return {s: Decimal(rng.choice([rng.randint(101, 1000), rng.randint(101, 100_000)])) / 100 for s in offered}


def _odds_json(odds):
    return {s: float(v) for s, v in odds.items()}


class Model:
    """What the contract says the server must answer, for one test's users and matches."""

    def __init__(self):
        self.balance = {}
        self.odds = {}      # match id -> {selection: Decimal}
        self.result = {}    # match id -> result, once settled
        self.first_settlement = {}
        self.bets = {}      # (user id, match id, selection) -> bet

    def place(self, user_id, match_id, sel, stake):
        """(status, code, odds) the contract predicts."""
        if sel not in self.odds[match_id]:
            return 422, "invalid_selection"
        if match_id in self.result:
            return 422, "match_closed"
        if (user_id, match_id, sel) in self.bets:
            return 409, "duplicate_bet"
        if stake > self.balance[user_id]:
            return 422, "insufficient_funds"
        return 201, None

    def settle(self, match_id, result):
        totals = settled_body()
        for (user_id, m, sel), bet in self.bets.items():
            if m != match_id:
                continue
            if result == "void":
                totals["void"] += 1
                totals["refunded"] += bet["stake"]
                self.balance[user_id] += bet["stake"]
            elif sel == result:
                totals["won"] += 1
                totals["paid_out"] += bet["potential_payout"]
                self.balance[user_id] += bet["potential_payout"]
            else:
                totals["lost"] += 1
        self.result[match_id] = result
        return totals


def test_ledger_invariant_after_a_random_sequence(api, admin_token, new_user, new_match, bets_db):
    """Deposits, bets (good and bad), odds changes and settlements (first,
    repeated, conflicting) in a random order, each answer checked against a
    model of the contract, then every balance against its ledger."""
    seed = _seed()
    rng = random.Random(seed)
    ctx = f"[BETSDB_TEST_SEED={seed}]"
    model = Model()
    users = [new_user(balance=rng.randint(1, 50_000)) for _ in range(6)]
    for u in users:
        model.balance[u.id] = u.balance
    users.append(new_user())  # one without money
    model.balance[users[-1].id] = 0
    matches = []
    for _ in range(6):
        odds = _random_odds(rng)
        matches.append(new_match(odds=_odds_json(odds)))
        model.odds[matches[-1]["id"]] = odds

    for step in range(250):
        op = rng.choices(["deposit", "bet", "settle", "patch"], weights=[2, 12, 1, 1])[0]
        where = f"{ctx} step {step} {op}"
        if op == "deposit":
            user = rng.choice(users)
            amount = rng.choice([1, rng.randint(1, 100_000)])
            assert deposit(api, admin_token, user.id, amount)["balance"] == model.balance[user.id] + amount, where
            model.balance[user.id] += amount
        elif op == "bet":
            user, match = rng.choice(users), rng.choice(matches)
            sel = rng.choice(SELECTIONS)
            stake = rng.choice([rng.randint(1, 2000), max(1, model.balance[user.id]),
                                model.balance[user.id] + 1, rng.randint(1, max(1, model.balance[user.id]))])
            stake = min(stake, MAX_STAKE)
            status, code = model.place(user.id, match["id"], sel, stake)
            resp = place_bet(api, user, match, sel, stake)
            if status == 201:
                odds = model.odds[match["id"]][sel]
                bet = expect_bet(resp, 201, user, match, sel, stake, odds)
                model.bets[(user.id, match["id"], sel)] = bet
                model.balance[user.id] -= stake
            else:
                assert (resp.status_code, resp.json().get("code")) == (status, code), f"{where}: {describe(resp)}"
        elif op == "settle":
            match = rng.choice(matches)
            result = rng.choice(["1", "X", "2", "void"])
            resp = settle(api, admin_token, match["id"], result)
            if match["id"] not in model.result:
                totals = model.settle(match["id"], result)
                body = expect_json(resp, 200)
                assert body["settled"] == totals, where
                model.first_settlement[match["id"]] = body
            elif model.result[match["id"]] == result:
                assert expect_json(resp, 200) == model.first_settlement[match["id"]], where
            else:
                expect_problem(resp, 409, "already_settled")
        else:
            match = rng.choice(matches)
            offered = model.odds[match["id"]]
            sel = rng.choice(SELECTIONS)
            new = None if (sel in offered and len(offered) > 1 and rng.random() < 0.3) \
                else Decimal(rng.randint(101, 100_000)) / 100
            resp = api.patch(f"/v1/matches/{match['id']}", json={"odds": {sel: None if new is None else float(new)}},
                             token=admin_token)
            if match["id"] in model.result:
                expect_problem(resp, 422, "match_closed")
            else:
                expect_json(resp, 200)
                if new is None:
                    offered.pop(sel, None)
                else:
                    offered[sel] = new

    for user in users:
        assert user_balance(api, admin_token, user.id) == model.balance[user.id], f"{ctx} {user}"
        rows = expect_consistent_ledger(api, admin_token, user.id)
        stakes = sorted(r["bet_id"] for r in ledger_of_kind(rows, "stake"))
        assert stakes == sorted(b["id"] for (uid, _, _), b in model.bets.items() if uid == user.id), ctx
    for (user_id, match_id, sel), bet in model.bets.items():
        status = expect_json(api.get(f"/v1/bets/{bet['id']}", token=admin_token), 200)["status"]
        result = model.result.get(match_id)
        expected = "pending" if result is None else "void" if result == "void" else \
            "won" if result == sel else "lost"
        assert status == expected, f"{ctx} bet {bet}"
    bets_db.expect_invariant(ctx)


@pytest.mark.concurrency
def test_ledger_invariant_after_a_concurrent_random_mix(api, admin_token, base_url, new_match, bets_db):
    """Users betting and being credited while the admin settles matches, all at
    once: afterwards every balance is exactly what its answered writes and the
    settled results imply, and equals the sum of its ledger."""
    seed = _seed()
    ctx = f"[BETSDB_TEST_SEED={seed}]"
    user_count, rounds = 8, 30
    matches = [new_match(odds={"1": 1.5, "X": 3.2, "2": 5.75}) for _ in range(8)]
    odds = {"1": "1.5", "X": "3.2", "2": "5.75"}
    users = parallel_map(base_url, admin_token,
                         lambda a, i: create_user(a, admin_token, 20_000), range(user_count))
    start = threading.Barrier(user_count + 1)
    results = {}

    def bettor(client, i):
        rng = random.Random(seed * 1000 + i)
        user = users[i]
        log = {"deposits": 0, "deposit_count": 0, "bets": []}
        start.wait()
        for _ in range(rounds):
            if rng.random() < 0.15:
                amount = rng.randint(1, 5000)
                deposit(client, admin_token, user.id, amount)
                log["deposits"] += amount
                log["deposit_count"] += 1
                continue
            match = rng.choice(matches)
            sel = rng.choice(["1", "X", "2"])
            resp = client.post("/v1/bets", json=bet_body(user, match, sel, rng.randint(1, 4000)), token=user.token)
            if resp.status_code == 201:
                log["bets"].append(resp.json())
            else:
                problem = expect_problem(resp, resp.status_code)
                assert (resp.status_code, problem["code"]) in {
                    (409, "duplicate_bet"), (422, "insufficient_funds"), (422, "match_closed")}, describe(resp)
        return log

    def settler(client):
        rng = random.Random(seed)
        start.wait()
        for match in rng.sample(matches, 6):
            result = rng.choice(["1", "X", "2", "void"])
            expect_json(settle(client, admin_token, match["id"], result), 200)
            results[match["id"]] = result

    clients = [Api(base_url, admin_token) for _ in range(user_count + 1)]
    try:
        with ThreadPoolExecutor(max_workers=user_count + 1) as pool:
            settled = pool.submit(settler, clients[-1])
            logs = list(pool.map(lambda i: bettor(clients[i], i), range(user_count)))
            settled.result()
    finally:
        for c in clients:
            c.close()

    for user, log in zip(users, logs):
        expected = 20_000 + log["deposits"]
        for bet in log["bets"]:
            expected -= bet["stake"]
            assert bet["potential_payout"] == expected_payout(bet["stake"], odds[bet["selection"]])
            result = results.get(bet["match_id"])
            now = expect_json(api.get(f"/v1/bets/{bet['id']}", token=admin_token), 200)
            if result is None:
                assert now["status"] == "pending", f"{ctx} {now}"
            elif result == "void":
                assert now["status"] == "void", f"{ctx} {now}"
                expected += bet["stake"]
            elif result == bet["selection"]:
                assert now["status"] == "won", f"{ctx} {now}"
                expected += bet["potential_payout"]
            else:
                assert now["status"] == "lost", f"{ctx} {now}"
        assert user_balance(api, admin_token, user.id) == expected, f"{ctx} {user}"
        rows = expect_consistent_ledger(api, admin_token, user.id)
        assert sorted(r["bet_id"] for r in ledger_of_kind(rows, "stake")) == sorted(b["id"] for b in log["bets"])
        assert len(ledger_of_kind(rows, "deposit")) == 1 + log["deposit_count"], ctx
    for match_id in results:
        assert bets_db.bet_count(match_id=match_id, status="pending") == 0, ctx
    bets_db.expect_invariant(ctx)

"""Settling accumulators (API.md Part 2, "Accumulators"; Matches "POST
.../result"): each pending leg on the match takes won/lost/void as a single
would; a lost leg makes the bet lost at once; once every leg is resolved and
none lost the bet is won and pays floor(stake x the won legs' odds) (void
legs count 1), or void with the stake refunded if every leg is void. The
settlement's totals count the bets (singles and accumulators) that became
final in that step. Afterwards every balance equals the sum of its ledger
(checked through the API and in the database) and the cached reads show the
settlement at once.
"""

import itertools
import math
import re

import pytest

from api_support import describe, expect_json, expect_problem, expect_timestamp
from bet_support import (
    SETTLED_KEYS,
    run_concurrently,
    settle,
    statuses_and_codes,
    user_balance,
)
from cache_support import keys_under, wait_for_new_keys
from redis_keys import BETS_LIST, SUMMARY, user_bets as user_bets_prefix
from test_accumulators import (
    acca_body,
    acca_payout,
    bet_rows,
    expect_ledger,
    get_bet,
    leg_statuses,
    make_match,
    lg,
    TEN_LEGS,
    TEN_LEGS_STAKE,
    odds_product,
    placed_acca,
    summary,
    summary_delta,
    ten_leg_acca,
    user_bets,
)
from test_cli import betsdb, show
from trading_support import place

# The race of the last two legs' settlements: rounds, cycling through these results.
RACE_ROUNDS = 16
RACE_RESULTS = [("1", "1"), ("2", "1"), ("2", "2"), ("void", "void"), ("void", "1")]


def settled_body(won=0, lost=0, void=0, paid_out=0, refunded=0):
    return {"won": won, "lost": lost, "void": void, "paid_out": paid_out, "refunded": refunded}


def settled(api, admin_token, match_id, result):
    """POST the result; 200 with the settled match; returns the "settled" totals."""
    resp = settle(api, admin_token, match_id, result)
    body = expect_json(resp, 200)
    assert set(body) == {"match", "settled"}, describe(resp)
    assert set(body["settled"]) == SETTLED_KEYS, describe(resp)
    assert (body["match"]["id"], body["match"]["status"], body["match"]["result"]) == \
        (match_id, "settled", result), describe(resp)
    return body["settled"]


def leg_result(selection, result):
    if result == "void":
        return "void"
    return "won" if selection == result else "lost"


@pytest.fixture
def bettor(new_user):
    return new_user(balance=1_000_000)


@pytest.fixture
def trio(api, admin_token):
    """Three matches at 2.00 / 3.50 / 1.25 on selections 1 / X / 2 (the contract's example)."""
    return (make_match(api, admin_token, {"1": 2.00, "X": 3.10, "2": 4.00}),
            make_match(api, admin_token, {"1": 1.50, "X": 3.50, "2": 5.00}),
            make_match(api, admin_token, {"1": 3.00, "X": 3.20, "2": 1.25}))


def example_acca(api, bettor, trio, stake=1000):
    a, b, c = trio
    return placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.50"), (c, "2", "1.25")], stake)


# ==========================================================================
# One accumulator, leg by leg
# ==========================================================================

def test_a_lost_leg_makes_the_accumulator_lost_at_once(api, admin_token, bettor, trio, bets_db):
    a, b, c = trio
    bet = example_acca(api, bettor, trio)
    balance = user_balance(api, admin_token, bettor.id)
    assert settled(api, admin_token, a["id"], "X") == settled_body(lost=1)
    now = get_bet(api, bettor.token, bet["id"])
    assert now["status"] == "lost" and leg_statuses(now) == ["lost", "pending", "pending"], now
    expect_timestamp(now["settled_at"])
    lost_at = now["settled_at"]
    # The other legs follow their own matches; the bet stays lost, nothing is paid.
    assert settled(api, admin_token, b["id"], "X") == settled_body()
    now = get_bet(api, bettor.token, bet["id"])
    assert (now["status"], leg_statuses(now), now["settled_at"]) == ("lost", ["lost", "won", "pending"], lost_at)
    assert settled(api, admin_token, c["id"], "void") == settled_body()
    now = get_bet(api, bettor.token, bet["id"])
    assert (now["status"], leg_statuses(now), now["settled_at"]) == ("lost", ["lost", "won", "void"], lost_at)
    assert {k: v for k, v in now.items() if k not in ("status", "settled_at", "legs")} == \
        {k: v for k, v in bet.items() if k not in ("status", "settled_at", "legs")}
    assert user_balance(api, admin_token, bettor.id) == balance
    assert bet_rows(expect_ledger(api, admin_token, bettor.id), bet["id"]) == [("stake", -1000)]
    bets_db.expect_invariant()


def test_won_and_void_legs_pay_the_product_of_the_won_legs(api, admin_token, bettor, trio, bets_db):
    a, b, c = trio
    bet = example_acca(api, bettor, trio)
    assert bet["potential_payout"] == 8750
    balance = user_balance(api, admin_token, bettor.id)
    assert settled(api, admin_token, b["id"], "void") == settled_body()
    now = get_bet(api, bettor.token, bet["id"])
    assert (now["status"], now["settled_at"], leg_statuses(now)) == ("pending", None, ["pending", "void", "pending"])
    assert settled(api, admin_token, a["id"], "1") == settled_body()
    now = get_bet(api, bettor.token, bet["id"])
    assert (now["status"], now["settled_at"], leg_statuses(now)) == ("pending", None, ["won", "void", "pending"])
    # floor(1000 x 2.00 x 1.25): the void leg counts 1.
    assert settled(api, admin_token, c["id"], "2") == settled_body(won=1, paid_out=2500)
    now = get_bet(api, bettor.token, bet["id"])
    assert (now["status"], leg_statuses(now)) == ("won", ["won", "void", "won"])
    expect_timestamp(now["settled_at"])
    assert now["potential_payout"] == 8750  # never changes; the ledger holds what was paid
    assert user_balance(api, admin_token, bettor.id) == balance + 2500
    assert bet_rows(expect_ledger(api, admin_token, bettor.id), bet["id"]) == [("stake", -1000), ("payout", 2500)]
    bets_db.expect_invariant()


def test_a_suspended_legs_match_settles_its_leg(api, admin_token, bettor, trio):
    a, b, c = trio
    bet = example_acca(api, bettor, trio)
    for match in trio:
        expect_json(api.post(f"/v1/matches/{match['id']}/suspend", token=admin_token), 200)
    assert settled(api, admin_token, a["id"], "1") == settled_body()
    assert settled(api, admin_token, b["id"], "X") == settled_body()
    assert leg_statuses(get_bet(api, bettor.token, bet["id"])) == ["won", "won", "pending"]
    assert settled(api, admin_token, c["id"], "2") == settled_body(won=1, paid_out=8750)
    assert get_bet(api, bettor.token, bet["id"])["status"] == "won"


def test_every_leg_won_pays_the_exact_product_not_the_rounded_odds(api, admin_token, bettor):
    a = make_match(api, admin_token, {"1": 2.13, "X": 3.00})
    b = make_match(api, admin_token, {"1": 1.13, "X": 3.00})
    bet = placed_acca(api, bettor, [(a, "1", "2.13"), (b, "1", "1.13")], 10_000)
    assert bet["odds"] == 2.40 and bet["potential_payout"] == 24_069
    assert settled(api, admin_token, b["id"], "1") == settled_body()
    assert settled(api, admin_token, a["id"], "1") == settled_body(won=1, paid_out=24_069)
    rows = expect_ledger(api, admin_token, bettor.id)
    assert bet_rows(rows, bet["id"]) == [("stake", -10_000), ("payout", 24_069)]
    assert rows[-1]["balance_after"] == 1_000_000 - 10_000 + 24_069


@pytest.mark.parametrize("won", [10, 5, 1])
def test_ten_legs_near_the_cap_pay_exactly(api, admin_token, new_user, won):
    """All ten legs won pay 9 999 999 007 312; with the last legs void, the
    product of the won ones (computed exactly, far beyond 64 bits in hundredths)."""
    user = new_user(balance=10_000_000)
    legs, bet = ten_leg_acca(api, admin_token, user)
    expected = acca_payout(TEN_LEGS_STAKE, TEN_LEGS[:won])
    assert expected == {10: 9_999_999_007_312, 5: 8_630_154_054_783, 1: 46_918_966}[won]
    for n, match in enumerate(legs[:-1]):
        assert settled(api, admin_token, match["id"], "1" if n < won else "void") == settled_body()
    last = "1" if won == 10 else "void"
    assert settled(api, admin_token, legs[-1]["id"], last) == settled_body(won=1, paid_out=expected)
    now = get_bet(api, user.token, bet["id"])
    assert (now["status"], now["potential_payout"]) == ("won", 9_999_999_007_312)
    assert leg_statuses(now) == ["won"] * won + ["void"] * (10 - won)
    rows = expect_ledger(api, admin_token, user.id)
    assert bet_rows(rows, bet["id"]) == [("stake", -TEN_LEGS_STAKE), ("payout", expected)]
    assert user_balance(api, admin_token, user.id) == 10_000_000 - TEN_LEGS_STAKE + expected


def test_every_leg_void_refunds_the_stake(api, admin_token, bettor, trio, bets_db):
    bet = example_acca(api, bettor, trio, stake=777)
    for match in trio[:2]:
        assert settled(api, admin_token, match["id"], "void") == settled_body()
        assert get_bet(api, bettor.token, bet["id"])["status"] == "pending"
    assert settled(api, admin_token, trio[2]["id"], "void") == settled_body(void=1, refunded=777)
    now = get_bet(api, bettor.token, bet["id"])
    assert (now["status"], leg_statuses(now)) == ("void", ["void", "void", "void"])
    expect_timestamp(now["settled_at"])
    assert user_balance(api, admin_token, bettor.id) == 1_000_000
    assert bet_rows(expect_ledger(api, admin_token, bettor.id), bet["id"]) == [("stake", -777), ("refund", 777)]
    bets_db.expect_invariant()


def test_a_lost_last_leg_after_won_ones_loses_the_bet(api, admin_token, bettor, trio):
    a, b, c = trio
    bet = example_acca(api, bettor, trio)
    assert settled(api, admin_token, a["id"], "1") == settled_body()
    assert settled(api, admin_token, b["id"], "X") == settled_body()
    assert get_bet(api, bettor.token, bet["id"])["status"] == "pending"
    assert settled(api, admin_token, c["id"], "1") == settled_body(lost=1)
    now = get_bet(api, bettor.token, bet["id"])
    assert (now["status"], leg_statuses(now)) == ("lost", ["won", "won", "lost"])
    assert bet_rows(expect_ledger(api, admin_token, bettor.id), bet["id"]) == [("stake", -1000)]


def test_repeating_the_result_changes_nothing_and_another_is_409(api, admin_token, bettor, trio, db):
    a, b, c = trio
    bet = example_acca(api, bettor, trio)
    settled(api, admin_token, a["id"], "1")
    settled(api, admin_token, b["id"], "X")
    first = settle(api, admin_token, c["id"], "2")
    assert expect_json(first, 200)["settled"] == settled_body(won=1, paid_out=8750)
    state = (db.balance(bettor.id), db.ledger_rows(bettor.id), get_bet(api, admin_token, bet["id"]))
    for _ in range(2):
        again = settle(api, admin_token, c["id"], "2")
        assert expect_json(again, 200) == first.json()
        assert settle(api, admin_token, a["id"], "1").json()["settled"] == settled_body()
    expect_problem(settle(api, admin_token, c["id"], "1"), 409, "already_settled")
    expect_problem(settle(api, admin_token, b["id"], "void"), 409, "already_settled")
    assert (db.balance(bettor.id), db.ledger_rows(bettor.id), get_bet(api, admin_token, bet["id"])) == state


# ==========================================================================
# One match, many bets: the step's totals
# ==========================================================================

def test_the_totals_count_singles_and_the_accumulators_that_became_final(api, admin_token, new_user):
    m = make_match(api, admin_token, {"1": 2.20, "X": 3.30, "2": 3.10})
    won_before = make_match(api, admin_token, {"1": 1.80, "X": 3.00})
    lost_before = make_match(api, admin_token)
    void_before = make_match(api, admin_token)
    still_open = make_match(api, admin_token)
    ann, bob = new_user(balance=100_000), new_user(balance=100_000)
    single_won = expect_json(place(api, ann, m, "1", 1000), 201)
    single_lost = expect_json(place(api, bob, m, "2", 700), 201)
    acca_lost_now = placed_acca(api, ann, [(m, "2", "3.10"), (still_open, "1", "2.00")], 300)
    acca_won_now = placed_acca(api, ann, [(won_before, "1", "1.80"), (m, "1", "2.20")], 1111)
    acca_void_won = placed_acca(api, bob, [(m, "1", "2.20"), (void_before, "X", "3.00")], 999)
    acca_still_pending = placed_acca(api, bob, [(m, "1", "2.20"), (still_open, "X", "3.00")], 500)
    acca_lost_before = placed_acca(api, bob, [(lost_before, "1", "2.00"), (m, "1", "2.20")], 400)
    assert settled(api, admin_token, won_before["id"], "1") == settled_body()
    assert settled(api, admin_token, lost_before["id"], "2") == settled_body(lost=1)
    assert settled(api, admin_token, void_before["id"], "void") == settled_body()

    paid = {single_won["id"]: 2200, acca_won_now["id"]: acca_payout(1111, ["1.80", "2.20"]),
            acca_void_won["id"]: acca_payout(999, ["2.20"])}
    assert list(paid.values()) == [2200, 4399, 2197]
    assert settled(api, admin_token, m["id"], "1") == settled_body(won=3, lost=2, paid_out=sum(paid.values()))
    expected = {single_won["id"]: "won", single_lost["id"]: "lost", acca_lost_now["id"]: "lost",
                acca_won_now["id"]: "won", acca_void_won["id"]: "won", acca_still_pending["id"]: "pending",
                acca_lost_before["id"]: "lost"}
    for bet_id, status in expected.items():
        assert get_bet(api, admin_token, bet_id)["status"] == status, bet_id
    for user in (ann, bob):
        rows = expect_ledger(api, admin_token, user.id)
        payouts = {r["bet_id"]: r["amount"] for r in rows if r["kind"] == "payout"}
        assert payouts == {k: v for k, v in paid.items() if get_bet(api, admin_token, k)["user_id"] == user.id}


def test_a_void_match_voids_its_singles_and_its_legs(api, admin_token, new_user):
    m = make_match(api, admin_token)
    won_before = make_match(api, admin_token, {"1": 1.50, "X": 3.00})
    lost_before = make_match(api, admin_token)
    still_open = make_match(api, admin_token)
    void_before = make_match(api, admin_token)
    user = new_user(balance=100_000)
    single = expect_json(place(api, user, m, "X", 500), 201)
    becomes_won = placed_acca(api, user, [(m, "1", "2.00"), (won_before, "1", "1.50")], 1001)
    stays_pending = placed_acca(api, user, [(m, "2", "4.00"), (still_open, "1", "2.00")], 300)
    already_lost = placed_acca(api, user, [(m, "X", "3.00"), (lost_before, "2", "4.00")], 200)
    becomes_void = placed_acca(api, user, [(void_before, "1", "2.00"), (m, "1", "2.00")], 123)
    settled(api, admin_token, won_before["id"], "1")
    assert settled(api, admin_token, lost_before["id"], "1") == settled_body(lost=1)
    settled(api, admin_token, void_before["id"], "void")
    assert settled(api, admin_token, m["id"], "void") == settled_body(
        won=1, void=2, paid_out=1501, refunded=500 + 123)
    states = {b["id"]: get_bet(api, admin_token, b["id"])
              for b in (single, becomes_won, stays_pending, already_lost, becomes_void)}
    assert states[single["id"]]["status"] == "void"
    assert (states[becomes_won["id"]]["status"], leg_statuses(states[becomes_won["id"]])) == ("won", ["void", "won"])
    assert (states[stays_pending["id"]]["status"], leg_statuses(states[stays_pending["id"]])) == \
        ("pending", ["void", "pending"])
    assert (states[already_lost["id"]]["status"], leg_statuses(states[already_lost["id"]])) == \
        ("lost", ["void", "lost"])
    assert (states[becomes_void["id"]]["status"], leg_statuses(states[becomes_void["id"]])) == \
        ("void", ["void", "void"])
    rows = expect_ledger(api, admin_token, user.id)
    assert bet_rows(rows, becomes_won["id"]) == [("stake", -1001), ("payout", 1501)]
    assert bet_rows(rows, becomes_void["id"]) == [("stake", -123), ("refund", 123)]
    assert bet_rows(rows, single["id"]) == [("stake", -500), ("refund", 500)]
    assert bet_rows(rows, already_lost["id"]) == [("stake", -200)]
    assert bet_rows(rows, stays_pending["id"]) == [("stake", -300)]


# ==========================================================================
# Every combination, against a model of the contract
# ==========================================================================

COMBO_ODDS = [{"1": "2.00", "X": "3.10", "2": "4.25"},
              {"1": "1.85", "X": "3.40", "2": "5.50"},
              {"1": "2.75", "X": "3.05", "2": "2.60"}]


class Model:
    """What the contract says settling does to singles and accumulators."""

    def __init__(self):
        self.bets = {}  # id -> {"legs": [(match index, selection, odds)], "stake", "single"}
        self.legs = {}  # id -> [leg status]
        self.status = {}
        self.credit = {}  # id -> (kind, amount)

    def add(self, bet_id, legs, stake, single=False):
        self.bets[bet_id] = {"legs": legs, "stake": stake, "single": single}
        self.legs[bet_id] = ["pending"] * len(legs)
        self.status[bet_id] = "pending"

    def settle(self, index, result):
        totals = settled_body()
        for bet_id, bet in self.bets.items():
            touched = False
            for n, (i, selection, _) in enumerate(bet["legs"]):
                if i == index:
                    self.legs[bet_id][n] = leg_result(selection, result)
                    touched = True
            if not touched or self.status[bet_id] != "pending":
                continue
            legs = self.legs[bet_id]
            if "lost" in legs:
                self.status[bet_id] = "lost"
                totals["lost"] += 1
            elif "pending" not in legs:
                won = [odds for (_, _, odds), s in zip(bet["legs"], legs) if s == "won"]
                if won:
                    amount = math.floor(bet["stake"] * odds_product(won))
                    self.status[bet_id] = "won"
                    self.credit[bet_id] = ("payout", amount)
                    totals["won"] += 1
                    totals["paid_out"] += amount
                else:
                    self.status[bet_id] = "void"
                    self.credit[bet_id] = ("refund", bet["stake"])
                    totals["void"] += 1
                    totals["refunded"] += bet["stake"]
        return totals


@pytest.mark.parametrize("results", [("1", "X", "void"), ("void", "void", "void"), ("2", "2", "1"),
                                     ("X", "void", "2")])
def test_every_combination_of_legs_and_results(api, admin_token, new_user, bets_db, results):
    """Every accumulator over two or three of three matches (every selection on
    each leg: 54 bets) and every single, settled match by match: each step's
    totals, every bet's and leg's status, settled_at, the balance and the ledger."""
    matches = [make_match(api, admin_token, {k: float(v) for k, v in odds.items()}) for odds in COMBO_ODDS]
    user = new_user(balance=1_000_000)
    model = Model()
    n = 0
    for size in (2, 3):
        for indices in itertools.combinations(range(3), size):
            for selections in itertools.product("1X2", repeat=size):
                spec = [(matches[i], s, COMBO_ODDS[i][s]) for i, s in zip(indices, selections)]
                stake = 100 + 37 * n
                bet = placed_acca(api, user, spec, stake)
                model.add(bet["id"], [(i, s, COMBO_ODDS[i][s]) for i, s in zip(indices, selections)], stake)
                n += 1
    for i in range(3):
        for s in "1X2":
            stake = 50 + 11 * n
            bet = expect_json(place(api, user, matches[i], s, stake), 201)
            model.add(bet["id"], [(i, s, COMBO_ODDS[i][s])], stake, single=True)
            n += 1
    assert len(model.bets) == 63
    staked = sum(b["stake"] for b in model.bets.values())
    settled_at = {}
    for index, result in enumerate(results):
        assert settled(api, admin_token, matches[index]["id"], result) == model.settle(index, result), \
            (index, result)
        body = expect_json(api.get(f"/v1/users/{user.id}/bets", params={"limit": 100}, token=user.token), 200)
        assert body["total"] == 63
        for bet in body["items"]:
            bid = bet["id"]
            assert bet["status"] == model.status[bid], (index, result, bet)
            if not model.bets[bid]["single"]:
                assert leg_statuses(bet) == model.legs[bid], (index, result, bet)
            if model.status[bid] == "pending":
                assert bet["settled_at"] is None, bet
            else:
                expect_timestamp(bet["settled_at"])
                assert settled_at.setdefault(bid, bet["settled_at"]) == bet["settled_at"], bet
    credited = sum(amount for _, amount in model.credit.values())
    assert user_balance(api, admin_token, user.id) == 1_000_000 - staked + credited
    rows = expect_ledger(api, admin_token, user.id)
    for bid, bet in model.bets.items():
        expected = [("stake", -bet["stake"])] + ([model.credit[bid]] if bid in model.credit else [])
        assert bet_rows(rows, bid) == expected, bid
    bets_db.expect_invariant()
    # The server's own audit agrees: every bet's ledger rows fit its status.
    result = betsdb("check")
    assert result.returncode == 0, show(result)


# ==========================================================================
# Caches, races
# ==========================================================================

def _warm(api, redis, reads):
    for prefix, path, params, token in reads:
        before = keys_under(redis, prefix)
        expect_json(api.get(path, params=params, token=token), 200)
        wait_for_new_keys(redis, prefix, before, f"GET {path}")


def test_cached_lists_and_summary_show_the_settlement_at_once(api, admin_token, bettor, trio, redis):
    a, b, c = trio
    bet = example_acca(api, bettor, trio, stake=600)
    other = placed_acca(api, bettor, [(b, "1", "1.50"), (c, "1", "3.00")], 400)
    reads = [
        (user_bets_prefix(bettor.email), f"/v1/users/{bettor.id}/bets", {"status": "pending"}, bettor.token),
        (user_bets_prefix(bettor.email), f"/v1/users/{bettor.id}/bets", {"status": "lost"}, bettor.token),
        (BETS_LIST, "/v1/bets", {"match_id": str(c["id"])}, admin_token),
        (SUMMARY, "/v1/bets/summary", None, admin_token),
    ]
    _warm(api, redis, reads)
    before = summary(api, admin_token)  # from the cache, just stored
    assert settled(api, admin_token, a["id"], "2") == settled_body(lost=1)
    assert user_bets(api, bettor, status="pending") == ({other["id"]}, 1)
    assert user_bets(api, bettor, status="lost") == ({bet["id"]}, 1)
    listed = expect_json(api.get("/v1/bets", params={"match_id": str(c["id"])}, token=admin_token), 200)["items"]
    assert {x["id"]: (x["status"], leg_statuses(x)) for x in listed} == {
        bet["id"]: ("lost", ["lost", "pending", "pending"]), other["id"]: ("pending", ["pending", "pending"])}
    delta = summary_delta(summary(api, admin_token), before)
    assert delta["by_status"]["lost"] == {"count": 1, "stake": 600}, delta
    assert delta["by_status"]["pending"] == {"count": -1, "stake": -600}, delta
    # And once more when the other accumulator wins on the last match
    # (queries not read yet, so that warming them stores new entries).
    path = f"/v1/users/{bettor.id}/bets"
    queries = [{"status": "pending", "sort": "stake"}, {"status": "won", "sort": "stake"}]
    _warm(api, redis, [(user_bets_prefix(bettor.email), path, q, bettor.token) for q in queries])
    assert settled(api, admin_token, b["id"], "1") == settled_body()
    # 400 x 1.50 x 3.00
    assert settled(api, admin_token, c["id"], "1") == settled_body(won=1, paid_out=1800)
    pending, won = (expect_json(api.get(path, params=q, token=bettor.token), 200) for q in queries)
    assert (pending["items"], pending["total"]) == ([], 0)
    assert [(x["id"], x["status"]) for x in won["items"]] == [(other["id"], "won")]


@pytest.mark.concurrency
def test_the_last_two_legs_settled_at_once_settle_the_bet_exactly_once(api, admin_token, base_url, new_user,
                                                                       bets_db):
    """Two matches settled together, each the other's last pending leg: the bet
    becomes final exactly once (counted once, paid or refunded once), never
    left pending."""
    user = new_user(balance=1_000_000)
    for round_ in range(RACE_ROUNDS):
        result_a, result_b = RACE_RESULTS[round_ % len(RACE_RESULTS)]
        a = make_match(api, admin_token, {"1": 2.00, "X": 3.00, "2": 4.00})
        b = make_match(api, admin_token, {"1": 1.50, "X": 3.50, "2": 5.00})
        stake = 100 + round_
        bet = placed_acca(api, user, [(a, "1", "2.00"), (b, "1", "1.50")], stake)
        targets = [(a["id"], result_a), (b["id"], result_b)]
        responses = run_concurrently([base_url], admin_token, 2,
                                     lambda client, i: settle(client, admin_token, *targets[i]))
        assert [r.status_code for r in responses] == [200, 200], statuses_and_codes(responses)
        totals = [r.json()["settled"] for r in responses]
        combined = {k: totals[0][k] + totals[1][k] for k in totals[0]}
        legs = [leg_result("1", result_a), leg_result("1", result_b)]
        if "lost" in legs:
            status, credit, expected = "lost", None, settled_body(lost=1)
        elif "won" in legs:
            won = [o for o, s in zip(("2.00", "1.50"), legs) if s == "won"]
            amount = acca_payout(stake, won)
            status, credit, expected = "won", ("payout", amount), settled_body(won=1, paid_out=amount)
        else:
            status, credit, expected = "void", ("refund", stake), settled_body(void=1, refunded=stake)
        assert combined == expected, (round_, totals)
        now = get_bet(api, admin_token, bet["id"])
        assert (now["status"], leg_statuses(now)) == (status, legs), (round_, now)
        rows = expect_ledger(api, admin_token, user.id)
        assert bet_rows(rows, bet["id"]) == [("stake", -stake)] + ([credit] if credit else []), round_
    bets_db.expect_invariant()


@pytest.mark.concurrency
def test_matches_whose_accumulators_cross_settle_together_without_deadlock(api, admin_token, base_url,
                                                                           new_user, bets_db):
    """Four matches settled at once, with accumulators of several users on
    every pair, triple and all four of them: the settlements share users to
    credit and accumulators to finish (docs/architecture.md: they take turns).
    Every settlement answers 200 (a deadlock would be a 5xx), every
    accumulator is final exactly once across them, paid once if all its legs
    won."""
    users = [new_user(balance=1_000_000) for _ in range(3)]
    combos = [c for size in (2, 3, 4) for c in itertools.combinations(range(4), size)]
    for round_, results in enumerate((["2", "2", "2", "2"], ["1", "1", "2", "1"], ["1", "1", "1", "1"])):
        matches = [make_match(api, admin_token) for _ in range(4)]
        bets = []
        for n, user in enumerate(users):
            for combo in combos:
                stake = 100 + n
                bet = placed_acca(api, user, [(matches[i], "1", "2.00") for i in combo], stake)
                bets.append((user, bet, combo, stake))
        responses = run_concurrently([base_url], admin_token, 4,
                                     lambda client, i: settle(client, admin_token, matches[i]["id"], results[i]))
        assert [r.status_code for r in responses] == [200] * 4, statuses_and_codes(responses)
        combined = settled_body()
        for r in responses:
            for k, v in r.json()["settled"].items():
                combined[k] += v
        expected = settled_body()
        for user, bet, combo, stake in bets:
            won = all(results[i] == "1" for i in combo)
            now = get_bet(api, admin_token, bet["id"])
            assert (now["status"], leg_statuses(now)) == \
                ("won" if won else "lost", [leg_result("1", results[i]) for i in combo]), (round_, combo, now)
            credit = [("payout", acca_payout(stake, ["2.00"] * len(combo)))] if won else []
            rows = expect_ledger(api, admin_token, user.id)
            assert bet_rows(rows, bet["id"]) == [("stake", -stake)] + credit, (round_, combo)
            if won:
                expected["won"] += 1
                expected["paid_out"] += credit[0][1]
            else:
                expected["lost"] += 1
        assert combined == expected, round_
    bets_db.expect_invariant()


@pytest.mark.concurrency
def test_an_accumulator_placed_while_a_legs_match_is_settled_is_settled_or_refused(api, admin_token, base_url,
                                                                                  new_user, bets_db):
    """Placement against the settlement of one of its legs' matches: either the
    bet was in before the settlement (and that leg is settled with the match),
    or it is refused 422 match_closed. Never a pending leg on a settled match."""
    user = new_user(balance=1_000_000)
    outcomes = []
    for round_ in range(RACE_ROUNDS):
        result = ("2", "1")[round_ % 2]
        a, b = make_match(api, admin_token), make_match(api, admin_token)
        body = acca_body(user, [lg(a, "1"), lg(b, "X")], 100 + round_)

        def request(client, i):
            if i == 0:
                return client.post("/v1/bets", json=body, token=user.token)
            return settle(client, admin_token, a["id"], result)

        placed, settlement = run_concurrently([base_url], admin_token, 2, request)
        totals = expect_json(settlement, 200)["settled"]
        if placed.status_code == 201:
            now = get_bet(api, admin_token, placed.json()["id"])
            if result == "2":
                assert (now["status"], leg_statuses(now), totals) == \
                    ("lost", ["lost", "pending"], settled_body(lost=1)), (round_, now, totals)
            else:
                assert (now["status"], leg_statuses(now), totals) == \
                    ("pending", ["won", "pending"], settled_body()), (round_, now, totals)
        else:
            expect_problem(placed, 422, "match_closed")
            assert totals == settled_body(), (round_, totals)
        outcomes.append(placed.status_code)
    expect_ledger(api, admin_token, user.id)
    bets_db.expect_invariant(f"outcomes {outcomes}")


# --------------------------------------------------------------------------
# The schema behind a fast settlement (docs/operations.md, "Why `bets` keeps
# half of each page free")
# --------------------------------------------------------------------------

SETTLEMENT_COLUMNS = {"bets": ("status", "settled_at", "cash_out_amount"), "bet_legs": ("status",)}


def test_no_index_holds_or_filters_on_what_settlement_changes(db):
    """Settling a bet or a leg may be a HOT update only if no index of its
    table holds, computes from or filters on a column it changes: one that
    did would cost every settled bet a new entry in every index."""
    found = []
    for table, columns in SETTLEMENT_COLUMNS.items():
        for name, keys, expressions, predicate in db.query(
                """SELECT c.relname,
                          array(SELECT a.attname::text FROM unnest(i.indkey) k
                                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k),
                          coalesce(pg_get_expr(i.indexprs, i.indrelid), ''),
                          coalesce(pg_get_expr(i.indpred, i.indrelid), '')
                     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                    WHERE i.indrelid = %s::regclass""", (table,)):
            for column in columns:
                words = set(keys) | set(re.findall(r"\w+", expressions + " " + predicate))
                if column in words:
                    found.append((table, name, column))
    assert found == []
    fillfactors = dict(db.query(
        """SELECT relname, coalesce((SELECT option_value::int FROM pg_options_to_table(reloptions)
                                     WHERE option_name = 'fillfactor'), 100)
             FROM pg_class WHERE relname IN ('bets', 'bet_legs')"""))
    assert fillfactors == {"bets": 50, "bet_legs": 70}

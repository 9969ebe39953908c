"""Placing and reading accumulators (API.md Part 2, "Accumulators"): one bet on
2..10 legs of distinct matches, its exact combined odds and payout, the payout
cap, every leg checked as a single's selection is (in the contract's order
across the legs), the price policy per leg, max_stake, the duplicate rule and
its lock under concurrency, funds, Idempotency-Key, and the reads (the bet,
the lists' leg-matching filters, the summary's by_type) and exposure, which
accumulators do not touch.

Every refused placement must leave the balance, the ledger and the bets
untouched; `Snapshot` proves it.

The helpers at the top are shared with test_accumulator_settlement.py and
test_cash_out.py (imported from here).
"""

import json
import math
import uuid
from decimal import Decimal
from fractions import Fraction

import pytest

import redis_keys
from api_support import (
    describe,
    expect_json,
    expect_problem,
    expect_timestamp,
    expect_validation_failed,
    future_date,
    is_positive_int,
    json_decimal,
    past_date,
    unique_team,
)
from bet_support import (
    BET_KEYS,
    MAX_STAKE,
    MISSING_ID,
    run_concurrently,
    settle,
    statuses_and_codes,
    transactions,
    user_balance,
)
from trading_support import D, match_url, patched, place

MAX_PAYOUT = 10**13
LEG_KEYS = {"match_id", "selection", "odds", "odds_version", "status"}
ACCA_KEYS = BET_KEYS | {"legs"}
EXPOSURE_KEYS = {"match_id", "bets", "stakes", "payouts", "liability", "max_liability"}
SUMMARY_STATUSES = ("pending", "won", "lost", "void", "cashed_out")
# Signs of the ledger's kinds; cash_out credits the amount (API.md, "Cash-out").
LEDGER_SIGNS = {"deposit": 1, "stake": -1, "payout": 1, "refund": 1, "cash_out": 1}
PRICES = {"1": 2.00, "X": 3.00, "2": 4.00}

CONCURRENT_PLACEMENTS = 16


# ==========================================================================
# Shared helpers (also used by the settlement and cash-out tests)
# ==========================================================================

def F(odds):
    """Odds (a str, float or Decimal with at most 2 decimals) as an exact Fraction."""
    return Fraction(D(odds))


def odds_product(odds):
    result = Fraction(1)
    for value in odds:
        result *= F(value)
    return result


def acca_payout(stake, odds):
    """floor(stake x the exact product of the legs' odds)."""
    return math.floor(stake * odds_product(odds))


def combined_odds(odds):
    """The product rounded DOWN to 2 decimals, as an exact Decimal."""
    hundredths = math.floor(odds_product(odds) * 100)
    return Decimal(f"{hundredths // 100}.{hundredths % 100:02d}")


def make_match(api, admin_token, odds=None, **extra):
    """POST /v1/matches with unique teams (extra: date, max_stake, max_liability)."""
    body = {"team_1": unique_team("Home"), "team_2": unique_team("Away"), "date": future_date(),
            "odds": odds if odds is not None else dict(PRICES)}
    body.update(extra)
    return expect_json(api.post("/v1/matches", json=body, token=admin_token), 201)


def lg(match, selection, odds=None):
    """One leg of a request; `match` is a match dict or a bare id."""
    leg = {"match_id": match if isinstance(match, int) else match["id"], "selection": selection}
    if odds is not None:
        leg["odds"] = float(odds)
    return leg


def acca_body(user, legs, stake=1000, **extra):
    body = {"user_id": user.id, "legs": legs, "stake": stake}
    body.update(extra)
    return body


def place_acca(api, user, legs, stake=1000, key=None, **extra):
    headers = {"Idempotency-Key": key} if key is not None else None
    return api.post("/v1/bets", json=acca_body(user, legs, stake, **extra), token=user.token,
                    headers=headers)


def expect_acca(resp, user, legs, stake, status=201):
    """An accumulator answer for `legs` [(match_id, selection, odds, odds_version)]:
    pending, legs in the given order, odds the product rounded down, the payout
    exact. Returns the bet."""
    bet = expect_json(resp, status)
    exact = json_decimal(resp)
    assert set(bet) == ACCA_KEYS, describe(resp)
    assert is_positive_int(bet["id"]), describe(resp)
    assert bet["user_id"] == user.id, describe(resp)
    assert (bet["match_id"], bet["selection"], bet["odds_version"]) == (None, None, None), describe(resp)
    assert bet["type"] == "accumulator" and bet["cash_out_amount"] is None, describe(resp)
    assert bet["status"] == "pending" and bet["settled_at"] is None, describe(resp)
    expect_timestamp(bet["created_at"])
    assert bet["stake"] == stake, describe(resp)
    prices = [odds for _, _, odds, _ in legs]
    assert exact["odds"] == combined_odds(prices), describe(resp)
    assert bet["potential_payout"] == acca_payout(stake, prices), describe(resp)
    assert isinstance(bet["legs"], list) and len(bet["legs"]) == len(legs), describe(resp)
    for got, got_exact, (match_id, selection, odds, version) in zip(bet["legs"], exact["legs"], legs):
        assert set(got) == LEG_KEYS, describe(resp)
        assert (got["match_id"], got["selection"], got["odds_version"], got["status"]) == \
            (match_id, selection, version, "pending"), describe(resp)
        assert got_exact["odds"] == D(odds), describe(resp)
    return bet


def placed_acca(api, user, spec, stake=1000, **extra):
    """Places an accumulator on `spec` [(match, selection, odds at placement)]
    (every match at odds_version 1, no "odds" sent); returns the bet."""
    legs = [lg(m, s) for m, s, _ in spec]
    resp = place_acca(api, user, legs, stake, **extra)
    return expect_acca(resp, user, [(m["id"], s, o, 1) for m, s, o in spec], stake)


def get_bet(api, token, bet_id):
    return expect_json(api.get(f"/v1/bets/{bet_id}", token=token), 200)


def leg_statuses(bet):
    return [leg["status"] for leg in bet["legs"]]


def expect_ledger(api, admin_token, user_id):
    """Every row's balance_after is the running sum, signs fit the kinds
    (cash_out included), bet rows name their bet, and the balance is the sum
    (API.md, Users: the invariant). Returns the rows, oldest first."""
    rows = transactions(api, admin_token, user_id)
    running = 0
    for row in rows:
        assert row["kind"] in LEDGER_SIGNS, row
        assert row["amount"] * LEDGER_SIGNS[row["kind"]] > 0, row
        if row["kind"] == "deposit":
            assert row["bet_id"] is None, row
        else:
            assert is_positive_int(row["bet_id"]), row
        running += row["amount"]
        assert row["balance_after"] == running, (user_id, row, rows)
        assert row["balance_after"] >= 0, row
    assert user_balance(api, admin_token, user_id) == running, (user_id, rows)
    return rows


def bet_rows(rows, bet_id):
    """[(kind, amount)] of the ledger rows of one bet, oldest first."""
    return [(r["kind"], r["amount"]) for r in rows if r["bet_id"] == bet_id]


def suspend(api, admin_token, match_id):
    return expect_json(api.post(match_url(match_id) + "/suspend", token=admin_token), 200)


def resume(api, admin_token, match_id):
    return expect_json(api.post(match_url(match_id) + "/resume", token=admin_token), 200)


def exposure(api, admin_token, match_id):
    resp = api.get(match_url(match_id) + "/exposure", token=admin_token)
    body = expect_json(resp, 200)
    assert set(body) == EXPOSURE_KEYS, describe(resp)
    return body


def zero_exposure(match_id, max_liability=None):
    zeros = {"1": 0, "X": 0, "2": 0}
    return {"match_id": match_id, "bets": 0, "stakes": dict(zeros), "payouts": dict(zeros),
            "liability": dict(zeros), "max_liability": max_liability}


def summary(api, admin_token):
    return expect_json(api.get("/v1/bets/summary", token=admin_token), 200)


def summary_delta(after, before):
    """The change of every count/stake figure of the summary (top_matches aside)."""
    out = {"total_bets": after["total_bets"] - before["total_bets"],
           "total_stake": after["total_stake"] - before["total_stake"]}
    for group in ("by_status", "by_selection", "by_type"):
        out[group] = {k: {f: after[group][k][f] - before[group].get(k, {}).get(f, 0) for f in ("count", "stake")}
                      for k in after[group]}
    return out


def user_bets(api, user, **params):
    """GET /v1/users/{id}/bets (the owner's token) -> (ids as a set, total)."""
    params.setdefault("limit", 100)
    body = expect_json(api.get(f"/v1/users/{user.id}/bets", params=params, token=user.token), 200)
    return {b["id"] for b in body["items"]}, body["total"]


# ==========================================================================
# Fixtures
# ==========================================================================

@pytest.fixture
def bettor(new_user):
    return new_user(balance=1_000_000)


@pytest.fixture
def matches(api, admin_token):
    """Factory: matches(n, odds=None, **extra) -> n new matches at PRICES (version 1)."""
    return lambda n, odds=None, **extra: [make_match(api, admin_token, odds, **extra) for _ in range(n)]


# ==========================================================================
# Placing: the answer, the odds and the payout
# ==========================================================================

def test_an_accumulator_is_201_with_its_legs_product_and_payout(api, admin_token, bettor, new_match, bets_db):
    """The contract's example: 2.00 x 3.50 x 1.25, stake 1000 -> 8.75 and 8750."""
    a = new_match(odds={"1": 2.00, "X": 3.10, "2": 4.00})
    b = new_match(odds={"1": 1.50, "X": 3.50, "2": 5.00})
    c = new_match(odds={"1": 3.00, "X": 3.20, "2": 1.25})
    resp = place_acca(api, bettor, [lg(a, "1"), lg(b, "X"), lg(c, "2")], 1000)
    bet = expect_acca(resp, bettor, [(a["id"], "1", "2.00", 1), (b["id"], "X", "3.50", 1),
                                     (c["id"], "2", "1.25", 1)], 1000)
    assert json_decimal(resp)["odds"] == Decimal("8.75")
    assert bet["potential_payout"] == 8750
    assert get_bet(api, bettor.token, bet["id"]) == bet
    assert get_bet(api, admin_token, bet["id"]) == bet
    rows = expect_ledger(api, admin_token, bettor.id)
    assert [(r["kind"], r["amount"], r["bet_id"], r["balance_after"]) for r in rows] == [
        ("deposit", 1_000_000, None, 1_000_000), ("stake", -1000, bet["id"], 999_000)]
    assert bets_db.bet_count(user_id=bettor.id, status="pending") == 1
    bets_db.expect_invariant()


@pytest.mark.parametrize("odds,stake,combined,payout", [
    (("2.13", "1.13"), 10_000, "2.40", 24_069),          # 2.4069: the odds round down, the payout is exact
    (("1.99", "1.99"), 333, "3.96", 1318),               # 3.9601 x 333 = 1318.71
    (("1.07", "1.07", "1.07"), 1_000_000, "1.22", 1_225_043),  # 1.225043
    (("999.99", "1.01"), 7, "1009.98", 7069),            # above 1000 once combined
])
def test_combined_odds_round_down_and_the_payout_is_exact(api, bettor, new_match, odds, stake, combined, payout):
    assert combined_odds(odds) == Decimal(combined) and acca_payout(stake, odds) == payout
    spec = [(new_match(odds={"1": float(o), "X": 3.00}), "1", o) for o in odds]
    bet = placed_acca(api, bettor, spec, stake)
    assert bet["potential_payout"] == payout


def test_ten_legs_at_1_01_take_the_largest_stake_exactly(api, admin_token, new_user, matches):
    """1.01^10 = 1.10462212541120451001: odds 1.10, payout 110462212 for 10^8."""
    user = new_user(balance=MAX_STAKE)
    legs = matches(10, odds={"1": 1.01, "2": 20.00})
    bet = placed_acca(api, user, [(m, "1", "1.01") for m in legs], MAX_STAKE)
    assert bet["potential_payout"] == 110_462_212
    assert bet["odds"] == 1.1
    assert user_balance(api, admin_token, user.id) == 0


# Ten legs whose product is 3787380.60085017897344589600, and the largest
# stake whose payout stays within 10^13.
TEN_LEGS = ["17.77", "23.45", "31.99", "12.34", "19.87", "1.01", "1.02", "1.03", "1.04", "1.05"]
TEN_LEGS_STAKE = 2_640_347


def ten_leg_acca(api, admin_token, user):
    """(matches, bet): TEN_LEGS_STAKE on selection 1 of ten new matches at TEN_LEGS."""
    legs = [make_match(api, admin_token, {"1": float(o), "X": 3.00}) for o in TEN_LEGS]
    bet = placed_acca(api, user, [(m, "1", o) for m, o in zip(legs, TEN_LEGS)], TEN_LEGS_STAKE)
    assert bet["potential_payout"] == 9_999_999_007_312
    return legs, bet


def test_ten_legs_at_high_odds_right_up_to_the_payout_cap(api, admin_token, new_user, matches, snapshot):
    """Ten legs whose product is 3787380.6008...: the largest stake whose payout
    stays within 10^13 is taken, one cent more is 422 on stake."""
    odds = TEN_LEGS
    largest = math.floor(Fraction(MAX_PAYOUT) / odds_product(odds))
    assert largest == TEN_LEGS_STAKE and acca_payout(largest, odds) == 9_999_999_007_312
    assert acca_payout(largest + 1, odds) > MAX_PAYOUT
    user = new_user(balance=10_000_000)
    legs = [make_match(api, admin_token, {"1": float(o), "X": 3.00}) for o in odds]
    snap = snapshot(user)
    resp = place_acca(api, user, [lg(m, "1") for m in legs], largest + 1)
    expect_validation_failed(resp, "stake")
    snap.expect_unchanged()
    bet = placed_acca(api, user, [(m, "1", o) for m, o in zip(legs, odds)], largest)
    assert bet["potential_payout"] == 9_999_999_007_312
    assert json_decimal(api.get(f"/v1/bets/{bet['id']}", token=user.token))["odds"] == Decimal("3787380.60")
    assert user_balance(api, admin_token, user.id) == 10_000_000 - largest


def test_a_payout_of_exactly_the_cap_is_taken_and_more_is_refused(api, admin_token, new_user, snapshot):
    user = new_user(balance=MAX_STAKE)
    thousand = make_match(api, admin_token, {"1": 1000.00, "X": 3.00})
    hundred = make_match(api, admin_token, {"1": 100.00, "X": 100.01})
    snap = snapshot(user)
    resp = place_acca(api, user, [lg(thousand, "1"), lg(hundred, "X")], MAX_STAKE)  # 1.0001 x 10^13
    expect_validation_failed(resp, "stake")
    snap.expect_unchanged()
    bet = placed_acca(api, user, [(thousand, "1", "1000.00"), (hundred, "1", "100.00")], MAX_STAKE)
    assert bet["potential_payout"] == MAX_PAYOUT


def test_ten_legs_at_1000_with_a_stake_of_1_are_refused_not_overflowed(api, admin_token, bettor, matches,
                                                                       snapshot):
    """10^30 does not fit in 64 bits: still a plain 422 on stake, nothing placed."""
    legs = matches(10, odds={"1": 1000.00, "X": 1000.00})
    snap = snapshot(bettor)
    for selection in ("1", "X"):
        resp = place_acca(api, bettor, [lg(m, selection) for m in legs], 1)
        expect_validation_failed(resp, "stake")
    resp = place_acca(api, bettor, [lg(m, "1", "1000.00") for m in legs], MAX_STAKE,
                      accept_price_change="none")
    expect_validation_failed(resp, "stake")
    snap.expect_unchanged()


@pytest.mark.parametrize("stake,odds,payout", [
    (1, ("1.01", "1.01"), 1),                   # 1.0201 -> 1
    (1, ("1.50", "1.50"), 2),                   # 2.25 -> 2
    (MAX_STAKE, ("1.50", "1.50"), 225_000_000),
    (MAX_STAKE - 1, ("1.01", "1.01"), 102_009_998),   # 102009998.9799
])
def test_stakes_at_the_limits(api, new_user, new_match, stake, odds, payout):
    user = new_user(balance=MAX_STAKE)
    spec = [(new_match(odds={"1": float(o)}), "1", o) for o in odds]
    bet = placed_acca(api, user, spec, stake)
    assert bet["potential_payout"] == payout


@pytest.mark.parametrize("stake", [0, -1, MAX_STAKE + 1])
def test_stakes_outside_the_limits_are_422(api, new_user, matches, snapshot, stake):
    user = new_user(balance=2 * MAX_STAKE)
    a, b = matches(2)
    snap = snapshot(user)
    expect_validation_failed(place_acca(api, user, [lg(a, "1"), lg(b, "1")], stake), "stake")
    snap.expect_unchanged()


def test_legs_keep_their_order_and_each_its_matchs_version(api, admin_token, bettor, matches):
    a, b, c = matches(3)
    patched(api, admin_token, b["id"], {"odds": {"X": 3.30}})
    patched(api, admin_token, b["id"], {"odds": {"2": 4.40}})
    suspend(api, admin_token, c["id"])
    resume(api, admin_token, c["id"])
    resp = place_acca(api, bettor, [lg(c, "2"), lg(a, "1"), lg(b, "X")], 500)
    bet = expect_acca(resp, bettor, [(c["id"], "2", "4.00", 3), (a["id"], "1", "2.00", 1),
                                     (b["id"], "X", "3.30", 3)], 500)
    assert bet["potential_payout"] == 13_200  # 500 x 4.00 x 2.00 x 3.30
    # Later changes of the matches leave the placed legs as they were.
    patched(api, admin_token, a["id"], {"odds": {"1": 1.50}})
    patched(api, admin_token, b["id"], {"odds": {"X": 9.00}})
    assert get_bet(api, bettor.token, bet["id"]) == bet


def test_a_single_says_type_single_and_has_no_legs(api, bettor, new_match):
    bet = expect_json(place(api, bettor, new_match(), "1", 100), 201)
    assert bet["type"] == "single" and "legs" not in bet
    assert set(bet) == BET_KEYS


# ==========================================================================
# Validation (422 validation_failed, nothing changes)
# ==========================================================================

def _bad_bodies(user, a, b):
    """(body, field) pairs the contract refuses."""
    two = [lg(a, "1"), lg(b, "X")]
    eleven = [lg(MISSING_ID + i, "1") for i in range(11)]
    return [
        (dict(acca_body(user, two), match_id=a["id"]), "legs"),
        (dict(acca_body(user, two), selection="1"), "legs"),
        (dict(acca_body(user, two), odds=2.00), "legs"),
        (dict(acca_body(user, two), match_id=a["id"], selection="1"), "legs"),
        (acca_body(user, {}), "legs"),
        (acca_body(user, "1,2"), "legs"),
        (acca_body(user, None), "legs"),
        (acca_body(user, 2), "legs"),
        (acca_body(user, []), "legs"),
        (acca_body(user, [lg(a, "1")]), "legs"),
        (acca_body(user, eleven), "legs"),
        (acca_body(user, [lg(a, "1"), lg(a, "X")]), "legs"),
        (acca_body(user, [lg(a, "1"), lg(b, "1"), lg(a, "1")]), "legs"),
        (acca_body(user, [lg(a, "1"), 7]), "legs"),
        (acca_body(user, [lg(a, "1"), [b["id"], "1"]]), "legs"),
        (acca_body(user, [lg(a, "1"), None]), "legs"),
        (acca_body(user, [lg(a, "1"), {"selection": "1"}]), "legs[1].match_id"),
        (acca_body(user, [lg(a, "1"), {"match_id": 0, "selection": "1"}]), "legs[1].match_id"),
        (acca_body(user, [lg(a, "1"), {"match_id": -4, "selection": "1"}]), "legs[1].match_id"),
        (acca_body(user, [lg(a, "1"), {"match_id": str(b["id"]), "selection": "1"}]), "legs[1].match_id"),
        (acca_body(user, [lg(a, "1"), {"match_id": b["id"] + 0.5, "selection": "1"}]), "legs[1].match_id"),
        (acca_body(user, [lg(a, "1"), {"match_id": None, "selection": "1"}]), "legs[1].match_id"),
        (acca_body(user, [{"match_id": a["id"]}, lg(b, "1")]), "legs[0].selection"),
        (acca_body(user, [{"match_id": a["id"], "selection": "x"}, lg(b, "1")]), "legs[0].selection"),
        (acca_body(user, [{"match_id": a["id"], "selection": 1}, lg(b, "1")]), "legs[0].selection"),
        (acca_body(user, [{"match_id": a["id"], "selection": "draw"}, lg(b, "1")]), "legs[0].selection"),
        (acca_body(user, [lg(a, "1"), dict(lg(b, "1"), odds=2.105)]), "legs[1].odds"),
        (acca_body(user, [lg(a, "1"), dict(lg(b, "1"), odds=1.00)]), "legs[1].odds"),
        (acca_body(user, [lg(a, "1"), dict(lg(b, "1"), odds=1000.01)]), "legs[1].odds"),
        (acca_body(user, [lg(a, "1"), dict(lg(b, "1"), odds="2.00")]), "legs[1].odds"),
        (acca_body(user, [lg(a, "1"), dict(lg(b, "1"), odds=None)]), "legs[1].odds"),
        (acca_body(user, [lg(a, "1"), dict(lg(b, "1"), stake=100)]), "legs[1]"),
        (acca_body(user, [dict(lg(a, "1"), accept_price_change="any"), lg(b, "1")]), "legs[0]"),
        (acca_body(user, two, accept_price_change="any"), "accept_price_change"),
        (acca_body(user, two, accept_price_change="none"), "accept_price_change"),
        (acca_body(user, [lg(a, "1", 2.00), lg(b, "X")], accept_price_change="sometimes"),
         "accept_price_change"),
        (acca_body(user, [lg(a, "1", 2.00), lg(b, "X")], accept_price_change=None), "accept_price_change"),
        (acca_body(user, two, stake=10.5), "stake"),
        (acca_body(user, two, stake="1000"), "stake"),
        ({"user_id": user.id, "legs": two}, "stake"),
        (dict(acca_body(user, two), note="x"), "note"),
    ]


BAD_BODY_IDS = [
    "legs+match_id", "legs+selection", "legs+odds", "legs+match_id+selection", "legs-object", "legs-string",
    "legs-null", "legs-number", "no-legs", "one-leg", "eleven-legs", "same-match-twice", "same-leg-twice",
    "leg-number", "leg-array", "leg-null", "leg-without-match_id", "leg-match_id-0", "leg-match_id-negative",
    "leg-match_id-string", "leg-match_id-fraction", "leg-match_id-null", "leg-without-selection",
    "leg-selection-x", "leg-selection-number", "leg-selection-draw", "leg-odds-3-decimals", "leg-odds-1.00",
    "leg-odds-1000.01", "leg-odds-string", "leg-odds-null", "leg-unknown-field", "leg-with-policy",
    "policy-any-without-odds", "policy-none-without-odds", "policy-unknown", "policy-null", "stake-fraction",
    "stake-string", "no-stake", "unknown-field",
]


@pytest.mark.parametrize("case", range(len(BAD_BODY_IDS)), ids=BAD_BODY_IDS)
def test_invalid_accumulator_bodies_are_422_naming_the_field(api, bettor, matches, snapshot, case):
    a, b = matches(2)
    cases = _bad_bodies(bettor, a, b)
    assert len(cases) == len(BAD_BODY_IDS)
    body, field = cases[case]
    snap = snapshot(bettor)
    resp = api.post("/v1/bets", json=body, token=bettor.token)
    expect_validation_failed(resp, field)
    snap.expect_unchanged()


def test_every_invalid_leg_field_is_reported(api, bettor, matches, snapshot):
    a, b, c = matches(3)
    legs = [{"match_id": a["id"], "selection": "Z"}, lg(b, "1"), {"match_id": 0, "selection": "1"}]
    snap = snapshot(bettor)
    problem = expect_validation_failed(place_acca(api, bettor, legs, 100))
    fields = {e["field"] for e in problem["errors"]}
    assert {"legs[0].selection", "legs[2].match_id"} <= fields, problem
    snap.expect_unchanged()


def test_validation_comes_before_the_callers_identity(api, admin_token, bettor, new_user, matches, snapshot):
    other = new_user(balance=100_000)
    a, b = matches(2)
    snaps = [snapshot(bettor), snapshot(other)]
    # Someone else's user_id: 403; with an invalid body too: 422 first.
    expect_problem(api.post("/v1/bets", json=acca_body(other, [lg(a, "1"), lg(b, "1")]), token=bettor.token),
                   403, "forbidden")
    expect_validation_failed(api.post("/v1/bets", json=acca_body(other, [lg(a, "1")]), token=bettor.token),
                             "legs")
    # The admin cannot place accumulators either.
    expect_problem(api.post("/v1/bets", json=acca_body(bettor, [lg(a, "1"), lg(b, "1")]), token=admin_token),
                   403, "forbidden")
    expect_problem(api.post("/v1/bets", json=acca_body(bettor, [lg(a, "1"), lg(b, "1")])), 401, "unauthorized")
    for snap in snaps:
        snap.expect_unchanged()


def test_a_type_filter_on_bet_lists_is_an_unknown_parameter(api, admin_token, bettor):
    expect_problem(api.get("/v1/bets", params={"type": "accumulator"}, token=admin_token), 400,
                   "invalid_parameter")
    expect_problem(api.get(f"/v1/users/{bettor.id}/bets", params={"type": "single"}, token=bettor.token), 400,
                   "invalid_parameter")


# ==========================================================================
# Each leg's checks, in the contract's order across the legs
# ==========================================================================

# kind -> (status, code, rank in the contract's order)
LEG_FAILURES = {
    "missing": (404, "match_not_found", 0),
    "not_offered": (422, "invalid_selection", 1),
    "withdrawn": (422, "invalid_selection", 1),
    "past": (422, "match_closed", 2),
    "settled": (422, "match_closed", 2),
    "suspended": (422, "match_suspended", 3),
    "stale": (409, "odds_changed", 4),
}


def bad_leg(api, admin_token, kind):
    """(leg, match or None) for a leg that fails with `kind`."""
    if kind == "missing":
        return lg(MISSING_ID, "1"), None
    if kind == "not_offered":
        match = make_match(api, admin_token, {"1": 2.00, "X": 3.00})
        return lg(match, "2"), match
    if kind == "past":
        match = make_match(api, admin_token, date=past_date(days=1))
        return lg(match, "1"), match
    match = make_match(api, admin_token)
    if kind == "withdrawn":
        patched(api, admin_token, match["id"], {"odds": {"2": None}})
        return lg(match, "2"), match
    if kind == "settled":
        expect_json(settle(api, admin_token, match["id"], "X"), 200)
        return lg(match, "1"), match
    if kind == "suspended":
        suspend(api, admin_token, match["id"])
        return lg(match, "1"), match
    assert kind == "stale"
    patched(api, admin_token, match["id"], {"odds": {"1": 2.50}})
    return lg(match, "1", "2.00"), match


@pytest.mark.parametrize("position", [0, 2])
@pytest.mark.parametrize("kind", list(LEG_FAILURES))
def test_each_leg_is_checked_as_a_single_is(api, admin_token, bettor, matches, snapshot, kind, position):
    good = [lg(m, "X") for m in matches(2)]
    leg, match = bad_leg(api, admin_token, kind)
    legs = good[:position] + [leg] + good[position:]
    status, code, _ = LEG_FAILURES[kind]
    snap = snapshot(bettor)
    problem = expect_problem(place_acca(api, bettor, legs, 100), status, code)
    if kind == "stale":
        assert problem["match_id"] == match["id"], problem
        assert D(json.dumps(problem["current_odds"])) == D("2.50") and problem["odds_version"] == 2, problem
    snap.expect_unchanged()


ORDER_CASES = [(first, second) for first in ("missing", "not_offered", "past", "suspended", "stale")
               for second in ("missing", "not_offered", "past", "suspended", "stale")
               if LEG_FAILURES[second][2] < LEG_FAILURES[first][2]]


@pytest.mark.parametrize("first,second", ORDER_CASES)
def test_the_first_refusal_in_the_contracts_order_wins_across_legs(api, admin_token, bettor, new_match,
                                                                    snapshot, first, second):
    """A later leg failing an earlier check answers before an earlier leg
    failing a later one (as for a cart)."""
    early, _ = bad_leg(api, admin_token, first)
    late, _ = bad_leg(api, admin_token, second)
    snap = snapshot(bettor)
    status, code, _ = LEG_FAILURES[second]
    expect_problem(place_acca(api, bettor, [early, lg(new_match(), "1"), late], 100), status, code)
    snap.expect_unchanged()


def test_odds_changed_names_the_first_refused_leg_in_the_given_order(api, admin_token, bettor, matches,
                                                                     snapshot):
    a, b, c = matches(3)
    patched(api, admin_token, b["id"], {"odds": {"X": 3.40}})
    patched(api, admin_token, c["id"], {"odds": {"1": 1.90}})
    patched(api, admin_token, c["id"], {"odds": {"X": 2.90}})
    snap = snapshot(bettor)
    legs = [lg(a, "1", 2.00), lg(c, "1", 2.00), lg(b, "X", 3.00)]
    problem = expect_problem(place_acca(api, bettor, legs, 100), 409, "odds_changed")
    assert problem["match_id"] == c["id"], problem
    assert D(json.dumps(problem["current_odds"])) == D("1.90") and problem["odds_version"] == 3, problem
    legs = [lg(a, "1", 2.00), lg(b, "X", 3.00), lg(c, "1", 2.00)]
    problem = expect_problem(place_acca(api, bettor, legs, 100), 409, "odds_changed")
    assert problem["match_id"] == b["id"], problem
    assert D(json.dumps(problem["current_odds"])) == D("3.40") and problem["odds_version"] == 2, problem
    snap.expect_unchanged()


# ==========================================================================
# The price policy, leg by leg
# ==========================================================================

@pytest.mark.parametrize("mode", [None, "none"])
def test_none_places_exact_prices_and_refuses_a_moved_one(api, admin_token, bettor, matches, snapshot, mode):
    a, b = matches(2)
    extra = {} if mode is None else {"accept_price_change": mode}
    patched(api, admin_token, b["id"], {"odds": {"2": 4.20}})
    snap = snapshot(bettor)
    problem = expect_problem(place_acca(api, bettor, [lg(a, "1", 2.00), lg(b, "2", 4.00)], 100, **extra),
                             409, "odds_changed")
    assert (problem["match_id"], problem["odds_version"]) == (b["id"], 2), problem
    assert D(json.dumps(problem["current_odds"])) == D("4.20"), problem
    snap.expect_unchanged()
    # The price named is accepted.
    resp = place_acca(api, bettor, [lg(a, "1", 2.00), lg(b, "2", 4.20)], 100, **extra)
    bet = expect_acca(resp, bettor, [(a["id"], "1", "2.00", 1), (b["id"], "2", "4.20", 2)], 100)
    assert bet["potential_payout"] == 840


def test_a_leg_without_odds_takes_the_current_price_under_none(api, admin_token, bettor, matches):
    a, b = matches(2)
    patched(api, admin_token, b["id"], {"odds": {"X": 2.55}})
    resp = place_acca(api, bettor, [lg(a, "1", 2.00), lg(b, "X")], 1000, accept_price_change="none")
    bet = expect_acca(resp, bettor, [(a["id"], "1", "2.00", 1), (b["id"], "X", "2.55", 2)], 1000)
    assert bet["potential_payout"] == 5100


def test_better_takes_higher_prices_and_refuses_a_lower_one(api, admin_token, bettor, matches, snapshot):
    a, b, c = matches(3)
    patched(api, admin_token, a["id"], {"odds": {"1": 2.30}})
    patched(api, admin_token, c["id"], {"odds": {"2": 3.95}})
    snap = snapshot(bettor)
    legs = [lg(a, "1", 2.00), lg(b, "X", 3.00), lg(c, "2", 4.00)]
    problem = expect_problem(place_acca(api, bettor, legs, 100, accept_price_change="better"), 409,
                             "odds_changed")
    assert (problem["match_id"], problem["odds_version"]) == (c["id"], 2), problem
    assert D(json.dumps(problem["current_odds"])) == D("3.95"), problem
    snap.expect_unchanged()
    legs[2] = lg(c, "2", 3.95)
    resp = place_acca(api, bettor, legs, 100, accept_price_change="better")
    bet = expect_acca(resp, bettor, [(a["id"], "1", "2.30", 2), (b["id"], "X", "3.00", 1),
                                     (c["id"], "2", "3.95", 2)], 100)
    assert bet["potential_payout"] == acca_payout(100, ["2.30", "3.00", "3.95"]) == 2725


def test_any_takes_every_current_price(api, admin_token, bettor, matches):
    a, b = matches(2)
    patched(api, admin_token, a["id"], {"odds": {"1": 1.10}})
    patched(api, admin_token, b["id"], {"odds": {"2": 9.99}})
    resp = place_acca(api, bettor, [lg(a, "1", 2.00), lg(b, "2", 4.00)], 300, accept_price_change="any")
    bet = expect_acca(resp, bettor, [(a["id"], "1", "1.10", 2), (b["id"], "2", "9.99", 2)], 300)
    assert bet["potential_payout"] == 3296  # 300 x 10.989


def test_the_price_is_checked_before_the_payout_cap(api, admin_token, bettor, snapshot):
    a = make_match(api, admin_token, {"1": 1000.00})
    b = make_match(api, admin_token, {"1": 1000.00})
    patched(api, admin_token, b["id"], {"odds": {"1": 999.00}})
    snap = snapshot(bettor)
    # 2 x 10^7 x 1000 x 999 is far above the cap either way.
    problem = expect_problem(place_acca(api, bettor, [lg(a, "1", 1000), lg(b, "1", 1000)], 20_000_000), 409,
                             "odds_changed")
    assert problem["match_id"] == b["id"], problem
    # Under "any" the price is no refusal and the cap answers.
    expect_validation_failed(place_acca(api, bettor, [lg(a, "1", 1000), lg(b, "1", 1000)], 20_000_000,
                                        accept_price_change="any"), "stake")
    snap.expect_unchanged()


# ==========================================================================
# max_stake, the payout cap, duplicates, funds: in that order
# ==========================================================================

def test_stake_above_max_names_the_smallest_limit_exceeded(api, admin_token, bettor, snapshot):
    a = make_match(api, admin_token, max_stake=5000)
    b = make_match(api, admin_token)
    c = make_match(api, admin_token, max_stake=3000)
    legs = [lg(a, "1"), lg(b, "X"), lg(c, "2")]
    snap = snapshot(bettor)
    for stake in (6000, 4000, 3001):
        problem = expect_problem(place_acca(api, bettor, legs, stake), 422, "stake_above_max")
        assert (problem["max_stake"], problem["match_id"]) == (3000, c["id"]), problem
    snap.expect_unchanged()
    placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00"), (c, "2", "4.00")], 3000)


def test_the_payout_cap_comes_before_max_stake(api, admin_token, bettor, snapshot):
    a = make_match(api, admin_token, {"1": 1000.00}, max_stake=1)
    b = make_match(api, admin_token, {"1": 1000.00})
    snap = snapshot(bettor)
    expect_validation_failed(place_acca(api, bettor, [lg(a, "1"), lg(b, "1")], 10_000_001), "stake")
    expect_problem(place_acca(api, bettor, [lg(a, "1"), lg(b, "1")], 10_000_000), 422, "stake_above_max")
    snap.expect_unchanged()


def test_max_stake_then_duplicate_then_funds(api, admin_token, new_user, snapshot):
    user = new_user(balance=1000)
    a = make_match(api, admin_token, max_stake=700)
    b = make_match(api, admin_token)
    c = make_match(api, admin_token)
    placed_acca(api, user, [(a, "1", "2.00"), (b, "1", "2.00")], 600)
    snap = snapshot(user)
    expect_problem(place_acca(api, user, [lg(a, "1"), lg(b, "1")], 701), 422, "stake_above_max")
    expect_problem(place_acca(api, user, [lg(a, "1"), lg(b, "1")], 700), 409, "duplicate_bet")
    expect_problem(place_acca(api, user, [lg(a, "1"), lg(c, "1")], 401), 422, "insufficient_funds")
    snap.expect_unchanged()
    placed_acca(api, user, [(a, "1", "2.00"), (c, "1", "2.00")], 400)
    assert user_balance(api, admin_token, user.id) == 0


def test_the_same_set_of_legs_is_a_duplicate_in_any_order_and_stake(api, admin_token, bettor, matches,
                                                                   snapshot):
    a, b, c, d = matches(4)
    first = placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00"), (c, "2", "4.00")], 1000)
    snap = snapshot(bettor)
    for legs, stake in (([lg(a, "1"), lg(b, "X"), lg(c, "2")], 1000),
                        ([lg(c, "2"), lg(a, "1"), lg(b, "X")], 1000),
                        ([lg(b, "X"), lg(c, "2"), lg(a, "1", 2.00)], 5),
                        ([lg(b, "X"), lg(a, "1"), lg(c, "2")], 77_777)):
        expect_problem(place_acca(api, bettor, legs, stake), 409, "duplicate_bet")
    snap.expect_unchanged()
    # Another set is another bet: one selection changed, a subset, a superset.
    others = [
        placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00"), (c, "1", "2.00")], 100),
        placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00")], 100),
        placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00"), (c, "2", "4.00"), (d, "1", "2.00")], 100),
    ]
    assert len({first["id"]} | {b["id"] for b in others}) == 4
    assert user_balance(api, admin_token, bettor.id) == 1_000_000 - 1300
    expect_ledger(api, admin_token, bettor.id)


def test_singles_and_accumulators_on_the_same_selections_do_not_clash(api, admin_token, bettor, new_user,
                                                                     matches):
    a, b = matches(2)
    single = expect_json(place(api, bettor, a, "1", 100), 201)
    acca = placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00")], 100)
    expect_json(place(api, bettor, b, "X", 100), 201)
    # The same legs for another user is that user's own accumulator.
    other = new_user(balance=1000)
    mine = placed_acca(api, other, [(a, "1", "2.00"), (b, "X", "3.00")], 100)
    assert len({single["id"], acca["id"], mine["id"]}) == 3
    expect_problem(place(api, bettor, a, "1", 100), 409, "duplicate_bet")


@pytest.mark.parametrize("balance,stake", [(999, 1000), (0, 1), (MAX_STAKE - 1, MAX_STAKE)])
def test_a_stake_over_the_balance_is_insufficient_funds(api, new_user, matches, snapshot, balance, stake):
    user = new_user(balance=balance) if balance else new_user()
    a, b = matches(2)
    snap = snapshot(user)
    expect_problem(place_acca(api, user, [lg(a, "1"), lg(b, "2")], stake), 422, "insufficient_funds")
    snap.expect_unchanged()


def test_a_stake_equal_to_the_balance_leaves_zero(api, admin_token, new_user, matches):
    user = new_user(balance=4321)
    a, b = matches(2)
    placed_acca(api, user, [(a, "1", "2.00"), (b, "2", "4.00")], 4321)
    assert user_balance(api, admin_token, user.id) == 0
    assert [r["kind"] for r in expect_ledger(api, admin_token, user.id)] == ["deposit", "stake"]


# ==========================================================================
# Concurrency: the lock and the database's guards
# ==========================================================================

@pytest.mark.concurrency
def test_concurrent_identical_accumulators_place_exactly_one(api, admin_token, base_url, new_user, matches,
                                                             redis, bets_db):
    """The same legs from many threads at once (half of them in another order):
    one 201, every other answer 409 duplicate_bet or bet_in_progress, one debit."""
    user = new_user(balance=1_000_000)
    a, b, c = matches(3)
    legs = [lg(a, "1"), lg(b, "X"), lg(c, "2")]

    def request(client, i):
        order = legs if i % 2 == 0 else list(reversed(legs))
        return client.post("/v1/bets", json=acca_body(user, order, 2500), token=user.token)

    responses = run_concurrently([base_url], admin_token, CONCURRENT_PLACEMENTS, request)
    outcomes = statuses_and_codes(responses)
    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 1, outcomes
    for resp in responses:
        if resp.status_code != 201:
            assert resp.status_code == 409 and resp.json()["code"] in ("duplicate_bet", "bet_in_progress"), \
                describe(resp)
    bet = created[0].json()
    assert bets_db.bet_count(user_id=user.id) == 1
    assert user_balance(api, admin_token, user.id) == 1_000_000 - 2500
    rows = expect_ledger(api, admin_token, user.id)
    assert [(r["kind"], r["bet_id"]) for r in rows] == [("deposit", None), ("stake", bet["id"])]
    assert redis_keys.bet_locks_of(redis, user.id) == set()
    # And afterwards it is an ordinary duplicate.
    expect_problem(place_acca(api, user, legs, 2500), 409, "duplicate_bet")
    bets_db.expect_invariant()


@pytest.mark.concurrency
def test_concurrent_accumulators_never_overdraw_the_balance(api, admin_token, base_url, new_user, matches,
                                                            bets_db):
    """12 different accumulators of 300 against a balance of 1000: 3 placed."""
    user = new_user(balance=1000)
    pool = matches(4)
    sets = [[lg(pool[i], s1), lg(pool[j], s2)] for i, j in ((0, 1), (2, 3)) for s1 in ("1", "X", "2")
            for s2 in ("1", "X")]
    assert len(sets) == 12
    responses = run_concurrently(
        [base_url], admin_token, len(sets),
        lambda client, i: client.post("/v1/bets", json=acca_body(user, sets[i], 300), token=user.token))
    outcomes = statuses_and_codes(responses)
    assert outcomes.count((201, None)) == 3, outcomes
    assert outcomes.count((422, "insufficient_funds")) == 9, outcomes
    assert user_balance(api, admin_token, user.id) == 100
    assert bets_db.bet_count(user_id=user.id) == 3
    rows = expect_ledger(api, admin_token, user.id)
    assert sorted(r["balance_after"] for r in rows) == [100, 400, 700, 1000]
    bets_db.expect_invariant()


@pytest.mark.concurrency
def test_an_odds_change_racing_an_accumulator_never_places_a_price_not_accepted(api, admin_token, base_url,
                                                                                bettor, matches):
    """A leg sent at 2.00 under "none" while the admin moves it to 2.10: placed
    at 2.00 under version 1, or refused naming 2.10 and version 2."""
    for round_ in range(12):
        a, b = matches(2)
        body = acca_body(bettor, [lg(a, "1", 2.00), lg(b, "X")], 100)

        def request(client, i):
            if i == 0:
                return client.post("/v1/bets", json=body, token=bettor.token)
            return client.patch(match_url(a["id"]), json={"odds": {"1": 2.10}}, token=admin_token)

        placed, patch = run_concurrently([base_url], admin_token, 2, request)
        assert patch.status_code == 200, describe(patch)
        if placed.status_code == 201:
            expect_acca(placed, bettor, [(a["id"], "1", "2.00", 1), (b["id"], "X", "3.00", 1)], 100)
        else:
            problem = expect_problem(placed, 409, "odds_changed")
            assert (problem["match_id"], problem["odds_version"]) == (a["id"], 2), (round_, problem)
            assert D(json.dumps(problem["current_odds"])) == D("2.10"), (round_, problem)
    expect_ledger(api, admin_token, bettor.id)


# ==========================================================================
# Idempotency-Key
# ==========================================================================

def test_an_idempotent_retry_replays_the_accumulator_and_places_it_once(api, admin_token, bettor, matches,
                                                                        bets_db):
    a, b = matches(2)
    key = f"acca-{uuid.uuid4()}"
    legs = [lg(a, "1", 2.00), lg(b, "X")]
    first = place_acca(api, bettor, legs, 1000, key=key)
    bet = expect_acca(first, bettor, [(a["id"], "1", "2.00", 1), (b["id"], "X", "3.00", 1)], 1000)
    # Even after the price moved (the answer is the stored one, not a new decision).
    patched(api, admin_token, a["id"], {"odds": {"1": 2.50}})
    for _ in range(2):
        again = place_acca(api, bettor, legs, 1000, key=key)
        assert (again.status_code, again.json()) == (201, first.json()), describe(again)
        assert again.headers.get("Idempotent-Replayed") == "true", describe(again)
    assert bets_db.bet_count(user_id=bettor.id) == 1
    rows = expect_ledger(api, admin_token, bettor.id)
    assert bet_rows(rows, bet["id"]) == [("stake", -1000)]
    # Another body under the key, the legs' order included (JSON arrays are ordered).
    for body in (acca_body(bettor, legs, 999), acca_body(bettor, list(reversed(legs)), 1000)):
        resp = api.post("/v1/bets", json=body, token=bettor.token, headers={"Idempotency-Key": key})
        expect_problem(resp, 422, "idempotency_key_reused")
    assert bets_db.bet_count(user_id=bettor.id) == 1


def test_a_refused_accumulator_is_replayed_under_its_key(api, admin_token, new_user, matches, bets_db):
    user = new_user(balance=500)
    a, b = matches(2)
    key = f"acca-{uuid.uuid4()}"
    first = place_acca(api, user, [lg(a, "1"), lg(b, "1")], 1000, key=key)
    expect_problem(first, 422, "insufficient_funds")
    expect_json(api.post(f"/v1/users/{user.id}/deposits", json={"amount": 1000}, token=admin_token), 201)
    again = place_acca(api, user, [lg(a, "1"), lg(b, "1")], 1000, key=key)
    assert (again.status_code, again.json()) == (422, first.json()), describe(again)
    assert bets_db.bet_count(user_id=user.id) == 0


# ==========================================================================
# Reads
# ==========================================================================

def test_reading_an_accumulator_owner_admin_and_others(api, admin_token, bettor, new_user, matches):
    a, b = matches(2)
    bet = placed_acca(api, bettor, [(a, "X", "3.00"), (b, "2", "4.00")], 250)
    assert get_bet(api, bettor.token, bet["id"]) == bet
    assert get_bet(api, admin_token, bet["id"]) == bet
    expect_problem(api.get(f"/v1/bets/{bet['id']}", token=new_user().token), 403, "forbidden")
    expect_problem(api.get(f"/v1/bets/{bet['id']}"), 401, "unauthorized")


def test_list_filters_match_an_accumulators_legs(api, admin_token, bettor, matches):
    """match_id and selection match any leg; both together, the same leg."""
    a, b, c = matches(3)
    acca1 = placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00")], 100)
    acca2 = placed_acca(api, bettor, [(b, "1", "2.00"), (c, "2", "4.00")], 200)
    single = expect_json(place(api, bettor, a, "X", 300), 201)
    cases = [
        ({}, {acca1["id"], acca2["id"], single["id"]}),
        ({"match_id": a["id"]}, {acca1["id"], single["id"]}),
        ({"match_id": b["id"]}, {acca1["id"], acca2["id"]}),
        ({"match_id": c["id"]}, {acca2["id"]}),
        ({"selection": "X"}, {acca1["id"], single["id"]}),
        ({"selection": "2"}, {acca2["id"]}),
        ({"match_id": a["id"], "selection": "1"}, {acca1["id"]}),
        ({"match_id": a["id"], "selection": "X"}, {single["id"]}),
        ({"match_id": b["id"], "selection": "2"}, set()),
        ({"match_id": c["id"], "selection": "2"}, {acca2["id"]}),
        ({"match_id": b["id"], "min_stake": 150}, {acca2["id"]}),
    ]
    for params, expected in cases:
        ids, total = user_bets(api, bettor, **params)
        assert (ids, total) == (expected, len(expected)), params
    # The admin's list, over every user's bets, filters the same way.
    for params, expected in cases[1:4] + cases[6:10]:
        body = expect_json(api.get("/v1/bets", params=dict(params, limit=100), token=admin_token), 200)
        assert {x["id"] for x in body["items"]} == expected and body["total"] == len(expected), params
    # A listed accumulator is the bet as GET answers it, legs and all.
    body = expect_json(api.get(f"/v1/users/{bettor.id}/bets", params={"match_id": c["id"]}, token=bettor.token),
                       200)
    assert body["items"] == [acca2]


def test_the_status_filter_follows_a_settled_accumulator(api, admin_token, bettor, matches):
    a, b, c = matches(3)
    acca1 = placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00")], 100)
    acca2 = placed_acca(api, bettor, [(b, "1", "2.00"), (c, "2", "4.00")], 200)
    single = expect_json(place(api, bettor, a, "X", 300), 201)
    assert user_bets(api, bettor, status="pending") == ({acca1["id"], acca2["id"], single["id"]}, 3)
    expect_json(settle(api, admin_token, a["id"], "2"), 200)
    assert user_bets(api, bettor, status="lost") == ({acca1["id"], single["id"]}, 2)
    assert user_bets(api, bettor, status="pending") == ({acca2["id"]}, 1)
    assert user_bets(api, bettor, status="lost", match_id=b["id"]) == ({acca1["id"]}, 1)
    for status in ("won", "void", "cashed_out"):
        assert user_bets(api, bettor, status=status) == (set(), 0)


def test_the_summary_counts_accumulators_by_type_and_singles_by_selection(api, admin_token, bettor, matches):
    a, b, c = matches(3)
    only_accas = make_match(api, admin_token)
    before = summary(api, admin_token)
    assert set(before["by_status"]) == set(SUMMARY_STATUSES), before
    assert set(before["by_type"]) == {"single", "accumulator"}, before
    placed_acca(api, bettor, [(a, "1", "2.00"), (only_accas, "X", "3.00")], 700)
    placed_acca(api, bettor, [(b, "X", "3.00"), (c, "2", "4.00"), (only_accas, "1", "2.00")], 1100)
    expect_json(place(api, bettor, a, "X", 300), 201)
    after = summary(api, admin_token)
    zero = {"count": 0, "stake": 0}
    assert summary_delta(after, before) == {
        "total_bets": 3, "total_stake": 2100,
        "by_status": {"pending": {"count": 3, "stake": 2100}, "won": zero, "lost": zero, "void": zero,
                      "cashed_out": zero},
        "by_selection": {"1": zero, "X": {"count": 1, "stake": 300}, "2": zero},
        "by_type": {"single": {"count": 1, "stake": 300}, "accumulator": {"count": 2, "stake": 1800}},
    }
    # top_matches counts singles only: a match with only accumulator legs never
    # shows, not even under a stake that would top the list.
    big = make_match(api, admin_token)
    placed_acca(api, bettor, [(big, "1", "2.00"), (c, "1", "2.00")], 500_000)
    assert all(t["match_id"] not in (only_accas["id"], big["id"]) for t in summary(api, admin_token)["top_matches"])


def test_the_summary_by_status_follows_settled_accumulators(api, admin_token, bettor, matches):
    a, b = matches(2)
    before = summary(api, admin_token)
    placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00")], 900)
    expect_json(settle(api, admin_token, a["id"], "2"), 200)
    delta = summary_delta(summary(api, admin_token), before)
    assert delta["by_status"]["lost"] == {"count": 1, "stake": 900}, delta
    assert delta["by_status"]["pending"] == {"count": 0, "stake": 0}, delta
    assert delta["by_type"]["accumulator"] == {"count": 1, "stake": 900}, delta


# ==========================================================================
# Exposure: accumulators are not in it
# ==========================================================================

def test_accumulators_leave_exposure_and_max_liability_alone(api, admin_token, bettor, snapshot):
    limited = make_match(api, admin_token, max_liability=1)
    other = make_match(api, admin_token)
    acca = placed_acca(api, bettor, [(limited, "1", "2.00"), (other, "2", "4.00")], 10_000)
    assert acca["potential_payout"] == 80_000
    assert exposure(api, admin_token, limited["id"]) == zero_exposure(limited["id"], 1)
    assert exposure(api, admin_token, other["id"]) == zero_exposure(other["id"])
    # A single of 100 at 2.00 would take liability to 100 > 1.
    snap = snapshot(bettor)
    expect_problem(place(api, bettor, limited, "1", 100), 422, "liability_limit_exceeded")
    snap.expect_unchanged()
    # A single on the other match is all its exposure shows.
    expect_json(place(api, bettor, other, "2", 500), 201)
    assert exposure(api, admin_token, other["id"]) == {
        "match_id": other["id"], "bets": 1, "stakes": {"1": 0, "X": 0, "2": 500},
        "payouts": {"1": 0, "X": 0, "2": 2000}, "liability": {"1": -500, "X": -500, "2": 1500},
        "max_liability": None}
    # Settling a leg changes nothing there either.
    expect_json(settle(api, admin_token, limited["id"], "1"), 200)
    assert exposure(api, admin_token, limited["id"]) == zero_exposure(limited["id"], 1)
    assert get_bet(api, bettor.token, acca["id"])["status"] == "pending"

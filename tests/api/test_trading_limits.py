"""Limits and exposure (API.md Part 2, "Limits and exposure"; wire decisions
in the trading design): a match's max_stake and max_liability, the liability
rule on bets and checkouts, GET /v1/matches/{id}/exposure, the contract's
order of checks, liability under a 64-way race, and the rejection metric.

Liability of outcome o = payouts of pending single bets on o - stakes of all
pending single bets on the match; a placement or checkout after which the
largest of the three would exceed max_liability is refused.
"""

import json

import pytest

from api_support import (
    describe,
    expect_json,
    expect_problem,
    expect_status,
    expect_validation_failed,
    future_date,
    unique_team,
)
from bet_support import (
    MISSING_ID,
    create_user,
    parallel_map,
    run_concurrently,
    settle,
    statuses_and_codes,
)
from trading_support import (
    D,
    add_item,
    added,
    cart_url,
    checkout,
    match_url,
    patch_match,
    patched,
    payout,
    place,
)

EXPOSURE_KEYS = {"match_id", "bets", "stakes", "payouts", "liability", "max_liability"}
OUTCOMES = ("1", "X", "2")

# The liability race: 64 bettors (distinct users) each placing one bet of
# RACE_STAKE on "1" at 2.00 (liability +RACE_STAKE each) against headroom for
# RACE_ROOM of them.
RACE_BETTORS = 64
RACE_STAKE = 1000
RACE_ROOM = 10
REJECTION_REASONS = ("odds_changed", "match_suspended", "stake_above_max", "liability_limit_exceeded")


def create_match(api, admin_token, odds=None, **limits):
    body = {"team_1": unique_team("Home"), "team_2": unique_team("Away"), "date": future_date(),
            "odds": odds or {"1": 2.00, "X": 3.00, "2": 4.00}}
    body.update(limits)
    return api.post("/v1/matches", json=body, token=admin_token)


def limited_match(api, admin_token, odds=None, **limits):
    return expect_json(create_match(api, admin_token, odds, **limits), 201)


def placed(api, user, match, selection, stake):
    return expect_json(place(api, user, match, selection, stake), 201)


def exposure(api, admin_token, match_id):
    resp = api.get(match_url(match_id) + "/exposure", token=admin_token)
    body = expect_json(resp, 200)
    assert set(body) == EXPOSURE_KEYS, describe(resp)
    for key in ("stakes", "payouts", "liability"):
        assert set(body[key]) == set(OUTCOMES), describe(resp)
        assert all(type(v) is int for v in body[key].values()), describe(resp)
    return body


def expected_exposure(match_id, bets, max_liability):
    """The exposure the contract defines over `bets` [(selection, stake, odds)]."""
    stakes = {o: sum(s for sel, s, _ in bets if sel == o) for o in OUTCOMES}
    payouts = {o: sum(payout(s, odds) for sel, s, odds in bets if sel == o) for o in OUTCOMES}
    total = sum(stakes.values())
    return {"match_id": match_id, "bets": len(bets), "stakes": stakes, "payouts": payouts,
            "liability": {o: payouts[o] - total for o in OUTCOMES}, "max_liability": max_liability}


def expect_stake_above_max(resp, max_stake):
    problem = expect_problem(resp, 422, "stake_above_max")
    assert problem.get("max_stake") == max_stake, describe(resp)
    return problem


def expect_liability_exceeded(resp, max_liability):
    problem = expect_problem(resp, 422, "liability_limit_exceeded")
    assert problem.get("max_liability") == max_liability, describe(resp)
    return problem


@pytest.fixture
def bettor(new_user):
    return new_user(balance=10_000_000)


# ------------------------------------------------------------ limits on a match

def test_limits_are_set_on_create_and_read_back(api, admin_token):
    match = limited_match(api, admin_token, max_stake=5000, max_liability=200_000)
    assert (match["max_stake"], match["max_liability"], match["odds_version"]) == (5000, 200_000, 1)
    fetched = expect_json(api.get(match_url(match["id"])), 200)
    assert (fetched["max_stake"], fetched["max_liability"]) == (5000, 200_000)
    bounds = limited_match(api, admin_token, max_stake=100_000_000, max_liability=10**12)
    assert (bounds["max_stake"], bounds["max_liability"]) == (100_000_000, 10**12)
    ones = limited_match(api, admin_token, max_stake=1, max_liability=1)
    assert (ones["max_stake"], ones["max_liability"]) == (1, 1)
    nulls = limited_match(api, admin_token, max_stake=None, max_liability=None)
    assert (nulls["max_stake"], nulls["max_liability"]) == (None, None)


@pytest.mark.parametrize("field,raw", [
    ("max_stake", "0"), ("max_stake", "-1"), ("max_stake", "100000001"), ("max_stake", "1000.0"),
    ("max_stake", "10.5"), ("max_stake", '"1000"'), ("max_stake", "true"), ("max_stake", "{}"),
    ("max_liability", "0"), ("max_liability", "1000000000001"), ("max_liability", "5000.0"),
    ("max_liability", '"5000"'), ("max_liability", "[1]"),
])
def test_bad_limits_are_422_on_create_and_patch(api, admin_token, db, field, raw):
    team = unique_team("Bad")
    text = json.dumps({"team_1": team, "team_2": unique_team("Away"), "date": future_date(),
                       "odds": {"1": 2.0}})[:-1] + f', "{field}": {raw}}}'
    expect_validation_failed(api.post("/v1/matches", body=text, token=admin_token), field)
    assert db.matches_with_team(team) == 0
    match = limited_match(api, admin_token, max_stake=700)
    row = db.match_row(match["id"])
    expect_validation_failed(api.patch(match_url(match["id"]), body=f'{{"{field}": {raw}}}', token=admin_token),
                             field)
    assert db.match_row(match["id"]) == row


def test_patch_sets_and_removes_limits_without_touching_the_rest(api, admin_token):
    match = limited_match(api, admin_token)
    after = patched(api, admin_token, match["id"], {"max_stake": 2500})
    assert (after["max_stake"], after["max_liability"], after["odds_version"]) == (2500, None, 1)
    after = patched(api, admin_token, match["id"], {"max_liability": 90_000})
    assert (after["max_stake"], after["max_liability"]) == (2500, 90_000)
    assert {k: v for k, v in after.items() if k not in ("max_stake", "max_liability")} == \
        {k: v for k, v in match.items() if k not in ("max_stake", "max_liability")}
    after = patched(api, admin_token, match["id"], {"max_stake": None})
    assert (after["max_stake"], after["max_liability"]) == (None, 90_000)
    fetched = expect_json(api.get(match_url(match["id"])), 200)
    assert fetched == after


def test_limits_cannot_change_once_settled(api, admin_token, db):
    match = limited_match(api, admin_token, max_stake=500)
    expect_status(settle(api, admin_token, match["id"], "void"), 200)
    row = db.match_row(match["id"])
    expect_problem(patch_match(api, admin_token, match["id"], {"max_stake": 900}), 422, "match_closed")
    expect_problem(patch_match(api, admin_token, match["id"], {"max_liability": None}), 422, "match_closed")
    assert db.match_row(match["id"]) == row


# ------------------------------------------------------------ max_stake

def test_a_bet_above_max_stake_is_422_with_the_limit(api, admin_token, bettor, snapshot):
    match = limited_match(api, admin_token, max_stake=5000)
    snap = snapshot(bettor)
    expect_stake_above_max(place(api, bettor, match, "1", 5001), 5000)
    snap.expect_unchanged()
    bet = placed(api, bettor, match, "1", 5000)
    assert bet["stake"] == 5000
    # Lowering the limit refuses what it allowed; removing it allows anything.
    patched(api, admin_token, match["id"], {"max_stake": 10})
    expect_stake_above_max(place(api, bettor, match, "X", 11), 10)
    placed(api, bettor, match, "X", 10)
    patched(api, admin_token, match["id"], {"max_stake": None})
    placed(api, bettor, match, "2", 5_000_000)


def test_a_cart_item_above_max_stake_is_refused_at_add(api, admin_token, bettor, snapshot):
    match = limited_match(api, admin_token, max_stake=300)
    snap = snapshot(bettor)
    expect_stake_above_max(add_item(api, bettor, match, "1", 301), 300)
    snap.expect_unchanged()
    assert added(api, bettor, match, "1", 300)["stake"] == 300


def test_a_cart_stake_change_above_max_stake_is_refused(api, admin_token, bettor, snapshot):
    match = limited_match(api, admin_token, max_stake=300)
    item = added(api, bettor, match, "1", 200)
    url = f"{cart_url(bettor)}/items/{item['item_id']}"
    snap = snapshot(bettor)
    expect_stake_above_max(api.patch(url, json={"stake": 301}, token=bettor.token), 300)
    expect_stake_above_max(api.patch(url, json={"stake": 400, "selection": "X"}, token=bettor.token), 300)
    snap.expect_unchanged()
    assert expect_json(api.patch(url, json={"stake": 300}, token=bettor.token), 200)["stake"] == 300


def test_checkout_after_max_stake_was_lowered_places_nothing(api, admin_token, bettor, snapshot):
    fine = limited_match(api, admin_token)
    match = limited_match(api, admin_token, max_stake=10_000)
    added(api, bettor, fine, "1", 100)
    item = added(api, bettor, match, "X", 5000)
    patched(api, admin_token, match["id"], {"max_stake": 4999})
    snap = snapshot(bettor)
    problem = expect_problem(checkout(api, bettor), 422, "stake_above_max")
    assert problem["item_ids"] == [item["item_id"]], problem
    snap.expect_unchanged()
    patched(api, admin_token, match["id"], {"max_stake": 5000})
    result = expect_json(checkout(api, bettor), 201)
    assert result["total_stake"] == 5100


# ------------------------------------------------------------ liability

def test_liability_is_allowed_up_to_the_limit_and_refused_one_cent_above(api, admin_token, new_user, snapshot):
    # "1" at 2.00: a stake s adds 2s of payout and s of stake, so +s liability on "1".
    match = limited_match(api, admin_token, max_liability=10_000)
    first, second, third = new_user(balance=100_000), new_user(balance=100_000), new_user(balance=100_000)
    placed(api, first, match, "1", 6000)
    snap = snapshot(second)
    expect_liability_exceeded(place(api, second, match, "1", 4001), 10_000)
    snap.expect_unchanged()
    placed(api, second, match, "1", 4000)
    assert max(exposure(api, admin_token, match["id"])["liability"].values()) == 10_000
    expect_liability_exceeded(place(api, third, match, "1", 1), 10_000)
    # Raising the limit makes room; removing it, any amount.
    patched(api, admin_token, match["id"], {"max_liability": 10_001})
    placed(api, third, match, "1", 1)
    patched(api, admin_token, match["id"], {"max_liability": None})
    placed(api, third, match, "2", 50_000)


def test_stakes_on_other_outcomes_count_against_each_liability(api, admin_token, new_user):
    """liability[o] = payouts[o] - all stakes: a bet on X lowers the liability on 1."""
    match = limited_match(api, admin_token, max_liability=1000)
    a, b, c = new_user(balance=100_000), new_user(balance=100_000), new_user(balance=100_000)
    placed(api, a, match, "1", 1000)        # 1: 2000-1000 = 1000 (the limit)
    expect_liability_exceeded(place(api, b, match, "1", 1), 1000)   # 1: 2002-1001 = 1001
    placed(api, b, match, "X", 500)         # 1: 2000-1500 = 500, X: 1500-1500 = 0, 2: -1500
    placed(api, c, match, "1", 500)         # 1: 3000-2000 = 1000, X: -500, 2: -2000
    assert exposure(api, admin_token, match["id"])["liability"] == {"1": 1000, "X": -500, "2": -2000}
    # X at 3.00 for s: X = 1500+3s-(2000+s) = 2s-500; 751 gives 1002.
    expect_liability_exceeded(place(api, c, match, "X", 751), 1000)
    placed(api, c, match, "X", 750)         # 1: 3000-2750 = 250, X: 3750-2750 = 1000, 2: -2750
    exp = exposure(api, admin_token, match["id"])
    assert exp["liability"] == {"1": 250, "X": 1000, "2": -2750}
    assert exp["stakes"] == {"1": 1500, "X": 1250, "2": 0}
    assert exp["payouts"] == {"1": 3000, "X": 3750, "2": 0}
    assert (exp["bets"], exp["max_liability"]) == (4, 1000)


def test_a_bet_is_judged_by_the_liability_after_it_even_if_it_lowers_it(api, admin_token, new_user, snapshot):
    """The limit lowered below the book: a hedge that lowers the largest
    liability but leaves it above the limit is still refused (the contract:
    "after which the largest of the three liabilities would exceed")."""
    match = limited_match(api, admin_token)
    a, b = new_user(balance=100_000), new_user(balance=100_000)
    placed(api, a, match, "1", 10_000)      # 1: 20000-10000 = 10000
    patched(api, admin_token, match["id"], {"max_liability": 5000})
    snap = snapshot(b)
    # "2" at 4.00 for s: 1 = 10000-s, 2 = 3s-10000; only s = 5000 fits both.
    # (The problem's "max_liability" is checked by the next test.)
    expect_problem(place(api, b, match, "2", 4999), 422, "liability_limit_exceeded")   # 1: 5001
    expect_problem(place(api, b, match, "2", 5001), 422, "liability_limit_exceeded")   # 2: 5003
    snap.expect_unchanged()
    placed(api, b, match, "2", 5000)
    assert exposure(api, admin_token, match["id"])["liability"] == {"1": 5000, "X": -15_000, "2": 5000}


@pytest.mark.parametrize("first_limit", [None, 20_000])
def test_the_refusal_names_the_limit_in_force_after_a_patch(api, admin_token, new_user, first_limit):
    """A bet on the match first (so the server has read it), then the limit
    changes: the 422 names the new limit, not the one of that earlier read."""
    match = limited_match(api, admin_token, max_liability=first_limit)
    placed(api, new_user(balance=100_000), match, "1", 3000)      # 1: 3000
    patched(api, admin_token, match["id"], {"max_liability": 5000})
    expect_liability_exceeded(place(api, new_user(balance=100_000), match, "1", 2001), 5000)   # 1: 5001


def test_checkout_over_the_liability_limit_places_nothing(api, admin_token, new_user, snapshot):
    fine = limited_match(api, admin_token)
    match = limited_match(api, admin_token, max_liability=1500)
    other, user = new_user(balance=100_000), new_user(balance=100_000)
    placed(api, other, match, "1", 1000)    # 1: 1000
    added(api, user, fine, "1", 100)
    item = added(api, user, match, "1", 600)
    snap = snapshot(user)
    problem = expect_problem(checkout(api, user), 422, "liability_limit_exceeded")
    if "item_ids" in problem:
        assert problem["item_ids"] == [item["item_id"]], problem
    snap.expect_unchanged()
    expect_json(api.patch(f"{cart_url(user)}/items/{item['item_id']}", json={"stake": 500}, token=user.token), 200)
    assert expect_json(checkout(api, user), 201)["total_stake"] == 600
    assert exposure(api, admin_token, match["id"])["liability"]["1"] == 1500


def test_checkout_is_judged_by_the_liability_after_all_its_items(api, admin_token, new_user):
    """Alone the first item would take "1" over the limit; with the second
    (a stake on "2") the book after the checkout is within it."""
    match = limited_match(api, admin_token, max_liability=1000)
    other, user = new_user(balance=100_000), new_user(balance=100_000)
    placed(api, other, match, "1", 900)     # 1: 900
    added(api, user, match, "1", 200)       # alone: 1: 2200-1100 = 1100
    added(api, user, match, "2", 200)       # both: 1: 2200-1300 = 900, 2: 800-1300 = -500
    result = expect_json(checkout(api, user), 201)
    assert result["total_stake"] == 400
    assert exposure(api, admin_token, match["id"])["liability"] == {"1": 900, "X": -1300, "2": -500}


# ------------------------------------------------------------ exposure

def test_exposure_of_a_match_without_bets_is_all_zero(api, admin_token):
    match = limited_match(api, admin_token, odds={"1": 1.5}, max_liability=777)
    assert exposure(api, admin_token, match["id"]) == expected_exposure(match["id"], [], 777)


def test_exposure_is_exact_after_bets_checkout_and_settlement(api, admin_token, new_user, bets_db):
    match = limited_match(api, admin_token, odds={"1": 2.15, "X": 3.33, "2": 4.07})
    mid = match["id"]
    u1, u2, u3 = (new_user(balance=100_000) for _ in range(3))
    book = []
    for user, sel, stake, odds in ((u1, "1", 1001, "2.15"), (u1, "X", 333, "3.33"),
                                   (u2, "2", 777, "4.07"), (u2, "1", 50, "2.15")):
        bet = placed(api, user, match, sel, stake)
        assert D(bet["odds"]) == D(odds)
        book.append((sel, stake, odds))
        assert exposure(api, admin_token, mid) == expected_exposure(mid, book, None)
    # A new price applies to new bets only; a checkout counts like bets.
    patched(api, admin_token, mid, {"odds": {"1": 2.55}})
    added(api, u3, match, "1", 999)
    added(api, u3, match, "2", 99)
    expect_json(checkout(api, u3), 201)
    book += [("1", 999, "2.55"), ("2", 99, "4.07")]
    exp = exposure(api, admin_token, mid)
    assert exp == expected_exposure(mid, book, None)
    assert exp["payouts"]["1"] == 2152 + 107 + 2547
    # Cross-check with the bets themselves.
    page = expect_json(api.get("/v1/bets", params={"match_id": mid, "status": "pending", "limit": 100},
                               token=admin_token), 200)
    assert page["total"] == exp["bets"] == 6
    for o in OUTCOMES:
        assert exp["stakes"][o] == sum(b["stake"] for b in page["items"] if b["selection"] == o)
        assert exp["payouts"][o] == sum(b["potential_payout"] for b in page["items"] if b["selection"] == o)
    # A limit set later shows; settlement empties the book.
    patched(api, admin_token, mid, {"max_liability": 50_000})
    assert exposure(api, admin_token, mid) == expected_exposure(mid, book, 50_000)
    expect_status(settle(api, admin_token, mid, "X"), 200)
    assert exposure(api, admin_token, mid) == expected_exposure(mid, [], 50_000)


def test_exposure_is_zero_after_a_void_settlement(api, admin_token, new_user):
    match = limited_match(api, admin_token)
    placed(api, new_user(balance=10_000), match, "2", 2500)
    assert exposure(api, admin_token, match["id"])["bets"] == 1
    expect_status(settle(api, admin_token, match["id"], "void"), 200)
    assert exposure(api, admin_token, match["id"]) == expected_exposure(match["id"], [], None)


def test_exposure_is_for_the_admin_only(api, admin_token, bettor):
    match = limited_match(api, admin_token)
    url = match_url(match["id"]) + "/exposure"
    expect_problem(api.get(url), 401, "unauthorized")
    expect_problem(api.get(url, token="nope"), 401, "unauthorized")
    expect_problem(api.get(url, token=bettor.token), 403, "forbidden")
    expect_problem(api.get(match_url(MISSING_ID) + "/exposure", token=admin_token), 404, "match_not_found")
    expect_problem(api.get("/v1/matches/0/exposure", token=admin_token), 404, "not_found")
    expect_problem(api.get(url + "?x=1", token=admin_token), 400, "invalid_parameter")


# ------------------------------------------------------------ order of checks

def test_stake_above_max_comes_before_the_duplicate_check(api, admin_token, bettor, snapshot):
    match = limited_match(api, admin_token, max_stake=1000)
    placed(api, bettor, match, "1", 1000)
    snap = snapshot(bettor)
    expect_stake_above_max(place(api, bettor, match, "1", 1001), 1000)
    expect_problem(place(api, bettor, match, "1", 1000), 409, "duplicate_bet")
    snap.expect_unchanged()


def test_stake_above_max_comes_before_the_funds_check(api, admin_token, new_user, snapshot):
    poor = new_user(balance=100)
    match = limited_match(api, admin_token, max_stake=500)
    snap = snapshot(poor)
    expect_stake_above_max(place(api, poor, match, "1", 501), 500)
    expect_problem(place(api, poor, match, "1", 500), 422, "insufficient_funds")
    snap.expect_unchanged()


def test_selection_closed_and_price_come_before_stake_above_max(api, admin_token, bettor, snapshot):
    match = limited_match(api, admin_token, odds={"1": 2.00, "2": 4.00}, max_stake=100)
    closed = limited_match(api, admin_token, max_stake=100)
    expect_status(settle(api, admin_token, closed["id"], "1"), 200)
    patched(api, admin_token, match["id"], {"odds": {"1": 2.20}})
    snap = snapshot(bettor)
    expect_problem(place(api, bettor, match, "X", 101), 422, "invalid_selection")
    expect_problem(place(api, bettor, closed, "1", 101), 422, "match_closed")
    expect_problem(place(api, bettor, match, "1", 101, odds=2.00), 409, "odds_changed")
    expect_stake_above_max(place(api, bettor, match, "1", 101, odds=2.20), 100)
    snap.expect_unchanged()


def test_duplicate_comes_before_liability(api, admin_token, bettor, snapshot):
    match = limited_match(api, admin_token, max_liability=1000)
    placed(api, bettor, match, "1", 1000)   # 1: 1000, the limit
    snap = snapshot(bettor)
    expect_problem(place(api, bettor, match, "1", 500), 409, "duplicate_bet")
    snap.expect_unchanged()


def test_insufficient_funds_comes_before_liability(api, admin_token, new_user, snapshot):
    match = limited_match(api, admin_token, max_liability=1000)
    poor = new_user(balance=1500)
    snap = snapshot(poor)
    expect_problem(place(api, poor, match, "1", 2000), 422, "insufficient_funds")  # 1 would be 2000
    expect_liability_exceeded(place(api, poor, match, "1", 1001), 1000)
    snap.expect_unchanged()


def test_checkout_order_stake_above_max_duplicate_funds_liability(api, admin_token, new_user, snapshot):
    user = new_user(balance=1000)
    other = new_user(balance=100_000)
    capped = limited_match(api, admin_token, max_stake=100)
    dup = limited_match(api, admin_token)
    hot = limited_match(api, admin_token, max_liability=500)
    placed(api, user, dup, "1", 10)
    placed(api, other, hot, "1", 500)       # hot "1": 500, the limit
    hot_item = added(api, user, hot, "1", 300)
    dup_item = added(api, user, dup, "1", 100)
    capped_item = added(api, user, capped, "1", 100)
    patched(api, admin_token, capped["id"], {"max_stake": 99})
    big_item = added(api, user, limited_match(api, admin_token), "2", 900)   # total 1400 > 990
    url = f"{cart_url(user)}/items/"
    for code, status, item in (("stake_above_max", 422, capped_item), ("duplicate_bet", 409, dup_item),
                               ("insufficient_funds", 422, big_item)):
        snap = snapshot(user)
        problem = expect_problem(checkout(api, user), status, code)
        if code != "insufficient_funds":
            assert problem["item_ids"] == [item["item_id"]], problem
        snap.expect_unchanged()
        expect_status(api.delete(url + str(item["item_id"]), token=user.token), 204)
    snap = snapshot(user)
    problem = expect_problem(checkout(api, user), 422, "liability_limit_exceeded")
    if "item_ids" in problem:
        assert problem["item_ids"] == [hot_item["item_id"]], problem
    snap.expect_unchanged()


# ------------------------------------------------------------ the race

@pytest.mark.concurrency
def test_concurrent_placements_never_take_the_liability_over_the_limit(
        api, base_url, admin_token, new_user, db, bets_db):
    """64 bettors race for the last headroom: exactly RACE_ROOM are placed,
    the book stays within the limit and the exposure is the sum of the bets."""
    seed_stake = 5000
    limit = seed_stake + RACE_ROOM * RACE_STAKE + RACE_STAKE // 2
    match = limited_match(api, admin_token, max_liability=limit)
    placed(api, new_user(balance=seed_stake), match, "1", seed_stake)
    users = parallel_map(base_url, admin_token, lambda a, _: create_user(a, admin_token, 10_000),
                         range(RACE_BETTORS))

    def request(client, i):
        user = users[i]
        body = {"user_id": user.id, "match_id": match["id"], "selection": "1", "stake": RACE_STAKE}
        return client.post("/v1/bets", json=body, token=user.token)

    responses = run_concurrently([base_url], admin_token, RACE_BETTORS, request)
    outcomes = statuses_and_codes(responses)
    winners = [users[i] for i, r in enumerate(responses) if r.status_code == 201]
    assert len(winners) == RACE_ROOM, outcomes
    for resp in responses:
        if resp.status_code != 201:
            expect_liability_exceeded(resp, limit)

    exp = exposure(api, admin_token, match["id"])
    assert max(exp["liability"].values()) <= limit, exp
    assert exp["liability"]["1"] == seed_stake + RACE_ROOM * RACE_STAKE, exp
    assert exp["bets"] == RACE_ROOM + 1, exp
    page = expect_json(api.get("/v1/bets", params={"match_id": match["id"], "limit": 100}, token=admin_token), 200)
    assert page["total"] == RACE_ROOM + 1
    assert sum(exp["stakes"].values()) == sum(b["stake"] for b in page["items"]) == seed_stake + RACE_ROOM * RACE_STAKE
    assert sum(exp["payouts"].values()) == sum(b["potential_payout"] for b in page["items"])
    assert sorted(b["user_id"] for b in page["items"] if b["stake"] == RACE_STAKE) == sorted(u.id for u in winners)
    for i, user in enumerate(users):
        assert db.balance(user.id) == (10_000 - RACE_STAKE if responses[i].status_code == 201 else 10_000), user
    bets_db.expect_invariant("after the liability race")


# ------------------------------------------------------------ metrics

def scrape_rejections(api):
    """{reason: value} of betsdb_bet_rejections_total, and its TYPE line."""
    resp = api.get("/metrics")
    assert resp.status_code == 200, describe(resp)
    values, kind = {}, None
    for line in resp.text.splitlines():
        if line.startswith("# TYPE betsdb_bet_rejections_total "):
            kind = line.split()[-1]
        if not line.startswith("betsdb_bet_rejections_total{"):
            continue
        labels, number = line.rsplit(" ", 1)
        reason = labels.split('reason="', 1)[1].split('"', 1)[0]
        assert reason not in values, f"duplicate series: {line!r}"
        values[reason] = float(number)
    return values, kind


def test_every_rejection_reason_is_counted(api, admin_token, new_user, bettor):
    match = limited_match(api, admin_token, max_stake=1000, max_liability=1000)
    halted = limited_match(api, admin_token)
    expect_json(api.post(match_url(halted["id"]) + "/suspend", token=admin_token), 200)
    patched(api, admin_token, match["id"], {"odds": {"2": 4.40}})

    before, _ = scrape_rejections(api)
    expect_problem(place(api, bettor, match, "2", 10, odds=4.00), 409, "odds_changed")
    expect_problem(place(api, bettor, halted, "1", 10), 422, "match_suspended")
    expect_stake_above_max(place(api, bettor, match, "1", 1001), 1000)
    expect_liability_exceeded(place(api, bettor, match, "2", 400), 1000)   # 2: 4.40 * 400 - 400
    after, kind = scrape_rejections(api)
    assert kind == "counter"
    for reason in REJECTION_REASONS:
        assert after.get(reason, 0) >= before.get(reason, 0) + 1, (reason, before, after)

    # Cart adds and changes, and checkouts, count too.
    user = new_user(balance=100_000)
    item = added(api, user, match, "1", 100)
    for reason, refuse in (
            ("match_suspended", lambda: expect_problem(add_item(api, user, halted, "1", 10), 422, "match_suspended")),
            ("stake_above_max", lambda: expect_stake_above_max(
                api.patch(f"{cart_url(user)}/items/{item['item_id']}", json={"stake": 5000}, token=user.token),
                1000)),
            ("odds_changed", lambda: (
                patched(api, admin_token, match["id"], {"odds": {"1": 2.05}}),
                expect_problem(checkout(api, user, json={"accept_price_change": "none"}), 409, "odds_changed"))),
            ("liability_limit_exceeded", lambda: (
                patched(api, admin_token, match["id"], {"max_liability": 50}),
                expect_problem(checkout(api, user), 422, "liability_limit_exceeded")))):
        before, _ = scrape_rejections(api)
        refuse()
        after, _ = scrape_rejections(api)
        assert after.get(reason, 0) >= before.get(reason, 0) + 1, (reason, before, after)

"""Odds versions and price changes (API.md Part 2, "Odds versions and price
changes"; wire decisions in the trading design): a match's odds_version, the
bettor's "odds" and "accept_price_change" on a bet and on checkout, the cart's
odds_at_add, the 409 odds_changed body, and the version a bet records.

Every refused write must leave the balance, the ledger, the bets and the cart
untouched; `Snapshot` proves it.
"""

import json
import threading
from decimal import Decimal

import pytest

from api_support import (
    describe,
    expect_json,
    expect_problem,
    expect_status,
    expect_validation_failed,
    future_date,
    json_decimal,
    unique_team,
)
from bet_support import (
    MISSING_ID,
    bet_body,
    expect_consistent_ledger,
    parallel_map,
    create_user,
    run_concurrently,
    settle,
    user_balance,
)
from trading_support import (
    D,
    add_item,
    added,
    cart_url,
    checkout,
    get_match,
    match_url,
    patch_match,
    patched,
    payout,
    place,
)

NEW_MATCH_KEYS = {"odds_version", "max_stake", "max_liability"}
NEW_BET_KEYS = {"odds_version", "type", "cash_out_amount"}

# The odds race: bettors per run, the odds changes the admin makes meanwhile,
# and how often one bettor may retry a selection before the test gives up.
RACE_BETTORS = 16
RACE_PATCHES = 12
RACE_MAX_TRIES = 40
# Answers without a price decision (409 bet_in_progress, 503) tolerated per selection.
RACE_MAX_BUSY = 1000
PRICES_LOW = {"1": "2.00", "X": "3.00", "2": "4.00"}
PRICES_HIGH = {"1": "2.10", "X": "3.10", "2": "4.10"}


# ------------------------------------------------------------------ helpers

def place_raw(api, user, text):
    return api.post("/v1/bets", body=text, token=user.token)


def expect_placed(resp, user, match, selection, stake, odds, version):
    """201, a single bet at exactly `odds` recording `version`; returns it."""
    bet = expect_json(resp, 201)
    exact = json_decimal(resp)
    assert NEW_BET_KEYS <= bet.keys(), describe(resp)
    assert bet["type"] == "single", describe(resp)
    assert bet["cash_out_amount"] is None, describe(resp)
    assert bet["user_id"] == user.id and bet["match_id"] == match["id"], describe(resp)
    assert bet["selection"] == selection and bet["stake"] == stake, describe(resp)
    assert exact["odds"] == D(odds), describe(resp)
    assert bet["potential_payout"] == payout(stake, odds), describe(resp)
    assert bet["odds_version"] == version, describe(resp)
    assert bet["status"] == "pending", describe(resp)
    return bet


def expect_odds_changed(resp, current_odds, version):
    """409 odds_changed carrying the current price and the match's version."""
    problem = expect_problem(resp, 409, "odds_changed")
    exact = json_decimal(resp)
    assert isinstance(exact.get("current_odds"), (Decimal, int)) and not isinstance(
        exact.get("current_odds"), bool), describe(resp)
    assert D(exact["current_odds"]) == D(current_odds), describe(resp)
    assert type(problem.get("odds_version")) is int, describe(resp)
    assert problem["odds_version"] == version, describe(resp)
    return problem


def view(api, user):
    return expect_json(api.get(cart_url(user), token=user.token), 200)


def exact_items(resp):
    """The cart items of a GET/POST answer with odds as exact Decimals."""
    body = json_decimal(resp)
    return body["items"] if "items" in body else [body]


@pytest.fixture
def bettor(new_user):
    return new_user(balance=1_000_000)


@pytest.fixture
def priced_match(new_match):
    """A match at 2.00 / 3.00 / 4.00 (odds_version 1)."""
    return lambda: new_match(odds={"1": 2.00, "X": 3.00, "2": 4.00})


# ------------------------------------------------------------ odds_version

def test_a_new_match_has_version_1_no_limits_and_status_open(api, admin_token):
    body = {"team_1": unique_team("Home"), "team_2": unique_team("Away"),
            "date": future_date(), "odds": {"1": 2.10, "X": 3.25, "2": 3.60}}
    created = expect_json(api.post("/v1/matches", json=body, token=admin_token), 201)
    assert NEW_MATCH_KEYS <= created.keys(), created
    assert created["odds_version"] == 1
    assert created["max_stake"] is None and created["max_liability"] is None
    assert created["status"] == "open"
    assert get_match(api, created["id"]) == created


def test_each_real_odds_change_bumps_the_version_by_one(api, admin_token, priced_match):
    match = priced_match()
    mid = match["id"]
    assert patched(api, admin_token, mid, {"odds": {"1": 2.05}})["odds_version"] == 2
    # Two selections changed in one request: still one change of the match.
    assert patched(api, admin_token, mid, {"odds": {"1": 2.10, "X": 3.10}})["odds_version"] == 3
    # A withdrawn selection is a change.
    assert patched(api, admin_token, mid, {"odds": {"2": None}})["odds_version"] == 4
    # Offering it again is one too.
    assert patched(api, admin_token, mid, {"odds": {"2": 4.50}})["odds_version"] == 5
    fetched = get_match(api, mid)
    assert fetched["odds_version"] == 5
    assert {k: D(v) for k, v in fetched["odds"].items()} == {"1": D("2.10"), "X": D("3.10"), "2": D("4.50")}


def test_the_same_odds_again_bump_nothing(api, admin_token, priced_match, db):
    match = priced_match()
    mid = match["id"]
    assert patched(api, admin_token, mid, {"odds": {"1": 2.20}})["odds_version"] == 2
    row = db.match_row(mid)
    # The same value, also spelt differently, and a partly unchanged request.
    for body in ({"odds": {"1": 2.20}}, {"odds": {"1": 2.2, "X": 3.00}}):
        again = patched(api, admin_token, mid, body)
        assert again["odds_version"] == 2, (body, again)
    assert db.match_row(mid) == row
    # One real change among unchanged ones is one bump.
    assert patched(api, admin_token, mid, {"odds": {"1": 2.20, "X": 3.05}})["odds_version"] == 3


def test_limits_never_bump_the_version(api, admin_token, priced_match):
    match = priced_match()
    mid = match["id"]
    after = patched(api, admin_token, mid, {"max_stake": 5000, "max_liability": 100_000})
    assert after["odds_version"] == 1
    assert (after["max_stake"], after["max_liability"]) == (5000, 100_000)
    after = patched(api, admin_token, mid, {"max_stake": None, "max_liability": None})
    assert after["odds_version"] == 1
    assert (after["max_stake"], after["max_liability"]) == (None, None)
    # Odds and a limit together: one bump, for the odds.
    after = patched(api, admin_token, mid, {"odds": {"1": 1.90}, "max_stake": 700})
    assert after["odds_version"] == 2 and after["max_stake"] == 700


def test_patch_must_name_something(api, admin_token, priced_match, db):
    match = priced_match()
    row = db.match_row(match["id"])
    expect_validation_failed(patch_match(api, admin_token, match["id"], {}), "body")
    expect_validation_failed(patch_match(api, admin_token, match["id"], {"odds": {}}), "odds")
    assert db.match_row(match["id"]) == row
    assert get_match(api, match["id"])["odds_version"] == 1


# ------------------------------------------------------- bets: versions

def test_a_bet_without_odds_takes_the_current_price_and_version(api, admin_token, bettor, priced_match):
    match = priced_match()
    first = expect_placed(place(api, bettor, match, "1", 1000), bettor, match, "1", 1000, "2.00", 1)
    patched(api, admin_token, match["id"], {"odds": {"X": 3.30}})
    second = expect_placed(place(api, bettor, match, "X", 1000), bettor, match, "X", 1000, "3.30", 2)
    # A suspend and a resume bump the version without a price change.
    expect_json(api.post(match_url(match["id"]) + "/suspend", token=admin_token), 200)
    expect_json(api.post(match_url(match["id"]) + "/resume", token=admin_token), 200)
    third = expect_placed(place(api, bettor, match, "2", 1000), bettor, match, "2", 1000, "4.00", 4)
    # The record keeps what it was placed at.
    for bet in (first, second, third):
        assert expect_json(api.get(f"/v1/bets/{bet['id']}", token=bettor.token), 200) == bet
    listed = expect_json(api.get(f"/v1/users/{bettor.id}/bets", params={"match_id": match["id"]},
                                 token=bettor.token), 200)["items"]
    assert sorted((b["id"], b["odds_version"]) for b in listed) == [
        (first["id"], 1), (second["id"], 2), (third["id"], 4)]


@pytest.mark.parametrize("mode", [None, "none", "better", "any"])
def test_the_current_price_is_placed_at_that_price_in_every_mode(api, bettor, priced_match, mode):
    match = priced_match()
    extra = {"odds": 3.00} if mode is None else {"odds": 3.00, "accept_price_change": mode}
    expect_placed(place(api, bettor, match, "X", 700, **extra), bettor, match, "X", 700, "3.00", 1)


def test_odds_spelt_with_a_trailing_zero_is_the_same_price(api, bettor, priced_match):
    match = priced_match()
    text = json.dumps(bet_body(bettor, match, "1", 500))[:-1] + ', "odds": 2.000}'
    expect_placed(place_raw(api, bettor, text), bettor, match, "1", 500, "2.00", 1)


# ------------------------------------------------------- bets: price changes

@pytest.mark.parametrize("mode", [None, "none"])
@pytest.mark.parametrize("new_price", ["2.20", "1.80"])
def test_none_refuses_any_other_price_with_the_current_one(
        api, admin_token, bettor, priced_match, snapshot, mode, new_price):
    match = priced_match()
    patched(api, admin_token, match["id"], {"odds": {"1": float(new_price)}})
    snap = snapshot(bettor)
    extra = {"odds": 2.00} if mode is None else {"odds": 2.00, "accept_price_change": mode}
    expect_odds_changed(place(api, bettor, match, "1", 1000, **extra), new_price, 2)
    snap.expect_unchanged()
    # The price the 409 named is accepted.
    extra["odds"] = float(new_price)
    expect_placed(place(api, bettor, match, "1", 1000, **extra), bettor, match, "1", 1000, new_price, 2)


def test_better_takes_a_higher_current_price(api, admin_token, bettor, priced_match):
    match = priced_match()
    patched(api, admin_token, match["id"], {"odds": {"1": 2.35}})
    resp = place(api, bettor, match, "1", 1000, odds=2.00, accept_price_change="better")
    bet = expect_placed(resp, bettor, match, "1", 1000, "2.35", 2)
    assert bet["potential_payout"] == 2350
    assert user_balance(api, admin_token, bettor.id) == 1_000_000 - 1000


def test_better_refuses_a_lower_current_price(api, admin_token, bettor, priced_match, snapshot):
    match = priced_match()
    patched(api, admin_token, match["id"], {"odds": {"1": 1.99}})
    snap = snapshot(bettor)
    expect_odds_changed(place(api, bettor, match, "1", 1000, odds=2.00, accept_price_change="better"),
                        "1.99", 2)
    snap.expect_unchanged()


@pytest.mark.parametrize("new_price", ["1.50", "2.50"])
def test_any_takes_the_current_price_either_way(api, admin_token, bettor, priced_match, new_price):
    match = priced_match()
    patched(api, admin_token, match["id"], {"odds": {"1": float(new_price)}})
    resp = place(api, bettor, match, "1", 999, odds=2.00, accept_price_change="any")
    expect_placed(resp, bettor, match, "1", 999, new_price, 2)


def test_odds_changed_names_the_latest_version(api, admin_token, bettor, priced_match, snapshot):
    """The 409's version is the match's current one (after a suspend/resume too)."""
    match = priced_match()
    patched(api, admin_token, match["id"], {"odds": {"2": 4.40}})
    expect_json(api.post(match_url(match["id"]) + "/suspend", token=admin_token), 200)
    expect_json(api.post(match_url(match["id"]) + "/resume", token=admin_token), 200)
    snap = snapshot(bettor)
    problem = expect_odds_changed(place(api, bettor, match, "2", 100, odds=4.00), "4.40", 4)
    assert problem["odds_version"] == get_match(api, match["id"])["odds_version"]
    snap.expect_unchanged()


def test_a_version_bump_without_a_price_change_is_no_price_change(api, admin_token, bettor, priced_match):
    match = priced_match()
    expect_json(api.post(match_url(match["id"]) + "/suspend", token=admin_token), 200)
    expect_json(api.post(match_url(match["id"]) + "/resume", token=admin_token), 200)
    patched(api, admin_token, match["id"], {"odds": {"1": 2.50}})
    patched(api, admin_token, match["id"], {"odds": {"1": 2.00}})
    resp = place(api, bettor, match, "1", 100, odds=2.00, accept_price_change="none")
    expect_placed(resp, bettor, match, "1", 100, "2.00", 5)


@pytest.mark.parametrize("mode", [None, "any"])
def test_a_withdrawn_selection_is_invalid_selection_with_odds(
        api, admin_token, bettor, priced_match, snapshot, mode):
    match = priced_match()
    patched(api, admin_token, match["id"], {"odds": {"X": None}})
    snap = snapshot(bettor)
    extra = {"odds": 3.00} if mode is None else {"odds": 3.00, "accept_price_change": mode}
    expect_problem(place(api, bettor, match, "X", 100, **extra), 422, "invalid_selection")
    snap.expect_unchanged()


def test_a_missing_match_is_404_before_the_price(api, bettor, snapshot):
    snap = snapshot(bettor)
    body = {"user_id": bettor.id, "match_id": MISSING_ID, "selection": "1", "stake": 100, "odds": 2.0}
    expect_problem(api.post("/v1/bets", json=body, token=bettor.token), 404, "match_not_found")
    snap.expect_unchanged()


def test_a_closed_match_is_match_closed_before_the_price(api, admin_token, bettor, priced_match, snapshot):
    match = priced_match()
    expect_status(settle(api, admin_token, match["id"], "X"), 200)
    snap = snapshot(bettor)
    expect_problem(place(api, bettor, match, "1", 100, odds=1.5), 422, "match_closed")
    snap.expect_unchanged()


def test_a_stale_price_is_refused_before_the_duplicate_check(api, admin_token, bettor, priced_match, snapshot):
    match = priced_match()
    expect_json(place(api, bettor, match, "1", 100), 201)
    patched(api, admin_token, match["id"], {"odds": {"1": 2.40}})
    snap = snapshot(bettor)
    expect_odds_changed(place(api, bettor, match, "1", 100, odds=2.00), "2.40", 2)
    expect_problem(place(api, bettor, match, "1", 100, odds=2.40), 409, "duplicate_bet")
    snap.expect_unchanged()


def test_a_stale_price_is_refused_before_the_funds_check(api, admin_token, new_user, priced_match, db):
    poor = new_user(balance=50)
    match = priced_match()
    patched(api, admin_token, match["id"], {"odds": {"2": 5.00}})
    expect_odds_changed(place(api, poor, match, "2", 100, odds=4.00), "5.00", 2)
    expect_problem(place(api, poor, match, "2", 100, odds=5.00), 422, "insufficient_funds")
    assert db.balance(poor.id) == 50


# ------------------------------------------------------------ validation

@pytest.mark.parametrize("extra", [
    {"accept_price_change": "any"},
    {"accept_price_change": "none"},
    {"accept_price_change": "better"},
])
def test_accept_price_change_without_odds_is_422(api, bettor, priced_match, snapshot, extra):
    snap = snapshot(bettor)
    expect_validation_failed(place(api, bettor, priced_match(), "1", 100, **extra), "accept_price_change")
    snap.expect_unchanged()


@pytest.mark.parametrize("value", ["ANY", "worse", "", 1, True, ["any"]])
def test_unknown_accept_price_change_is_422(api, bettor, priced_match, snapshot, value):
    snap = snapshot(bettor)
    resp = place(api, bettor, priced_match(), "1", 100, odds=2.00, accept_price_change=value)
    expect_validation_failed(resp, "accept_price_change")
    snap.expect_unchanged()


@pytest.mark.parametrize("odds_text", ["2.105", "2.001", "1.00", "1.009", "0", "-2.00", "1000.01",
                                       "1e30", "1", '"2.00"', "true", "[2.0]", "{}"])
def test_bad_odds_on_a_bet_are_422_naming_odds(api, bettor, priced_match, snapshot, odds_text):
    match = priced_match()
    snap = snapshot(bettor)
    text = json.dumps(bet_body(bettor, match, "1", 100))[:-1] + f', "odds": {odds_text}}}'
    expect_validation_failed(place_raw(api, bettor, text), "odds")
    snap.expect_unchanged()


@pytest.mark.parametrize("odds_text,expected", [("1.01", "1.01"), ("1000", "1000.00"), ("1000.00", "1000.00")])
def test_odds_at_the_bounds_are_valid_prices(api, bettor, priced_match, snapshot, odds_text, expected):
    """In range, so not a validation error: the price check answers (409)."""
    match = priced_match()
    snap = snapshot(bettor)
    text = json.dumps(bet_body(bettor, match, "1", 100))[:-1] + f', "odds": {odds_text}}}'
    expect_odds_changed(place_raw(api, bettor, text), "2.00", 1)
    snap.expect_unchanged()


# ------------------------------------------------------------ cart

def test_a_cart_item_remembers_the_price_when_added(api, admin_token, bettor, priced_match):
    match = priced_match()
    resp = add_item(api, bettor, match, "X", 500)
    item = expect_json(resp, 201)
    [exact] = exact_items(resp)
    assert exact["odds_at_add"] == D("3.00") and exact["odds"] == D("3.00"), describe(resp)
    patched(api, admin_token, match["id"], {"odds": {"X": 3.45}})
    resp = api.get(cart_url(bettor), token=bettor.token)
    [exact] = exact_items(resp)
    assert exact["item_id"] == item["item_id"]
    assert exact["odds"] == D("3.45"), describe(resp)
    assert exact["odds_at_add"] == D("3.00"), describe(resp)
    # A stake change keeps the remembered price.
    resp = api.patch(f"{cart_url(bettor)}/items/{item['item_id']}", json={"stake": 600}, token=bettor.token)
    [exact] = exact_items(resp)
    assert (exact["stake"], exact["odds"], exact["odds_at_add"]) == (600, D("3.45"), D("3.00")), describe(resp)
    # A selection change takes the new selection's current price.
    patched(api, admin_token, match["id"], {"odds": {"2": 4.25}})
    resp = api.patch(f"{cart_url(bettor)}/items/{item['item_id']}", json={"selection": "2"}, token=bettor.token)
    [exact] = exact_items(resp)
    assert (exact["selection"], exact["odds"], exact["odds_at_add"]) == ("2", D("4.25"), D("4.25")), describe(resp)
    patched(api, admin_token, match["id"], {"odds": {"2": 4.00}})
    [exact] = exact_items(api.get(cart_url(bettor), token=bettor.token))
    assert (exact["odds"], exact["odds_at_add"]) == (D("4.00"), D("4.25"))


def test_a_withdrawn_selection_shows_null_odds_but_keeps_odds_at_add(api, admin_token, bettor, priced_match):
    match = priced_match()
    added(api, bettor, match, "X", 500)
    patched(api, admin_token, match["id"], {"odds": {"X": None}})
    [exact] = exact_items(api.get(cart_url(bettor), token=bettor.token))
    assert exact["odds"] is None and exact["odds_at_add"] == D("3.00")


def test_checkout_by_default_takes_the_current_prices(api, admin_token, bettor, priced_match):
    up, down = priced_match(), priced_match()
    added(api, bettor, up, "1", 1000)
    added(api, bettor, down, "2", 1000)
    patched(api, admin_token, up["id"], {"odds": {"1": 2.50}})
    patched(api, admin_token, down["id"], {"odds": {"2": 3.50}})
    resp = checkout(api, bettor)
    result = expect_json(resp, 201)
    bets = {b["match_id"]: b for b in json_decimal(resp)["bets"]}
    assert bets[up["id"]]["odds"] == D("2.50") and bets[up["id"]]["potential_payout"] == 2500
    assert bets[down["id"]]["odds"] == D("3.50") and bets[down["id"]]["potential_payout"] == 3500
    assert {b["match_id"]: b["odds_version"] for b in result["bets"]} == {up["id"]: 2, down["id"]: 2}
    assert all(b["type"] == "single" and b["cash_out_amount"] is None for b in result["bets"])


@pytest.mark.parametrize("body", [{}, {"accept_price_change": "any"}])
def test_checkout_with_any_takes_the_current_prices(api, admin_token, bettor, priced_match, body):
    match = priced_match()
    added(api, bettor, match, "X", 1000)
    patched(api, admin_token, match["id"], {"odds": {"X": 2.75}})
    resp = checkout(api, bettor, json=body)
    expect_status(resp, 201)
    [bet] = json_decimal(resp)["bets"]
    assert bet["odds"] == D("2.75") and bet["odds_version"] == 2, describe(resp)


def test_checkout_with_none_refuses_every_changed_item_and_places_nothing(
        api, admin_token, bettor, priced_match, snapshot):
    same, up, down = priced_match(), priced_match(), priced_match()
    added(api, bettor, same, "1", 100)
    up_item = added(api, bettor, up, "1", 100)
    down_item = added(api, bettor, down, "1", 100)
    patched(api, admin_token, up["id"], {"odds": {"1": 2.20}})
    patched(api, admin_token, down["id"], {"odds": {"1": 1.80}})
    # A version bump on the unchanged item's match is not a price change.
    patched(api, admin_token, same["id"], {"odds": {"X": 3.30}})
    snap = snapshot(bettor)
    problem = expect_problem(checkout(api, bettor, json={"accept_price_change": "none"}), 409, "odds_changed")
    assert sorted(problem["item_ids"]) == sorted([up_item["item_id"], down_item["item_id"]])
    snap.expect_unchanged()
    # Without the changed items the rest is placed at its price.
    for item in (up_item, down_item):
        expect_status(api.delete(f"{cart_url(bettor)}/items/{item['item_id']}", token=bettor.token), 204)
    resp = checkout(api, bettor, json={"accept_price_change": "none"})
    expect_status(resp, 201)
    [bet] = json_decimal(resp)["bets"]
    assert (bet["match_id"], bet["odds"], bet["odds_version"]) == (same["id"], D("2.00"), 2), describe(resp)
    assert view(api, bettor)["items"] == []


def test_checkout_with_better_takes_higher_prices_and_refuses_lower_ones(
        api, admin_token, bettor, priced_match, snapshot):
    up, down = priced_match(), priced_match()
    added(api, bettor, up, "2", 100)
    down_item = added(api, bettor, down, "2", 100)
    patched(api, admin_token, up["id"], {"odds": {"2": 4.80}})
    patched(api, admin_token, down["id"], {"odds": {"2": 3.90}})
    snap = snapshot(bettor)
    problem = expect_problem(checkout(api, bettor, json={"accept_price_change": "better"}), 409, "odds_changed")
    assert problem["item_ids"] == [down_item["item_id"]]
    snap.expect_unchanged()
    expect_status(api.delete(f"{cart_url(bettor)}/items/{down_item['item_id']}", token=bettor.token), 204)
    resp = checkout(api, bettor, json={"accept_price_change": "better"})
    expect_status(resp, 201)
    [bet] = json_decimal(resp)["bets"]
    assert (bet["match_id"], bet["odds"], bet["potential_payout"]) == (up["id"], D("4.80"), 480), describe(resp)
    assert bet["odds_version"] == 2


def test_checkout_price_check_follows_suspension_and_precedes_the_stake_limit(
        api, admin_token, bettor, priced_match, snapshot):
    suspended, stale, limited = priced_match(), priced_match(), priced_match()
    suspended_item = added(api, bettor, suspended, "1", 500)
    stale_item = added(api, bettor, stale, "1", 500)
    added(api, bettor, limited, "1", 500)
    patched(api, admin_token, stale["id"], {"odds": {"1": 2.60}})
    patched(api, admin_token, limited["id"], {"max_stake": 100})
    expect_json(api.post(match_url(suspended["id"]) + "/suspend", token=admin_token), 200)
    snap = snapshot(bettor)
    body = {"accept_price_change": "none"}
    problem = expect_problem(checkout(api, bettor, json=body), 422, "match_suspended")
    assert problem["item_ids"] == [suspended_item["item_id"]]
    expect_json(api.post(match_url(suspended["id"]) + "/resume", token=admin_token), 200)
    problem = expect_problem(checkout(api, bettor, json=body), 409, "odds_changed")
    assert problem["item_ids"] == [stale_item["item_id"]]
    # Under "any" the price is no failure, so the stake limit answers.
    expect_problem(checkout(api, bettor, json={"accept_price_change": "any"}), 422, "stake_above_max")
    snap.expect_unchanged()


@pytest.mark.parametrize("body", ['{"accept_price_change":"maybe"}', '{"accept_price_change":null}',
                                  '{"accept_price_change":1}', '{"accept_price_change":"any","x":1}',
                                  '{"odds":2.0}'])
def test_bad_checkout_bodies_are_422(api, bettor, priced_match, snapshot, body):
    added(api, bettor, priced_match(), "1", 100)
    snap = snapshot(bettor)
    expect_problem(checkout(api, bettor, body=body), 422, "validation_failed")
    snap.expect_unchanged()


# ------------------------------------------------------------ the odds race

def _odds_race(api, base_url, admin_token, new_match, mode):
    """Bettors placing with "odds" while the admin moves every price between
    PRICES_LOW and PRICES_HIGH. Returns (versions, attempts): versions maps
    odds_version -> the prices at that version (from the PATCH answers),
    attempts is [(selection, sent odds, response status, body)]."""
    match = new_match(odds={k: float(v) for k, v in PRICES_LOW.items()})
    users = parallel_map(base_url, admin_token, lambda a, _: create_user(a, admin_token, 100_000),
                         range(RACE_BETTORS))
    versions = {1: {k: D(v) for k, v in PRICES_LOW.items()}}
    done = threading.Event()
    attempts = [[] for _ in range(RACE_BETTORS)]

    def admin(client):
        try:
            for n in range(RACE_PATCHES):
                prices = PRICES_HIGH if n % 2 == 0 else PRICES_LOW
                resp = client.patch(match_url(match["id"]), json={"odds": {k: float(v) for k, v in prices.items()}},
                                    token=admin_token)
                body = json_decimal(resp)
                assert resp.status_code == 200, describe(resp)
                versions[body["odds_version"]] = {k: D(v) for k, v in body["odds"].items()}
        finally:
            done.set()

    def bettor(client, user, log):
        for selection, guess in (("1", PRICES_HIGH["1"]), ("X", PRICES_LOW["X"]), ("2", PRICES_HIGH["2"])):
            tries = busy = 0
            while True:
                body = {"user_id": user.id, "match_id": match["id"], "selection": selection,
                        "stake": 100, "odds": float(guess), "accept_price_change": mode}
                resp = client.post("/v1/bets", json=body, token=user.token)
                parsed = json_decimal(resp)
                if (resp.status_code, parsed.get("code")) in (
                        (409, "bet_in_progress"), (503, "service_unavailable")):
                    # No price decision was made: this user's previous bet on
                    # the match still held the lock (released in the
                    # background), or the odds changed under every pricing
                    # attempt (docs/api.md: "503 service_unavailable; retry").
                    # Send it again.
                    busy += 1
                    assert busy < RACE_MAX_BUSY, describe(resp)
                    continue
                log.append((selection, D(guess), resp.status_code, parsed))
                if resp.status_code == 201:
                    break
                assert resp.status_code == 409 and parsed.get("code") == "odds_changed", describe(resp)
                tries += 1
                if tries >= RACE_MAX_TRIES:
                    pytest.fail(f"selection {selection} never placed in {RACE_MAX_TRIES} tries: {log[-3:]}")
                # As a client would: try again at the price just named, but
                # keep racing (the admin may move it again meanwhile).
                guess = parsed["current_odds"]

    def request(client, i):
        if i == 0:
            admin(client)
        else:
            bettor(client, users[i - 1], attempts[i - 1])

    run_concurrently([base_url], admin_token, RACE_BETTORS + 1, request)
    assert sorted(versions) == list(range(1, RACE_PATCHES + 2)), sorted(versions)
    return match, users, versions, [a for log in attempts for a in log]


@pytest.mark.concurrency
def test_odds_changes_racing_placements_with_none_place_exactly_the_sent_odds(
        api, base_url, admin_token, new_match, bets_db):
    match, users, versions, attempts = _odds_race(api, base_url, admin_token, new_match, "none")
    placed = [(sel, sent, body) for sel, sent, status, body in attempts if status == 201]
    assert len(placed) == 3 * RACE_BETTORS
    for selection, sent, bet in placed:
        assert bet["odds"] == sent, bet
        # The version it records priced this selection at exactly that.
        assert versions[bet["odds_version"]][selection] == bet["odds"], (bet, versions)
        assert bet["potential_payout"] == payout(100, bet["odds"]), bet
    for selection, sent, status, body in attempts:
        if status == 409:
            # The price named is the one at the version named, and not the one sent.
            assert versions[body["odds_version"]][selection] == D(body["current_odds"]), (body, versions)
            assert D(body["current_odds"]) != sent, body
    assert bets_db.bet_count(match_id=match["id"]) == 3 * RACE_BETTORS
    for user in users[:3]:
        expect_consistent_ledger(api, admin_token, user.id)


@pytest.mark.concurrency
def test_odds_changes_racing_placements_with_better_never_place_below_the_sent_odds(
        api, base_url, admin_token, new_match, bets_db):
    match, users, versions, attempts = _odds_race(api, base_url, admin_token, new_match, "better")
    placed = [(sel, sent, body) for sel, sent, status, body in attempts if status == 201]
    assert len(placed) == 3 * RACE_BETTORS
    for selection, sent, bet in placed:
        assert bet["odds"] >= sent, bet
        assert versions[bet["odds_version"]][selection] == bet["odds"], (bet, versions)
        assert bet["potential_payout"] == payout(100, bet["odds"]), bet
    for selection, sent, status, body in attempts:
        if status == 409:
            assert versions[body["odds_version"]][selection] == D(body["current_odds"]), (body, versions)
            assert D(body["current_odds"]) < sent, body
    assert bets_db.bet_count(match_id=match["id"]) == 3 * RACE_BETTORS
    for user in users[:3]:
        expect_consistent_ledger(api, admin_token, user.id)

"""The betting cart (API.md: Cart): add, change, remove, view, clear and an
all-or-nothing checkout, with the cart in Redis (hash cart:{<user_id>}, the
braces literal: redis_keys.cart) and the bets in PostgreSQL.

Every refused write must leave the balance, the ledger, the bets and the
cart itself untouched; `Snapshot` proves it.
"""

import uuid
from decimal import Decimal

import pytest

import redis_keys
from api_support import (
    Api,
    describe,
    expect_json,
    expect_problem,
    expect_status,
    expect_timestamp,
    expect_validation_failed,
    is_positive_int,
    json_decimal,
    past_date,
)
from bet_support import (
    BET_KEYS,
    MAX_STAKE,
    MISSING_ID,
    RECONNECT_S,
    expect_consistent_ledger,
    expected_payout,
    ledger_of_kind,
    place_bet,
    poll_until,
    run_concurrently,
    settle,
    statuses_and_codes,
    user_balance,
)

# API.md: "resets the key's TTL to 3 days (259200 s)", "At most 50 items".
CART_TTL_S = 259_200
# A TTL just reset must read within (CART_TTL_S - margin, CART_TTL_S]: the
# issue's bound, room for a slow shared machine between the call and TTL.
FRESH_TTL_MARGIN_S = 10
MAX_ITEMS = 50
# What a test lowers the TTL to by hand, to see an operation reset it.
LOWERED_TTL_S = 100

ITEM_KEYS = {"item_id", "match_id", "selection", "stake", "odds", "odds_at_add", "added_at"}
CART_KEYS = {"items", "total_stake", "expires_in"}
CHECKOUT_KEYS = {"bets", "total_stake", "balance"}

CONCURRENT_CHECKOUTS = 10
# Rounds of the checkout-versus-edits race: each round is a fresh user and
# cart, so different interleavings get a chance to happen.
EDIT_RACE_ROUNDS = 6


def cart_key(user):
    """docs/operations.md: the hash cart:{<user_id>}."""
    return redis_keys.cart(user.id)


def cart_url(user):
    return f"/v1/users/{user.id}/cart"


def item_url(user, item_id):
    return f"/v1/users/{user.id}/cart/items/{item_id}"


def new_key():
    return f"checkout-{uuid.uuid4()}"


def add_item(api, user, match, selection="1", stake=1000, token=None):
    body = {"match_id": match["id"], "selection": selection, "stake": stake}
    return api.post(cart_url(user) + "/items", json=body, token=token or user.token)


def added(api, user, match, selection="1", stake=1000):
    item = expect_json(add_item(api, user, match, selection, stake), 201)
    assert set(item.keys()) == ITEM_KEYS, item
    return item


def checkout(api, user, key=None, **kw):
    headers = {"Idempotency-Key": key} if key is not None else None
    return api.post(cart_url(user) + "/checkout", token=user.token, headers=headers, **kw)


def view(api, user):
    cart = expect_json(api.get(cart_url(user), token=user.token), 200)
    assert set(cart.keys()) == CART_KEYS, cart
    return cart


def expect_fresh_ttl(redis, user, after):
    ttl = redis.ttl(cart_key(user))
    assert CART_TTL_S - FRESH_TTL_MARGIN_S < ttl <= CART_TTL_S, f"TTL {ttl} after {after}"


def lower_ttl(redis, user):
    assert redis.expire(cart_key(user), LOWERED_TTL_S)
    assert redis.ttl(cart_key(user)) <= LOWERED_TTL_S


@pytest.fixture
def bettor(new_user):
    return new_user(balance=100_000)


# ------------------------------------------------------------ the seed's flow

def test_seed_flow_two_items_wait_in_redis_then_checkout_places_both(
        api, admin_token, new_user, new_match, redis, db, bets_db):
    user = new_user(balance=50_000)
    m1, m2 = new_match(), new_match(odds={"1": 1.85, "X": 3.0, "2": 4.5})
    first = added(api, user, m1, "1", 1000)
    second = added(api, user, m2, "2", 500)

    # Redis holds both; PostgreSQL has nothing yet.
    stored = redis.hgetall(cart_key(user))
    assert set(stored.keys()) == {str(first["item_id"]), str(second["item_id"])}, stored
    assert bets_db.bet_count(user_id=user.id) == 0
    assert db.balance(user.id) == 50_000
    assert db.ledger_rows(user.id) == 1  # the initial deposit

    resp = checkout(api, user)
    result = expect_json(resp, 201)
    assert set(result.keys()) == CHECKOUT_KEYS, result
    assert result["total_stake"] == 1500
    assert result["balance"] == 48_500
    bets = json_decimal(resp)["bets"]
    assert [(b["match_id"], b["selection"], b["stake"]) for b in bets] == [
        (m1["id"], "1", 1000), (m2["id"], "2", 500)]
    assert [b["odds"] for b in bets] == [Decimal("2.10"), Decimal("4.50")]
    for bet in result["bets"]:
        assert set(bet.keys()) == BET_KEYS, bet
        assert bet["user_id"] == user.id and bet["status"] == "pending" and bet["settled_at"] is None
        assert bet["potential_payout"] == expected_payout(bet["stake"], bet["odds"])
        expect_timestamp(bet["created_at"])
        assert expect_json(api.get(f"/v1/bets/{bet['id']}", token=user.token), 200) == bet

    assert bets_db.bet_count(user_id=user.id) == 2
    assert db.balance(user.id) == 48_500
    rows = expect_consistent_ledger(api, admin_token, user.id)
    stakes = ledger_of_kind(rows, "stake")
    assert sorted((r["bet_id"], r["amount"]) for r in stakes) == sorted(
        (b["id"], -b["stake"]) for b in result["bets"])
    assert redis.exists(cart_key(user)) == 0
    assert view(api, user)["items"] == []
    bets_db.expect_invariant()


def test_checkout_takes_the_odds_as_of_checkout(api, admin_token, bettor, new_match):
    match = new_match()
    item = added(api, bettor, match, "X", 1000)
    assert json_decimal(add_item(api, bettor, new_match(), "1", 1))["odds"] == Decimal("2.10")
    assert Decimal(str(item["odds"])) == Decimal("3.25")
    expect_json(api.patch(f"/v1/matches/{match['id']}", json={"odds": {"X": 4.40}}, token=admin_token), 200)
    assert Decimal(str(view(api, bettor)["items"][0]["odds"])) == Decimal("4.40")
    result = expect_json(checkout(api, bettor), 201)
    placed = [b for b in result["bets"] if b["match_id"] == match["id"]][0]
    assert Decimal(str(placed["odds"])) == Decimal("4.40")
    assert placed["potential_payout"] == 4400


# ------------------------------------------------------------ view and TTL

def test_empty_cart_is_empty_with_the_full_ttl(api, bettor):
    assert view(api, bettor) == {"items": [], "total_stake": 0, "expires_in": CART_TTL_S}


def test_view_shows_items_in_insertion_order_with_current_odds(api, admin_token, bettor, new_match):
    matches = [new_match() for _ in range(12)]
    items = [added(api, bettor, m, "2", 100 + i) for i, m in enumerate(matches)]
    ids = [i["item_id"] for i in items]
    assert all(is_positive_int(i) for i in ids) and len(set(ids)) == len(ids)
    # A withdrawn selection shows null odds.
    expect_json(api.patch(f"/v1/matches/{matches[3]['id']}", json={"odds": {"2": None}}, token=admin_token), 200)
    resp = api.get(cart_url(bettor), token=bettor.token)
    cart = expect_json(resp, 200)
    assert [i["item_id"] for i in cart["items"]] == ids
    assert cart["items"] == [dict(i, odds=None) if n == 3 else i for n, i in enumerate(items)]
    assert [i["odds"] for i in json_decimal(resp)["items"]] == [
        None if n == 3 else Decimal("3.60") for n in range(12)]
    assert cart["total_stake"] == sum(100 + n for n in range(12))
    assert CART_TTL_S - FRESH_TTL_MARGIN_S < cart["expires_in"] <= CART_TTL_S
    for item in cart["items"]:
        expect_timestamp(item["added_at"])


def test_every_cart_operation_resets_the_ttl(api, bettor, new_user, new_match, redis):
    m1, m2, m3 = new_match(), new_match(), new_match()
    first = added(api, bettor, m1)
    expect_fresh_ttl(redis, bettor, "adding an item")

    operations = [
        ("GET cart", lambda: expect_status(api.get(cart_url(bettor), token=bettor.token), 200)),
        ("adding", lambda: expect_status(add_item(api, bettor, m2, "X", 300), 201)),
        ("a refused add (duplicate)", lambda: expect_problem(add_item(api, bettor, m2, "X"), 409, "duplicate_item")),
        ("changing an item", lambda: expect_status(
            api.patch(item_url(bettor, first["item_id"]), json={"stake": 700}, token=bettor.token), 200)),
        ("adding a third", lambda: expect_status(add_item(api, bettor, m3, "2", 10), 201)),
        ("removing an item", lambda: expect_status(
            api.delete(item_url(bettor, first["item_id"]), token=bettor.token), 204)),
        ("removing a missing item", lambda: expect_problem(
            api.delete(item_url(bettor, first["item_id"]), token=bettor.token), 404, "item_not_found")),
    ]
    for name, operation in operations:
        lower_ttl(redis, bettor)
        operation()
        expect_fresh_ttl(redis, bettor, name)

    # Lowered by hand, then reset by a plain read whose expires_in says so.
    lower_ttl(redis, bettor)
    cart = view(api, bettor)
    expect_fresh_ttl(redis, bettor, "GET")
    assert CART_TTL_S - FRESH_TTL_MARGIN_S < cart["expires_in"] <= CART_TTL_S
    assert len(cart["items"]) == 2

    # A checkout refused for the funds read the cart, so it reset the TTL too.
    poor = new_user(balance=5)
    added(api, poor, m1, "1", 10)
    lower_ttl(redis, poor)
    expect_problem(checkout(api, poor), 422, "insufficient_funds")
    expect_fresh_ttl(redis, poor, "a checkout refused for funds")


# ------------------------------------------------------------ adding

def test_added_item_is_201_with_the_item(api, bettor, new_match):
    match = new_match()
    resp = add_item(api, bettor, match, "X", 2500)
    item = expect_json(resp, 201)
    assert set(item.keys()) == ITEM_KEYS
    assert is_positive_int(item["item_id"])
    assert item["match_id"] == match["id"]
    assert item["selection"] == "X"
    assert item["stake"] == 2500
    assert json_decimal(resp)["odds"] == Decimal("3.25")
    expect_timestamp(item["added_at"])
    assert view(api, bettor)["items"] == [item]


def test_same_match_other_selection_is_another_item(api, bettor, new_match):
    match = new_match()
    ids = {added(api, bettor, match, s)["item_id"] for s in ("1", "X", "2")}
    assert len(ids) == 3
    assert len(view(api, bettor)["items"]) == 3


def test_same_match_and_selection_twice_is_409_duplicate_item(api, bettor, new_match, snapshot):
    match = new_match()
    added(api, bettor, match, "1", 100)
    snap = snapshot(bettor)
    expect_problem(add_item(api, bettor, match, "1", 999), 409, "duplicate_item")
    snap.expect_unchanged()


def test_51st_item_is_422_cart_full_but_a_duplicate_is_409_first(api, bettor, new_match, snapshot):
    matches = [new_match() for _ in range((MAX_ITEMS + 2) // 3)]
    pairs = [(m, s) for m in matches for s in ("1", "X", "2")][:MAX_ITEMS + 1]
    for match, selection in pairs[:MAX_ITEMS]:
        added(api, bettor, match, selection, 1)
    snap = snapshot(bettor)
    last_match, last_selection = pairs[MAX_ITEMS]
    expect_problem(add_item(api, bettor, last_match, last_selection), 422, "cart_full")
    expect_problem(add_item(api, bettor, pairs[0][0], pairs[0][1]), 409, "duplicate_item")
    snap.expect_unchanged()
    cart = view(api, bettor)
    assert len(cart["items"]) == MAX_ITEMS
    assert cart["total_stake"] == MAX_ITEMS
    # Room again after a removal.
    expect_status(api.delete(item_url(bettor, cart["items"][0]["item_id"]), token=bettor.token), 204)
    added(api, bettor, last_match, last_selection, 1)


def test_adding_for_a_missing_match_is_404(api, bettor, snapshot):
    snap = snapshot(bettor)
    expect_problem(add_item(api, bettor, {"id": MISSING_ID}), 404, "match_not_found")
    snap.expect_unchanged()


def test_adding_a_selection_not_offered_is_422_invalid_selection(api, bettor, new_match, snapshot):
    match = new_match(odds={"1": 1.5, "2": 2.5})
    snap = snapshot(bettor)
    expect_problem(add_item(api, bettor, match, "X"), 422, "invalid_selection")
    snap.expect_unchanged()


def test_adding_on_a_closed_match_is_422_match_closed(api, admin_token, bettor, new_match, snapshot):
    past = new_match(date=past_date())
    settled = new_match()
    expect_status(settle(api, admin_token, settled["id"], "1"), 200)
    snap = snapshot(bettor)
    expect_problem(add_item(api, bettor, past), 422, "match_closed")
    expect_problem(add_item(api, bettor, settled), 422, "match_closed")
    snap.expect_unchanged()


def test_invalid_selection_is_checked_before_match_closed(api, bettor, new_match):
    past = new_match(date=past_date(), odds={"1": 1.5})
    expect_problem(add_item(api, bettor, past, "2"), 422, "invalid_selection")


@pytest.mark.parametrize("body, field", [
    ({"match_id": 1, "selection": "1", "stake": 0}, "stake"),
    ({"match_id": 1, "selection": "1", "stake": MAX_STAKE + 1}, "stake"),
    ({"match_id": 1, "selection": "1", "stake": 10.5}, "stake"),
    ({"match_id": 1, "selection": "1", "stake": 1000.0}, "stake"),
    ({"match_id": 1, "selection": "1", "stake": "1000"}, "stake"),
    ({"match_id": 1, "selection": "x", "stake": 1000}, "selection"),
    ({"match_id": 1, "selection": 1, "stake": 1000}, "selection"),
    ({"match_id": 0, "selection": "1", "stake": 1000}, "match_id"),
    ({"match_id": "1", "selection": "1", "stake": 1000}, "match_id"),
    ({"selection": "1", "stake": 1000}, "match_id"),
    ({"match_id": 1, "stake": 1000}, "selection"),
    ({"match_id": 1, "selection": "1"}, "stake"),
    ({"match_id": 1, "selection": "1", "stake": 1000, "user_id": 1}, "user_id"),
])
def test_invalid_item_body_is_422_validation_failed(api, bettor, snapshot, body, field):
    snap = snapshot(bettor)
    resp = api.post(cart_url(bettor) + "/items", json=body, token=bettor.token)
    expect_validation_failed(resp, field)
    snap.expect_unchanged()


def test_stake_bounds_are_accepted(api, bettor, new_match):
    assert added(api, bettor, new_match(), "1", 1)["stake"] == 1
    assert added(api, bettor, new_match(), "1", MAX_STAKE)["stake"] == MAX_STAKE


def test_item_body_syntax_and_media_type(api, bettor, new_match, snapshot):
    match = new_match()
    snap = snapshot(bettor)
    expect_problem(api.post(cart_url(bettor) + "/items", body='{"match_id":', token=bettor.token), 400,
                   "invalid_json")
    expect_problem(api.post(cart_url(bettor) + "/items", json={"match_id": match["id"], "selection": "1",
                                                               "stake": 5}, token=bettor.token,
                            content_type="text/plain"), 415, "unsupported_media_type")
    expect_problem(api.post(cart_url(bettor) + "/items", json=[1], token=bettor.token), 422, "validation_failed")
    snap.expect_unchanged()


# ------------------------------------------------------------ changing, removing, clearing

def test_change_stake_and_selection(api, bettor, new_match):
    match = new_match()
    item = added(api, bettor, match, "1", 100)
    resp = api.patch(item_url(bettor, item["item_id"]), json={"stake": 250}, token=bettor.token)
    changed = expect_json(resp, 200)
    assert changed == dict(item, stake=250)
    resp = api.patch(item_url(bettor, item["item_id"]), json={"selection": "2", "stake": 300}, token=bettor.token)
    changed = expect_json(resp, 200)
    # A new selection remembers its price now.
    assert changed == dict(item, selection="2", stake=300, odds=changed["odds"], odds_at_add=changed["odds"])
    assert json_decimal(resp)["odds"] == Decimal("3.60")
    assert view(api, bettor)["items"] == [changed]


def test_change_into_a_selection_already_in_the_cart_is_409(api, bettor, new_match, snapshot):
    match = new_match()
    home = added(api, bettor, match, "1")
    added(api, bettor, match, "X")
    snap = snapshot(bettor)
    expect_problem(api.patch(item_url(bettor, home["item_id"]), json={"selection": "X"}, token=bettor.token),
                   409, "duplicate_item")
    snap.expect_unchanged()
    # Naming the item's own selection is not a duplicate.
    expect_status(api.patch(item_url(bettor, home["item_id"]), json={"selection": "1"}, token=bettor.token), 200)


def test_change_is_validated_like_a_new_item(api, admin_token, bettor, new_match, snapshot):
    match = new_match(odds={"1": 1.5, "2": 2.5})
    item = added(api, bettor, match, "1")
    snap = snapshot(bettor)
    url = item_url(bettor, item["item_id"])
    expect_problem(api.patch(url, json={"selection": "X"}, token=bettor.token), 422, "invalid_selection")
    for body, field in [({}, None), ({"stake": 0}, "stake"), ({"selection": "draw"}, "selection"),
                        ({"stake": 5, "match_id": match["id"]}, "match_id")]:
        expect_validation_failed(api.patch(url, json=body, token=bettor.token), field)
    snap.expect_unchanged()
    expect_status(settle(api, admin_token, match["id"], "void"), 200)
    expect_problem(api.patch(url, json={"stake": 5}, token=bettor.token), 422, "match_closed")
    snap.expect_unchanged()


def test_change_or_remove_a_missing_item_is_404_item_not_found(api, bettor, new_user, new_match, snapshot):
    item = added(api, bettor, new_match())
    other = new_user()
    other_item = added(api, other, new_match())
    snap = snapshot(bettor)
    for item_id in (item["item_id"] + 1000, MISSING_ID):
        expect_problem(api.patch(item_url(bettor, item_id), json={"stake": 5}, token=bettor.token),
                       404, "item_not_found")
        expect_problem(api.delete(item_url(bettor, item_id), token=bettor.token), 404, "item_not_found")
    snap.expect_unchanged()
    # Item ids are per cart: another user's item is not in this cart (or is another item).
    assert view(api, other)["items"] == [other_item]


def test_remove_item_is_204_then_404(api, bettor, new_match):
    keep = added(api, bettor, new_match())
    gone = added(api, bettor, new_match())
    resp = api.delete(item_url(bettor, gone["item_id"]), token=bettor.token)
    expect_status(resp, 204)
    assert resp.content == b""
    expect_problem(api.delete(item_url(bettor, gone["item_id"]), token=bettor.token), 404, "item_not_found")
    expect_problem(api.patch(item_url(bettor, gone["item_id"]), json={"stake": 1}, token=bettor.token),
                   404, "item_not_found")
    assert view(api, bettor)["items"] == [keep]


def test_clear_is_204_also_when_empty_and_ids_are_not_reused(api, bettor, new_match, redis, bets_db):
    first = added(api, bettor, new_match())
    added(api, bettor, new_match())
    expect_status(api.delete(cart_url(bettor), token=bettor.token), 204)
    assert redis.exists(cart_key(bettor)) == 0
    assert view(api, bettor)["items"] == []
    expect_status(api.delete(cart_url(bettor), token=bettor.token), 204)
    again = added(api, bettor, new_match())
    assert again["item_id"] > first["item_id"]
    assert bets_db.bet_count(user_id=bettor.id) == 0


def test_malformed_item_id_is_404_not_found(api, bettor):
    for bad in ("0", "-1", "abc", "01"):
        expect_problem(api.delete(f"{cart_url(bettor)}/items/{bad}", token=bettor.token), 404, "not_found")


def test_cart_routes_reject_query_parameters(api, bettor, new_match):
    item = added(api, bettor, new_match())
    expect_problem(api.get(cart_url(bettor) + "?x=1", token=bettor.token), 400, "invalid_parameter")
    expect_problem(api.delete(item_url(bettor, item["item_id"]) + "?force=1", token=bettor.token), 400,
                   "invalid_parameter")
    assert len(view(api, bettor)["items"]) == 1


# ------------------------------------------------------------ auth

def cart_requests(user, item_id=1):
    """(method, path, body) of every cart route."""
    base = cart_url(user)
    return [
        ("GET", base, None),
        ("DELETE", base, None),
        ("POST", base + "/items", {"match_id": 1, "selection": "1", "stake": 100}),
        ("PATCH", f"{base}/items/{item_id}", {"stake": 100}),
        ("DELETE", f"{base}/items/{item_id}", None),
        ("POST", base + "/checkout", {}),
    ]


def test_every_cart_route_is_the_owners_only(api, admin_token, bettor, new_user, new_match, snapshot):
    item = added(api, bettor, new_match())
    other = new_user(balance=100_000)
    snap = snapshot(bettor)
    for method, path, body in cart_requests(bettor, item["item_id"]):
        kw = {"json": body} if body is not None else {}
        expect_problem(api.request(method, path, **kw), 401, "unauthorized")
        expect_problem(api.request(method, path, token="not-a-real-token", **kw), 401, "unauthorized")
        expect_problem(api.request(method, path, token=other.token, **kw), 403, "forbidden")
        # "Admin may read everything but cannot place bets or use carts."
        expect_problem(api.request(method, path, token=admin_token, **kw), 403, "forbidden")
    snap.expect_unchanged()
    assert view(api, other)["items"] == []


def test_auth_comes_before_the_body(api, admin_token, bettor):
    for token, status in ((None, 401), (admin_token, 403)):
        resp = api.post(cart_url(bettor) + "/items", body="{not json", token=token)
        expect_problem(resp, status)


# ------------------------------------------------------------ checkout refusals

def test_checkout_of_an_empty_cart_is_422_cart_empty(api, bettor, snapshot):
    snap = snapshot(bettor)
    expect_problem(checkout(api, bettor), 422, "cart_empty")
    expect_problem(checkout(api, bettor, json={}), 422, "cart_empty")
    snap.expect_unchanged()


@pytest.mark.parametrize("body", ['{"x":1}', '{"confirm":true}', "[]", '"{}"'])
def test_checkout_body_other_than_empty_object_is_422(api, bettor, new_match, snapshot, body):
    added(api, bettor, new_match())
    snap = snapshot(bettor)
    expect_problem(checkout(api, bettor, body=body), 422, "validation_failed")
    snap.expect_unchanged()


def test_checkout_with_a_closed_match_changes_nothing(api, admin_token, bettor, new_match, snapshot, redis):
    """The issue's atomicity test: one closed match fails the whole cart."""
    open_1, closing, open_2 = new_match(), new_match(), new_match()
    added(api, bettor, open_1, "1", 100)
    closed_item = added(api, bettor, closing, "X", 200)
    added(api, bettor, open_2, "2", 300)
    expect_status(settle(api, admin_token, closing["id"], "2"), 200)
    snap = snapshot(bettor)
    problem = expect_problem(checkout(api, bettor), 422, "match_closed")
    assert problem["item_ids"] == [closed_item["item_id"]]
    snap.expect_unchanged()
    expect_fresh_ttl(redis, bettor, "a refused checkout")
    # Without the closed item the rest goes through.
    expect_status(api.delete(item_url(bettor, closed_item["item_id"]), token=bettor.token), 204)
    result = expect_json(checkout(api, bettor), 201)
    assert result["total_stake"] == 400
    assert result["balance"] == 100_000 - 400


def test_checkout_above_the_balance_changes_nothing(api, admin_token, new_user, new_match, snapshot):
    """The issue's atomicity test: the total, not each item, must be covered."""
    user = new_user(balance=1000)
    added(api, user, new_match(), "1", 600)
    added(api, user, new_match(), "1", 401)
    snap = snapshot(user)
    problem = expect_problem(checkout(api, user), 422, "insufficient_funds")
    assert "item_ids" not in problem or problem["item_ids"] == []
    snap.expect_unchanged()
    # Exactly the balance is enough.
    expect_status(api.post(f"/v1/users/{user.id}/deposits", json={"amount": 1}, token=admin_token), 201)
    assert expect_json(checkout(api, user), 201)["balance"] == 0
    expect_consistent_ledger(api, admin_token, user.id)


def test_checkout_with_a_withdrawn_selection_is_422_invalid_selection_first(
        api, admin_token, bettor, new_match, snapshot):
    withdrawn, closing = new_match(), new_match()
    ok_item = added(api, bettor, new_match(), "1", 100)
    withdrawn_item = added(api, bettor, withdrawn, "X", 100)
    closed_item = added(api, bettor, closing, "1", 100)
    expect_json(api.patch(f"/v1/matches/{withdrawn['id']}", json={"odds": {"X": None}}, token=admin_token), 200)
    expect_status(settle(api, admin_token, closing["id"], "1"), 200)
    snap = snapshot(bettor)
    # The contract's order: invalid_selection, then match_closed.
    problem = expect_problem(checkout(api, bettor), 422, "invalid_selection")
    assert problem["item_ids"] == [withdrawn_item["item_id"]]
    snap.expect_unchanged()
    expect_status(api.delete(item_url(bettor, withdrawn_item["item_id"]), token=bettor.token), 204)
    problem = expect_problem(checkout(api, bettor), 422, "match_closed")
    assert problem["item_ids"] == [closed_item["item_id"]]
    assert [i["item_id"] for i in view(api, bettor)["items"]] == [ok_item["item_id"], closed_item["item_id"]]


def test_checkout_of_an_item_already_bet_on_is_409_duplicate_bet(api, bettor, new_match, snapshot):
    match, other = new_match(), new_match()
    dup_item = added(api, bettor, match, "1", 100)
    added(api, bettor, other, "1", 100)
    # The duplicate is checked before the funds: this user could not afford
    # the cart after the bet either way, but the item error comes first.
    expect_json(place_bet(api, bettor, match, "1", 99_850), 201)
    snap = snapshot(bettor)
    problem = expect_problem(checkout(api, bettor), 409, "duplicate_bet")
    assert problem["item_ids"] == [dup_item["item_id"]]
    snap.expect_unchanged()


def test_checkout_in_progress_is_409_and_changes_nothing(api, bettor, new_match, redis, snapshot):
    """White-box: the guard's key (not named by the contract) is cart_lock:{<user_id>}."""
    added(api, bettor, new_match())
    guard = redis_keys.cart_lock(bettor.id)
    assert redis.set(guard, "held-by-the-test", px=120_000, nx=True)
    try:
        snap = snapshot(bettor)
        expect_problem(checkout(api, bettor), 409, "checkout_in_progress")
        snap.expect_unchanged()
        assert redis.get(guard) == "held-by-the-test"
    finally:
        redis.delete(guard)
    expect_json(checkout(api, bettor), 201)
    assert redis.exists(guard) == 0


# ------------------------------------------------------------ idempotency

def test_keyed_checkout_retry_replays_the_first_answer(api, admin_token, bettor, new_match, bets_db, redis):
    added(api, bettor, new_match(), "1", 100)
    added(api, bettor, new_match(), "X", 200)
    key = new_key()
    first = checkout(api, bettor, key=key)
    body = expect_json(first, 201)
    again = checkout(api, bettor, key=key)
    assert again.status_code == 201, describe(again)
    assert again.json() == body
    # The same key with another body is refused, and nothing runs.
    expect_problem(checkout(api, bettor, key=key, json={"x": 1}), 422, "idempotency_key_reused")
    assert bets_db.bet_count(user_id=bettor.id) == 2
    assert user_balance(api, admin_token, bettor.id) == 100_000 - 300
    # Without the key it is a new request: the cart is empty now.
    expect_problem(checkout(api, bettor), 422, "cart_empty")


def test_a_keyed_final_4xx_is_replayed(api, bettor, new_match, bets_db):
    key = new_key()
    expect_problem(checkout(api, bettor, key=key), 422, "cart_empty")
    added(api, bettor, new_match())
    expect_problem(checkout(api, bettor, key=key), 422, "cart_empty")
    assert bets_db.bet_count(user_id=bettor.id) == 0
    expect_status(checkout(api, bettor, key=new_key()), 201)


def test_checkout_keys_are_scoped_per_user_and_route(api, new_user, new_match, bets_db):
    key = new_key()
    ann, bob = new_user(balance=10_000), new_user(balance=10_000)
    match = new_match()
    added(api, ann, match)
    added(api, bob, match)
    expect_status(checkout(api, ann, key=key), 201)
    expect_status(checkout(api, bob, key=key), 201)
    # The same key on POST /v1/bets is another route's key.
    expect_status(place_bet(api, ann, new_match(), "1", 100, key=key), 201)
    assert bets_db.bet_count(user_id=ann.id) == 2
    assert bets_db.bet_count(user_id=bob.id) == 1


# ------------------------------------------------------------ failure after the commit

def test_death_between_commit_and_cart_deletion_never_places_twice(
        api, admin_token, bettor, new_match, redis, bets_db, db, snapshot):
    """The process dies after the commit, before the cart is deleted: the
    cart is still there as it was. Simulated by putting the checked-out
    values back. A retry must fail cleanly (duplicate_bet) or, with the same
    Idempotency-Key, return the first result; never a second debit."""
    first_item = added(api, bettor, new_match(), "1", 100)
    second_item = added(api, bettor, new_match(), "2", 250)
    stored = redis.hgetall(cart_key(bettor))
    key = new_key()
    first = checkout(api, bettor, key=key)
    result = expect_json(first, 201)
    assert redis.exists(cart_key(bettor)) == 0

    redis.hset(cart_key(bettor), mapping=stored)
    redis.expire(cart_key(bettor), CART_TTL_S)
    snap = snapshot(bettor)
    problem = expect_problem(checkout(api, bettor), 409, "duplicate_bet")
    assert sorted(problem["item_ids"]) == sorted([first_item["item_id"], second_item["item_id"]])
    snap.expect_unchanged()  # no bet, no debit, the cart intact

    again = checkout(api, bettor, key=key)
    assert again.status_code == 201, describe(again)
    assert again.json() == result
    snap.expect_unchanged()
    assert bets_db.bet_count(user_id=bettor.id) == 2
    assert db.balance(bettor.id) == 100_000 - 350
    rows = expect_consistent_ledger(api, admin_token, bettor.id)
    assert len(ledger_of_kind(rows, "stake")) == 2


# ------------------------------------------------------------ concurrency

def test_concurrent_checkouts_of_one_cart_place_it_once(
        api, admin_token, base_url, new_user, new_match, redis, bets_db):
    user = new_user(balance=100_000)
    stakes = [100, 200, 300, 400]
    for stake in stakes:
        added(api, user, new_match(), "1", stake)
    responses = run_concurrently([base_url], admin_token, CONCURRENT_CHECKOUTS,
                                 lambda client, i: checkout(client, user))
    outcomes = statuses_and_codes(responses)
    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 1, outcomes
    for resp in responses:
        if resp.status_code != 201:
            problem = expect_problem(resp, resp.status_code)
            assert (resp.status_code, problem["code"]) in (
                (409, "checkout_in_progress"), (422, "cart_empty")), describe(resp)
    assert created[0].json()["balance"] == 100_000 - sum(stakes)
    assert bets_db.bet_count(user_id=user.id) == len(stakes)
    assert user_balance(api, admin_token, user.id) == 100_000 - sum(stakes)
    rows = expect_consistent_ledger(api, admin_token, user.id)
    assert [r["kind"] for r in rows] == ["deposit"] + ["stake"] * len(stakes)
    assert redis.exists(cart_key(user)) == 0
    assert redis.exists(redis_keys.cart_lock(user.id)) == 0


def test_concurrent_keyed_checkouts_place_once_and_agree(api, admin_token, base_url, new_user, new_match,
                                                         bets_db):
    user = new_user(balance=100_000)
    added(api, user, new_match(), "X", 500)
    key = new_key()
    responses = run_concurrently([base_url], admin_token, CONCURRENT_CHECKOUTS,
                                 lambda client, i: checkout(client, user, key=key))
    created = [r for r in responses if r.status_code == 201]
    assert len(created) >= 1, statuses_and_codes(responses)
    assert all(r.json() == created[0].json() for r in created)
    for resp in responses:
        if resp.status_code != 201:
            assert expect_problem(resp, 409)["code"] == "checkout_in_progress", describe(resp)
    assert bets_db.bet_count(user_id=user.id) == 1
    assert user_balance(api, admin_token, user.id) == 99_500


def test_checkout_racing_cart_edits_loses_and_doubles_nothing(
        api, admin_token, base_url, new_user, new_match, redis, bets_db):
    """A checkout races adds, a removal and a stake change on the same cart.
    Whatever the interleaving: an item present throughout is placed once and
    leaves the cart; an item added meanwhile is either placed (and gone) or
    still in the cart, never both nor neither; a removed item is never in the
    cart; an item changed meanwhile is placed with the stake read and stays
    with the new one, or was placed with the new one; the debit is exactly
    the placed stakes."""
    kept_count, new_count = 3, 4
    for _ in range(EDIT_RACE_ROUNDS):
        user = new_user(balance=1_000_000)
        kept = [added(api, user, new_match(), "1", 100 + i) for i in range(kept_count)]
        removed = added(api, user, new_match(), "1", 50)
        edited = added(api, user, new_match(), "1", 70)
        fresh = [new_match() for _ in range(new_count)]

        def act(client, i):
            if i == 0:
                return checkout(client, user)
            if i == 1:
                return client.delete(item_url(user, removed["item_id"]), token=user.token)
            if i == 2:
                return client.patch(item_url(user, edited["item_id"]), json={"stake": 77}, token=user.token)
            return add_item(client, user, fresh[i - 3], "X", 10 + i)

        responses = run_concurrently([base_url], admin_token, 3 + new_count, act)
        placed_resp, removed_resp, edited_resp = responses[0], responses[1], responses[2]
        placed = expect_json(placed_resp, 201)["bets"]
        assert removed_resp.status_code in (204, 404), describe(removed_resp)
        assert edited_resp.status_code in (200, 404), describe(edited_resp)
        new_items = [expect_json(r, 201) for r in responses[3:]]

        bets = {(b["match_id"], b["selection"]): b for b in placed}
        assert len(bets) == len(placed)
        in_cart = {(i["match_id"], i["selection"]): i for i in view(api, user)["items"]}

        for item in kept:
            key = (item["match_id"], "1")
            assert key in bets and bets[key]["stake"] == item["stake"], (item, placed)
            assert key not in in_cart, (item, in_cart)
        assert (removed["match_id"], "1") not in in_cart
        if removed_resp.status_code == 404:
            # The checkout had placed it and taken it out first.
            assert (removed["match_id"], "1") in bets
        for item in new_items:
            key = (item["match_id"], "X")
            assert (key in bets) != (key in in_cart), (item, placed, in_cart)
            if key in in_cart:
                assert in_cart[key]["item_id"] == item["item_id"]
        edited_key = (edited["match_id"], "1")
        assert edited_key in bets, placed  # it was in the cart throughout
        if edited_resp.status_code == 404:
            # Changed after the checkout removed it.
            assert bets[edited_key]["stake"] == 70 and edited_key not in in_cart
        elif edited_key in in_cart:
            # Changed between the checkout's read and its clean-up.
            assert bets[edited_key]["stake"] == 70 and in_cart[edited_key]["stake"] == 77
        else:
            # Changed before the checkout read the cart.
            assert bets[edited_key]["stake"] == 77

        total = sum(b["stake"] for b in placed)
        assert placed_resp.json()["total_stake"] == total
        assert bets_db.bet_count(user_id=user.id) == len(placed)
        assert user_balance(api, admin_token, user.id) == 1_000_000 - total
        expect_consistent_ledger(api, admin_token, user.id)
        assert redis.exists(redis_keys.cart_lock(user.id)) == 0

        # What stayed can be checked out: new items go through; an edited
        # item that stayed is a duplicate of its placed bet.
        if in_cart:
            resp = checkout(api, user)
            if edited_key in in_cart:
                problem = expect_problem(resp, 409, "duplicate_bet")
                assert problem["item_ids"] == [in_cart[edited_key]["item_id"]]
            else:
                assert expect_json(resp, 201)["total_stake"] == sum(i["stake"] for i in in_cart.values())
    bets_db.expect_invariant()


def test_checkout_racing_a_single_bet_on_the_same_selection_places_one(
        api, admin_token, base_url, new_user, new_match, bets_db):
    """POST /v1/bets and a checkout of the same selection at once: the
    database's duplicate guard lets exactly one through, whichever wins; a
    losing checkout places none of its items and names the duplicate."""
    for _ in range(EDIT_RACE_ROUNDS):
        user = new_user(balance=100_000)
        match, other = new_match(), new_match()
        item = added(api, user, match, "1", 300)
        added(api, user, other, "2", 200)

        def act(client, i):
            return checkout(client, user) if i == 0 else place_bet(client, user, match, "1", 300)

        checkout_resp, bet_resp = run_concurrently([base_url], admin_token, 2, act)
        outcomes = statuses_and_codes([checkout_resp, bet_resp])
        assert sorted(status for status, _ in outcomes) == [201, 409], outcomes
        assert bets_db.bet_count(user_id=user.id, match_id=match["id"]) == 1
        if checkout_resp.status_code == 201:
            expect_problem(bet_resp, 409, "duplicate_bet")
            assert bets_db.bet_count(user_id=user.id) == 2
            assert user_balance(api, admin_token, user.id) == 100_000 - 500
        else:
            problem = expect_problem(checkout_resp, 409, "duplicate_bet")
            assert problem["item_ids"] == [item["item_id"]]
            assert bets_db.bet_count(user_id=user.id) == 1
            assert user_balance(api, admin_token, user.id) == 100_000 - 300
            assert len(view(api, user)["items"]) == 2
        expect_consistent_ledger(api, admin_token, user.id)


# ------------------------------------------------------------ Redis outage

@pytest.mark.single_redis
def test_cart_answers_503_while_redis_is_down(api, admin_token, new_user, new_match, bets_db, private_redis,
                                              second_betsdb):
    """The cart lives in Redis only: without it every cart call is 503, and a
    checkout places nothing. Once Redis is back, so is the cart."""
    redis_proc = private_redis()
    server = second_betsdb(redis_url=redis_proc.url)
    client = Api(server.base_url, admin_token)
    try:
        user = new_user(balance=10_000)
        match = new_match()
        item = expect_json(add_item(client, user, match), 201)
        redis_proc.kill()
        for method, path, body in cart_requests(user, item["item_id"]):
            kw = {"json": body} if body is not None else {}
            if path.endswith("/items"):
                kw = {"json": {"match_id": match["id"], "selection": "X", "stake": 100}}
            expect_problem(client.request(method, path, token=user.token, **kw), 503, "service_unavailable")
        assert bets_db.bet_count(user_id=user.id) == 0
        assert user_balance(api, admin_token, user.id) == 10_000

        redis_proc.start()  # empty: carts are temporary by design
        poll_until(lambda: client.get(cart_url(user), token=user.token).status_code == 200, RECONNECT_S,
                   "the cart to come back with Redis")
        expect_json(add_item(client, user, match), 201)
        assert expect_json(checkout(client, user), 201)["balance"] == 9000
    finally:
        client.close()
    server.stop()

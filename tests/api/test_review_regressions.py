"""Regression tests of the correctness defects a full review found (issue 15,
"Correctness defects"), against the running server:

1. the bet lock key of two different matches collided when a team name
   held ':' (one bet refused 409 bet_in_progress for the other's lock);
2. a checkout retried with no body after a first try with {} (or the
   reverse) under one Idempotency-Key was refused 422 idempotency_key_reused;
3. the retry of a write that committed without its answer (duplicate_bet
   for a bet, the same result for a settlement) invalidated nothing, so the
   cached lists kept hiding the write;
5. a cart operation refused with 404/409/422 did not refresh the cart's
   3-day expiry.

White-box where the contract names server state (redis_keys): the bet
lock's Redis key (bet:<user_id>:<team_1>:<team_2>:<date>, each team name with
'%', ':', '{' and '}' percent-encoded), the cart's keys (cart:{<user_id>} and
its item sequence cart:{<user_id>}:seq), the checkout guard cart_lock:{<user_id>},
and for "a write committed without its invalidation" the tables and columns
the placing and settling statements write (src/store/pg/bet_store.cpp).
"""

import os
import urllib.parse
import uuid

import psycopg2
import pytest

import redis_keys
from api_support import describe, expect_json, expect_problem, future_date, unique_team
from bet_support import MISSING_ID, expect_bet, place_bet, poll_until, settle
from cache_support import STORE_S, get_json, keys_under, read_counted

# API.md: "resets the key's TTL to 3 days (259200 s)".
CART_TTL_MS = 259_200_000
# A TTL just reset must read within (CART_TTL_MS - margin, CART_TTL_MS]: room
# for a slow shared machine between the call and PTTL.
FRESH_TTL_MARGIN_MS = 10_000
# What a test lowers the cart's TTL to by hand, to see an operation reset it.
LOWERED_TTL_MS = 100_000


@pytest.fixture
def bettor(new_user):
    return new_user(balance=100_000)


def ids(page):
    return [item["id"] for item in page["items"]]


# ---------------------------------------------------------------- 1. the bet lock key

@pytest.fixture
def colliding_matches(new_match):
    """Two matches on one date whose teams, joined by ':', spell the same
    text: "X:Y" v "Z" and "X" v "Y:Z"."""
    x, y, z = unique_team("X"), unique_team("Y"), unique_team("Z")
    date = future_date(days=20)
    first = new_match(team_1=f"{x}:{y}", team_2=z, date=date)
    second = new_match(team_1=x, team_2=f"{y}:{z}", date=date)
    assert first["date"] == second["date"] == date
    return first, second


def test_the_lock_of_one_match_does_not_refuse_a_bet_on_another_whose_teams_contain_colons(
        api, new_user, colliding_matches, redis):
    first, second = colliding_matches
    user = new_user(balance=100_000)
    key = redis_keys.bet_lock(user.id, first)
    assert key != redis_keys.bet_lock(user.id, second)
    # A placement on the first match in progress: its lock held.
    assert redis.set(key, "held-by-the-test", px=120_000, nx=True)
    try:
        expect_bet(place_bet(api, user, second, "1", 1000), 201, user, second, "1", 1000, "2.10")
        expect_problem(place_bet(api, user, first, "1", 1000), 409, "bet_in_progress")
        assert redis.get(key) == "held-by-the-test"
    finally:
        redis.delete(key)
    expect_bet(place_bet(api, user, first, "1", 1000), 201, user, first, "1", 1000, "2.10")


def test_the_ambiguous_key_both_matches_shared_before_is_neither_matchs_lock(
        api, new_user, colliding_matches, redis):
    first, second = colliding_matches
    user = new_user(balance=100_000)
    shared = f"bet:{user.id}:{first['team_1']}:{first['team_2']}:{first['date']}"
    assert shared == f"bet:{user.id}:{second['team_1']}:{second['team_2']}:{second['date']}"
    assert redis.set(shared, "held-by-the-test", px=120_000, nx=True)
    try:
        for match in (first, second):
            expect_bet(place_bet(api, user, match, "X", 500), 201, user, match, "X", 500, "3.25")
    finally:
        redis.delete(shared)


# ---------------------------------------------------------------- 2. checkout: no body is {}

def cart_url(user):
    return f"/v1/users/{user.id}/cart"


def add_item(api, user, match_id, selection="1", stake=1000):
    body = {"match_id": match_id, "selection": selection, "stake": stake}
    return api.post(cart_url(user) + "/items", json=body, token=user.token)


def keyed_checkout(api, user, key, body):
    """body: None sends no body at all, "{}" an empty JSON object."""
    headers = {"Idempotency-Key": key}
    if body is None:
        return api.post(cart_url(user) + "/checkout", token=user.token, headers=headers)
    return api.post(cart_url(user) + "/checkout", body=body, token=user.token, headers=headers)


@pytest.mark.parametrize("first_body, retry_body", [("{}", None), (None, "{}")],
                         ids=["empty-object-then-no-body", "no-body-then-empty-object"])
def test_a_keyed_checkout_retried_with_the_equivalent_body_is_replayed(
        api, admin_token, bettor, new_match, bets_db, first_body, retry_body):
    expect_json(add_item(api, bettor, new_match()["id"]), 201)
    key = f"checkout-{uuid.uuid4()}"
    first = keyed_checkout(api, bettor, key, first_body)
    result = expect_json(first, 201)
    assert "idempotent-replayed" not in {h.lower() for h in first.headers}, describe(first)

    again = keyed_checkout(api, bettor, key, retry_body)
    assert again.status_code == 201, describe(again)
    assert again.json() == result
    assert again.headers.get("Idempotent-Replayed") == "true", describe(again)
    assert bets_db.bet_count(user_id=bettor.id) == 1


@pytest.mark.parametrize("first_body, retry_body", [("{}", None), (None, "{}")],
                         ids=["empty-object-then-no-body", "no-body-then-empty-object"])
def test_a_keyed_final_4xx_checkout_retried_with_the_equivalent_body_is_replayed(
        api, bettor, new_match, bets_db, first_body, retry_body):
    key = f"checkout-{uuid.uuid4()}"
    problem = expect_problem(keyed_checkout(api, bettor, key, first_body), 422, "cart_empty")
    expect_json(add_item(api, bettor, new_match()["id"]), 201)
    again = keyed_checkout(api, bettor, key, retry_body)
    assert expect_problem(again, 422, "cart_empty") == problem
    assert again.headers.get("Idempotent-Replayed") == "true", describe(again)
    assert bets_db.bet_count(user_id=bettor.id) == 0


# ---------------------------------------------------------------- 3. replays invalidate

def warm(api, redis, prefix, path, token=None):
    """Reads `path` until its answer is cached under `prefix` (the first read
    of a namespace whose generation counters do not exist yet creates them
    and stores nothing); returns the answer."""
    before = keys_under(redis, prefix)
    body = get_json(api, path, token=token)

    def cached():
        if keys_under(redis, prefix) - before:
            return True
        assert get_json(api, path, token=token) == body
        return False

    poll_until(cached, STORE_S, f"GET {path} to be cached under {prefix}")
    return body


def in_one_transaction(statements):
    """Runs statements(cursor) in one transaction of a connection of its own."""
    conn = psycopg2.connect(os.environ["BETSDB_TEST_DATABASE_URL"])
    try:
        with conn:
            with conn.cursor() as cur:
                return statements(cur)
    finally:
        conn.close()


def exposure_table(db):
    """The book's exposure per match (migration 003), beside the users table."""
    return db.users_table.replace('"users"', '"match_exposure"')


def cached_answer(api, namespace, path, token=None):
    """The answer to `path` with the cache consulted: a read that found Redis
    too slow is answered from PostgreSQL by design (fresh, so it would hide
    what a precondition checks that the cache still holds) and is retried."""
    body, _ = read_counted(api.base_url, namespace, lambda: get_json(api, path, token=token))
    return body


def commit_bet_without_the_server(db, bets_db, user_id, match_id, selection, stake, odds, payout):
    """What the placing statement commits for one bet (debit, bet, ledger
    row), committed behind the server's back: as if the server had died after
    its COMMIT, before its invalidation and its answer. Returns the bet's id."""

    def statements(cur):
        # As the debit: the stake counts toward the user's running total of
        # stakes, at a time never before their previous stake's (migration 008).
        cur.execute(f"UPDATE {db.users_table} SET balance = balance - %s, "
                    f"stakes_total = stakes_total + %s, staked_at = greatest(staked_at, now()) "
                    f"WHERE id = %s AND balance >= %s RETURNING balance, stakes_total, staked_at",
                    (stake, stake, user_id, stake))
        balance, stakes_total, staked_at = cur.fetchone()
        cur.execute(f"INSERT INTO {bets_db.bets_table} "
                    f"(user_id, match_id, selection, stake, odds, potential_payout) "
                    f"VALUES (%s, %s, %s, %s, %s, %s) RETURNING id, created_at",
                    (user_id, match_id, selection, stake, odds, payout))
        bet_id, _ = cur.fetchone()
        cur.execute(f"INSERT INTO {db.ledger_table} "
                    f"(user_id, kind, amount, bet_id, balance_after, running_total, created_at) "
                    f"VALUES (%s, 'stake', %s, %s, %s, %s, %s)",
                    (user_id, -stake, bet_id, balance, stakes_total, staked_at))
        column = {"1": "1", "X": "x", "2": "2"}[selection]
        cur.execute(f"UPDATE {exposure_table(db)} SET bets = bets + 1, "
                    f"stake_{column} = stake_{column} + %s, payout_{column} = payout_{column} + %s "
                    f"WHERE match_id = %s", (stake, payout, match_id))
        return bet_id

    return in_one_transaction(statements)


def test_a_duplicate_bet_shows_the_bet_its_lost_first_try_committed(api, db, bets_db, bettor,
                                                                     new_match, redis):
    match = new_match()
    path = f"/v1/users/{bettor.id}/bets"
    assert warm(api, redis, redis_keys.user_bets(bettor.email), path, bettor.token)["items"] == []

    bet_id = commit_bet_without_the_server(db, bets_db, bettor.id, match["id"], "1", 1000, 210, 2100)
    bets_db.expect_invariant("after the bet committed behind the server's back:")
    # The cached list hides it (else this test could not tell a fix from no fix).
    assert cached_answer(api, "bets_by_email", path, bettor.token)["items"] == []

    # The client's retry of its lost request:
    expect_problem(place_bet(api, bettor, match, "1", 1000), 409, "duplicate_bet")
    listed = get_json(api, path, token=bettor.token)
    assert ids(listed) == [bet_id], "the retry left the user's bet list stale"
    assert listed["items"][0]["status"] == "pending"
    assert bets_db.bet_count(user_id=bettor.id) == 1
    assert db.balance(bettor.id) == 100_000 - 1000


def commit_settlement_without_the_server(db, bets_db, match_id, result):
    """What settling `match_id` with `result` ("1", "X" or "2") commits
    (the match closed, its pending bets won or lost, winners paid with a
    ledger row), committed behind the server's back."""

    def statements(cur):
        cur.execute(f"UPDATE {db.matches_table} SET status = 'settled', result = %s, "
                    f"settled_at = now() WHERE id = %s AND status = 'open'", (result, match_id))
        assert cur.rowcount == 1
        cur.execute(f"UPDATE {bets_db.bets_table} SET settled_at = now(), status = "
                    f"CASE WHEN selection = %s THEN 'won' ELSE 'lost' END "
                    f"WHERE match_id = %s AND status = 'pending' "
                    f"RETURNING id, user_id, status, potential_payout",
                    (result, match_id))
        settled = sorted(cur.fetchall())
        for bet_id, user_id, status, payout in settled:
            if status != "won":
                continue
            cur.execute(f"UPDATE {db.users_table} SET balance = balance + %s WHERE id = %s "
                        f"RETURNING balance", (payout, user_id))
            (balance,) = cur.fetchone()
            cur.execute(f"INSERT INTO {db.ledger_table} (user_id, kind, amount, bet_id, balance_after) "
                        f"VALUES (%s, 'payout', %s, %s, %s)", (user_id, payout, bet_id, balance))
        cur.execute(f"UPDATE {exposure_table(db)} SET bets = 0, stake_1 = 0, stake_x = 0, stake_2 = 0, "
                    f"payout_1 = 0, payout_x = 0, payout_2 = 0 WHERE match_id = %s", (match_id,))
        return settled

    return in_one_transaction(statements)


def test_the_same_result_again_shows_a_settlement_committed_without_its_answer(
        api, admin_token, db, bets_db, bettor, new_match, redis):
    team = unique_team("Settled")
    match = new_match(team_1=team)
    bet = expect_bet(place_bet(api, bettor, match, "1", 1000), 201, bettor, match, "1", 1000, "2.10")
    open_path = f"/v1/matches?status=open&team={urllib.parse.quote(team)}"
    bets_path = f"/v1/users/{bettor.id}/bets"
    assert ids(warm(api, redis, redis_keys.MATCHES_LIST, open_path)) == [match["id"]]
    assert ids(warm(api, redis, redis_keys.user_bets(bettor.email), bets_path, bettor.token)) == [bet["id"]]

    settled = commit_settlement_without_the_server(db, bets_db, match["id"], "1")
    assert [(row[0], row[2]) for row in settled] == [(bet["id"], "won")]
    bets_db.expect_invariant("after the settlement committed behind the server's back:")
    # The cached lists hide it (else this test could not tell a fix from no fix).
    assert ids(cached_answer(api, "matches:list", open_path)) == [match["id"]]
    assert cached_answer(api, "bets_by_email", bets_path, bettor.token)["items"][0]["status"] == "pending"

    # The admin's retry of the lost request: the same result answers as the first time.
    body = expect_json(settle(api, admin_token, match["id"], "1"), 200)
    assert (body["match"]["status"], body["match"]["result"]) == ("settled", "1")
    assert body["settled"]["won"] == 1 and body["settled"]["paid_out"] == 2100, body

    assert get_json(api, open_path)["items"] == [], "the retry left the open-matches list stale"
    statuses = [(b["id"], b["status"]) for b in get_json(api, bets_path, token=bettor.token)["items"]]
    assert statuses == [(bet["id"], "won")], "the retry left the user's bet list stale"
    assert db.balance(bettor.id) == 100_000 - 1000 + 2100


# ---------------------------------------------------------------- 5. refused cart operations refresh the expiry

def lower_cart_ttl(redis, user):
    for key in redis_keys.cart_keys(user.id):
        assert redis.pexpire(key, LOWERED_TTL_MS), f"{key} does not exist"
        assert 0 < redis.pttl(key) <= LOWERED_TTL_MS


def expect_cart_ttl_refreshed(redis, user, what):
    for key in redis_keys.cart_keys(user.id):
        left = redis.pttl(key)
        assert CART_TTL_MS - FRESH_TTL_MARGIN_MS < left <= CART_TTL_MS, \
            f"{key}: PTTL {left} ms after {what}"


class Cart:
    """A bettor's cart holding one item ("1" on `match`), and what a refused
    operation needs: a settled match, a selection to withdraw."""

    def __init__(self, api, admin_token, redis, user, match):
        self.api, self.admin_token, self.redis, self.user, self.match = api, admin_token, redis, user, match
        self.item = expect_json(add_item(api, user, match["id"], "1"), 201)

    def item_url(self, item_id):
        return f"{cart_url(self.user)}/items/{item_id}"


def add_to_unknown_match(cart, new_match):
    return 404, "match_not_found", lambda: add_item(cart.api, cart.user, MISSING_ID)


def add_to_settled_match(cart, new_match):
    settled = new_match()
    expect_json(settle(cart.api, cart.admin_token, settled["id"], "2"), 200)
    return 422, "match_closed", lambda: add_item(cart.api, cart.user, settled["id"])


def add_a_duplicate(cart, new_match):
    return 409, "duplicate_item", lambda: add_item(cart.api, cart.user, cart.match["id"], "1")


def change_an_unknown_item(cart, new_match):
    return 404, "item_not_found", lambda: cart.api.patch(
        cart.item_url(MISSING_ID), json={"stake": 5}, token=cart.user.token)


def change_to_a_withdrawn_selection(cart, new_match):
    expect_json(cart.api.patch(f"/v1/matches/{cart.match['id']}", json={"odds": {"X": None}},
                               token=cart.admin_token), 200)
    return 422, "invalid_selection", lambda: cart.api.patch(
        cart.item_url(cart.item["item_id"]), json={"selection": "X"}, token=cart.user.token)


def remove_an_unknown_item(cart, new_match):
    return 404, "item_not_found", lambda: cart.api.delete(cart.item_url(MISSING_ID),
                                                          token=cart.user.token)


def check_out_while_another_checkout_runs(cart, new_match):
    guard = redis_keys.cart_lock(cart.user.id)
    assert cart.redis.set(guard, "held-by-the-test", px=120_000, nx=True)

    def checkout():
        try:
            return cart.api.post(cart_url(cart.user) + "/checkout", token=cart.user.token)
        finally:
            cart.redis.delete(guard)

    return 409, "checkout_in_progress", checkout


@pytest.mark.parametrize("refused_operation", [
    add_to_unknown_match,
    add_to_settled_match,
    add_a_duplicate,
    change_an_unknown_item,
    change_to_a_withdrawn_selection,
    remove_an_unknown_item,
    check_out_while_another_checkout_runs,
], ids=lambda f: f.__name__)
def test_a_refused_cart_operation_still_refreshes_the_carts_expiry(
        api, admin_token, bettor, new_match, redis, refused_operation):
    cart = Cart(api, admin_token, redis, bettor, new_match())
    status, code, operation = refused_operation(cart, new_match)
    before = redis.hgetall(redis_keys.cart(bettor.id))
    lower_cart_ttl(redis, bettor)
    expect_problem(operation(), status, code)
    expect_cart_ttl_refreshed(redis, bettor, refused_operation.__name__)
    assert redis.hgetall(redis_keys.cart(bettor.id)) == before, "a refused operation changed the cart"

"""The duplicate-bet guarantee beyond one process and through a Redis outage
(API.md: Bets "Lock", Idempotency).

These tests start extra processes: a second betsdb (the binary of the server
under test) and, for the outage, a private redis-server that they kill and
restart. The suite's shared Redis is never touched.
"""

import uuid

import pytest

import redis_keys
from api_support import Api, describe, expect_json, expect_problem
from bet_support import (
    RECONNECT_S,
    bet_body,
    expect_bet,
    expect_exactly_one_bet,
    lock_key,
    place_bet,
    poll_until,
    run_concurrently,
    user_balance,
)

IDENTICAL_BETS = 40


@pytest.mark.concurrency
def test_identical_bets_across_two_server_processes_place_exactly_one(
        api, admin_token, base_url, new_user, new_match, redis, bets_db, second_betsdb):
    other = second_betsdb()
    user = new_user(balance=1_000_000)
    match = new_match()
    # The second instance serves the same data.
    other_api = Api(other.base_url, admin_token)
    assert expect_json(other_api.get(f"/v1/matches/{match['id']}"), 200) == match
    other_api.close()
    body = bet_body(user, match, "1", 1000)
    responses = run_concurrently([base_url, other.base_url], admin_token, IDENTICAL_BETS,
                                 lambda client, i: client.post("/v1/bets", json=body, token=user.token))
    expect_exactly_one_bet(api, admin_token, bets_db, responses, user, match, 1000, 1_000_000)
    assert redis_keys.bet_locks_of(redis, user.id) == set()

    # A lock taken through one instance is honoured by the other.
    key = lock_key(user.id, match)
    assert redis.set(key, "held-by-the-test", px=120_000, nx=True)
    try:
        for url in (base_url, other.base_url):
            client = Api(url, admin_token)
            expect_problem(place_bet(client, user, match, "X"), 409, "bet_in_progress")
            client.close()
    finally:
        redis.delete(key)
    bets_db.expect_invariant()
    other.stop()  # SIGTERM: must exit 0 (teardown kills it if the test failed first)


@pytest.mark.concurrency
@pytest.mark.single_redis
def test_identical_bets_while_redis_is_down_still_place_exactly_one(
        api, admin_token, new_user, new_match, bets_db, private_redis, second_betsdb):
    """A betsdb whose (private) Redis dies: the lock is gone, the database
    still allows one bet and one debit; keyed requests get 503 rather than a
    weaker promise; once Redis is back, so is the service."""
    store = private_redis()
    server = second_betsdb(redis_url=store.url)
    client = Api(server.base_url, admin_token)
    user = new_user(balance=1_000_000)
    match = new_match(odds={"1": 2.10, "X": 3.25, "2": 3.60})

    # Working normally, keyed request included.
    expect_json(place_bet(client, user, new_match(), "2", 100, key=f"k-{uuid.uuid4()}"), 201)
    expect_json(client.get("/readyz"), 200)

    store.kill()
    def readyz_down():
        resp = client.get("/readyz")
        return [resp] if resp.status_code == 503 else None

    (down,) = poll_until(readyz_down, RECONNECT_S, "/readyz to report Redis down")
    assert "redis" in down.text.lower(), describe(down)

    balance = user_balance(api, admin_token, user.id)
    body = bet_body(user, match, "1", 1000)
    responses = run_concurrently([server.base_url], admin_token, IDENTICAL_BETS,
                                 lambda c, i: c.post("/v1/bets", json=body, token=user.token))
    expect_exactly_one_bet(api, admin_token, bets_db, responses, user, match, 1000, balance)

    # With a key: 503 service_unavailable, and nothing placed.
    key = f"k-{uuid.uuid4()}"
    expect_problem(place_bet(client, user, match, "X", 100, key=key), 503, "service_unavailable")
    assert bets_db.bet_count(user_id=user.id, match_id=match["id"]) == 1
    # Without a key the same bet goes through on the database's guard alone.
    expect_json(place_bet(client, user, match, "X", 100), 201)
    assert bets_db.bet_count(user_id=user.id, match_id=match["id"]) == 2

    store.start()
    other_match = new_match()
    key = f"k-{uuid.uuid4()}"

    def keyed_bet_answers():
        resp = place_bet(client, user, other_match, "1", 100, key=key)
        return [resp] if resp.status_code != 503 else None

    (first,) = poll_until(keyed_bet_answers, RECONNECT_S, "a keyed bet to succeed once Redis is back")
    expect_bet(first, 201, user, other_match, "1", 100, "2.10")
    again = place_bet(client, user, other_match, "1", 100, key=key)
    assert (again.status_code, again.json()) == (201, first.json())
    expect_json(client.get("/readyz"), 200)
    bets_db.expect_invariant()
    client.close()
    server.stop()  # SIGTERM: must exit 0 (teardown kills it if the test failed first)

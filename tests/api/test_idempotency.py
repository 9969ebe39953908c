"""Idempotency-Key on POST /v1/bets (API.md: Conventions "Idempotency"):
replay, mismatch, concurrent replay, scoping and the key's syntax.
"""

import json
import uuid

import pytest

import redis_keys
from api_support import describe, expect_client_error, expect_json, expect_problem
from bet_support import (
    bet_body,
    lock_key,
    deposit,
    expect_consistent_ledger,
    ledger_of_kind,
    place_bet,
    poll_until,
    run_concurrently,
    statuses_and_codes,
    user_balance,
)

CONCURRENT_RETRIES = 24


def new_key():
    return f"key-{uuid.uuid4()}"


@pytest.fixture
def bettor(new_user):
    return new_user(balance=100_000)


def keyed(api, user, body, key):
    """POST /v1/bets with a raw (str) or dict body and an Idempotency-Key."""
    kw = {"body": body} if isinstance(body, str) else {"json": body}
    return api.post("/v1/bets", token=user.token, headers={"Idempotency-Key": key}, **kw)


def expect_same_answer(first, again):
    assert again.status_code == first.status_code, describe(again)
    assert again.json() == first.json(), describe(again)
    assert again.headers.get("Content-Type", "").split(";")[0] == first.headers.get("Content-Type", "").split(";")[0]


def stake_rows(api, admin_token, user):
    return ledger_of_kind(expect_consistent_ledger(api, admin_token, user.id), "stake")


# ----------------------------------------------------------------- replay

def test_retry_with_the_same_key_and_body_replays_the_201(api, admin_token, bettor, new_match, bets_db):
    match = new_match()
    key = new_key()
    first = place_bet(api, bettor, match, "1", 1000, key=key)
    placed = expect_json(first, 201)
    for _ in range(3):
        expect_same_answer(first, place_bet(api, bettor, match, "1", 1000, key=key))
    assert bets_db.bet_count(user_id=bettor.id) == 1
    assert user_balance(api, admin_token, bettor.id) == 99_000
    assert [r["bet_id"] for r in stake_rows(api, admin_token, bettor)] == [placed["id"]]


# docs/operations.md: "24 h" once answered, under idem:<user_id>:<route>:<sha256(key)>.
ANSWER_TTL_MS = 24 * 3600 * 1000
FRESH_TTL_MARGIN_MS = 60_000


@pytest.mark.parametrize("route", ["bets", "checkout"])
def test_the_answer_is_kept_24_hours_under_the_documented_key(api, bettor, new_match, redis, route):
    """White-box (docs/operations.md, "Redis"): the record of an answered
    request, per user and route, named by the key's SHA-256 (never the key)."""
    key = new_key()
    if route == "bets":
        expect_json(place_bet(api, bettor, new_match(), "1", 100, key=key), 201)
    else:
        expect_json(api.post(f"/v1/users/{bettor.id}/cart/items", token=bettor.token,
                             json={"match_id": new_match()["id"], "selection": "X", "stake": 100}), 201)
        expect_json(api.post(f"/v1/users/{bettor.id}/cart/checkout", token=bettor.token,
                             headers={"Idempotency-Key": key}), 201)
    record = redis_keys.idempotency(bettor.id, route, key)
    # The answer replaces the 60 s "in progress" marker (a server may store it
    # just after answering): poll, bounded.
    left = poll_until(lambda: (lambda ms: ms if ms > 120_000 else None)(redis.pttl(record)), 10,
                      f"{record} to hold the answer")
    assert ANSWER_TTL_MS - FRESH_TTL_MARGIN_MS < left <= ANSWER_TTL_MS, f"{record}: PTTL {left}"
    assert redis_keys.scan_keys(redis, f"*{key}*") == set(), "the raw key is in a Redis key"


def test_replay_ignores_key_order_and_whitespace(api, admin_token, bettor, new_match, bets_db):
    match = new_match()
    key = new_key()
    first = keyed(api, bettor, bet_body(bettor, match, "X", 500), key)
    expect_json(first, 201)
    reordered = ' {\n  "stake" : 500,\t"selection":"X" ,\r\n "match_id": %d, "user_id":%d }\n' % (
        match["id"], bettor.id)
    expect_same_answer(first, keyed(api, bettor, reordered, key))
    escaped = json.dumps(bet_body(bettor, match, "X", 500), ensure_ascii=True).replace('"X"', '"\\u0058"')
    expect_same_answer(first, keyed(api, bettor, escaped, key))
    assert bets_db.bet_count(user_id=bettor.id) == 1


def test_replay_returns_the_first_answer_even_after_the_bet_changed(api, admin_token, bettor, new_match):
    """The stored answer is the first response, not a fresh read."""
    match = new_match()
    key = new_key()
    first = place_bet(api, bettor, match, "1", 1000, key=key)
    expect_json(first, 201)
    expect_json(api.post(f"/v1/matches/{match['id']}/result", json={"result": "1"}, token=admin_token), 200)
    expect_same_answer(first, place_bet(api, bettor, match, "1", 1000, key=key))
    assert expect_json(api.get(f"/v1/bets/{first.json()['id']}", token=bettor.token), 200)["status"] == "won"


def test_a_final_4xx_is_replayed_too(api, admin_token, new_user, new_match, bets_db):
    """Stripe-like: a retry gets the first (failed) answer even if it would now succeed."""
    user = new_user(balance=500)
    match = new_match()
    key = new_key()
    first = place_bet(api, user, match, "1", 1000, key=key)
    expect_problem(first, 422, "insufficient_funds")
    deposit(api, admin_token, user.id, 10_000)
    expect_same_answer(first, place_bet(api, user, match, "1", 1000, key=key))
    assert bets_db.bet_count(user_id=user.id) == 0
    # A new key acts afresh.
    expect_json(place_bet(api, user, match, "1", 1000, key=new_key()), 201)


@pytest.mark.parametrize("status, code, body_of", [
    (404, "match_not_found", lambda u, m: dict(bet_body(u, m), match_id=2_000_000_000)),
    (403, "forbidden", lambda u, m: dict(bet_body(u, m), user_id=u.id + 1_000_000)),
])
def test_other_4xx_answers_are_replayed(api, bettor, new_match, status, code, body_of):
    match = new_match()
    key = new_key()
    body = body_of(bettor, match)
    first = keyed(api, bettor, body, key)
    expect_problem(first, status, code)
    expect_same_answer(first, keyed(api, bettor, body, key))


def test_a_request_refused_before_acting_is_not_recorded(api, bettor, new_match, bets_db):
    """Stripe's rule: a body that fails validation leaves no record under its
    key, so the client may fix the body and retry with the same key."""
    match = new_match()
    key = new_key()
    bad = dict(bet_body(bettor, match), stake=0)
    first = keyed(api, bettor, bad, key)
    expect_problem(first, 422, "validation_failed")
    assert "Idempotent-Replayed" not in keyed(api, bettor, bad, key).headers
    expect_json(keyed(api, bettor, bet_body(bettor, match), key), 201)
    assert bets_db.bet_count(user_id=bettor.id) == 1


def test_a_new_key_after_a_success_is_a_duplicate_bet(api, bettor, new_match, bets_db):
    match = new_match()
    expect_json(place_bet(api, bettor, match, "1", 1000, key=new_key()), 201)
    expect_problem(place_bet(api, bettor, match, "1", 1000, key=new_key()), 409, "duplicate_bet")
    assert bets_db.bet_count(user_id=bettor.id) == 1


# --------------------------------------------------------------- mismatch

@pytest.mark.parametrize("change", [
    {"stake": 1001}, {"selection": "X"}, {"stake": "1000"}, {"note": "x"},
])
def test_same_key_with_another_body_is_422_idempotency_key_reused(api, admin_token, bettor, new_match, bets_db,
                                                                  change):
    match = new_match()
    key = new_key()
    expect_json(place_bet(api, bettor, match, "1", 1000, key=key), 201)
    balance = user_balance(api, admin_token, bettor.id)
    resp = keyed(api, bettor, dict(bet_body(bettor, match, "1", 1000), **change), key)
    expect_problem(resp, 422, "idempotency_key_reused")
    assert bets_db.bet_count(user_id=bettor.id) == 1
    assert user_balance(api, admin_token, bettor.id) == balance


def test_same_key_for_another_match_is_422_and_places_nothing(api, admin_token, bettor, new_match, bets_db):
    first_match, second_match = new_match(), new_match()
    key = new_key()
    expect_json(place_bet(api, bettor, first_match, "1", 1000, key=key), 201)
    expect_problem(place_bet(api, bettor, second_match, "1", 1000, key=key), 422, "idempotency_key_reused")
    assert bets_db.bet_count(user_id=bettor.id, match_id=second_match["id"]) == 0
    # The original is still replayed afterwards.
    assert expect_json(place_bet(api, bettor, first_match, "1", 1000, key=key), 201)["match_id"] == first_match["id"]


def test_same_key_with_another_body_after_a_4xx_is_still_422_reused(api, bettor, new_match):
    match = new_match()
    key = new_key()
    expect_problem(place_bet(api, bettor, match, "1", 10**6, key=key), 422, "insufficient_funds")
    expect_problem(place_bet(api, bettor, match, "1", 1000, key=key), 422, "idempotency_key_reused")


# ---------------------------------------------------------------- scoping

def test_keys_are_scoped_per_user(api, new_user, new_match, bets_db):
    match = new_match()
    ann, bob = new_user(balance=5000), new_user(balance=5000)
    key = new_key()
    a = expect_json(place_bet(api, ann, match, "1", 1000, key=key), 201)
    b = expect_json(place_bet(api, bob, match, "1", 1000, key=key), 201)
    assert a["id"] != b["id"] and b["user_id"] == bob.id
    # ... even with a body naming the other user: bob's key, bob's record.
    expect_problem(keyed(api, bob, bet_body(ann, match, "1", 1000), key), 422, "idempotency_key_reused")


def test_keys_are_case_sensitive_and_exact(api, bettor, new_match, bets_db):
    match = new_match()
    key = "Order-" + uuid.uuid4().hex
    expect_json(place_bet(api, bettor, match, "1", 1000, key=key), 201)
    expect_problem(place_bet(api, bettor, match, "1", 1000, key=key.lower()), 409, "duplicate_bet")
    expect_problem(place_bet(api, bettor, match, "1", 1000, key=key + "x"), 409, "duplicate_bet")
    assert bets_db.bet_count(user_id=bettor.id) == 1


def test_requests_without_a_key_are_not_replayed(api, bettor, new_match):
    match = new_match()
    expect_json(place_bet(api, bettor, match, "1", 1000), 201)
    expect_problem(place_bet(api, bettor, match, "1", 1000), 409, "duplicate_bet")


def test_bet_in_progress_is_not_a_final_answer(api, bettor, new_match, redis, bets_db):
    """A 409 bet_in_progress says "retry shortly"; a retry with the same key
    once the other bet is done must act, not replay the 409 (API.md: only
    final answers are replayed; Stripe saves no result for a request that
    conflicted with another one still running)."""
    match = new_match()
    held = lock_key(bettor.id, match)
    key = new_key()
    assert redis.set(held, "another-request-of-this-user", px=120_000, nx=True)
    try:
        expect_problem(place_bet(api, bettor, match, "X", 1000, key=key), 409, "bet_in_progress")
    finally:
        redis.delete(held)
    expect_json(place_bet(api, bettor, match, "X", 1000, key=key), 201)
    assert bets_db.bet_count(user_id=bettor.id) == 1


# ---------------------------------------------------------- key syntax

@pytest.mark.parametrize("key", ["k", "x" * 255, "!~{}\"'()<>@ ,;:\\/[]?=", "a key with spaces"])
def test_keys_of_1_to_255_printable_ascii_characters_are_accepted(api, bettor, new_match, key):
    # Keys are scoped per user and the bettor is new, so fixed keys cannot collide.
    match = new_match()
    first = place_bet(api, bettor, match, "1", 100, key=key)
    expect_json(first, 201)
    expect_same_answer(first, place_bet(api, bettor, match, "1", 100, key=key))


@pytest.mark.parametrize("key", ["x" * 256, "caf\u00e9", "tab\there", ""])
def test_malformed_keys_are_rejected_and_place_nothing(api, bettor, new_match, bets_db, key):
    match = new_match()
    resp = api.request("POST", "/v1/bets", json=bet_body(bettor, match, "1", 100), token=bettor.token,
                       headers={"Idempotency-Key": key.encode("latin-1")})
    expect_client_error(resp)
    assert bets_db.bet_count(user_id=bettor.id) == 0


def test_auth_comes_before_the_key(api, admin_token, bettor, new_match):
    match = new_match()
    key = new_key()
    expect_problem(api.post("/v1/bets", json=bet_body(bettor, match), headers={"Idempotency-Key": key}),
                   401, "unauthorized")
    expect_problem(api.post("/v1/bets", json=bet_body(bettor, match), token=admin_token,
                            headers={"Idempotency-Key": key}), 403, "forbidden")
    # Those refusals did not use up the key.
    expect_json(place_bet(api, bettor, match, "1", 1000, key=key), 201)


# ---------------------------------------------------------- concurrency

@pytest.mark.concurrency
def test_concurrent_retries_with_one_key_place_one_bet(api, admin_token, base_url, bettor, new_match, bets_db):
    """All at once: one placement; every other answer is the in-progress 409
    or, once the first has finished, its replay."""
    match = new_match()
    key = new_key()
    body = bet_body(bettor, match, "2", 1500)
    responses = run_concurrently([base_url], admin_token, CONCURRENT_RETRIES,
                                 lambda client, i: keyed(client, bettor, body, key))
    created = [r for r in responses if r.status_code == 201]
    assert created, statuses_and_codes(responses)
    assert len({r.json()["id"] for r in created}) == 1, statuses_and_codes(responses)
    for resp in responses:
        if resp.status_code != 201:
            expect_problem(resp, 409, "bet_in_progress")
    assert bets_db.bet_count(user_id=bettor.id) == 1
    assert user_balance(api, admin_token, bettor.id) == 100_000 - 1500
    assert len(stake_rows(api, admin_token, bettor)) == 1
    # Afterwards every retry is the replay.
    expect_same_answer(created[0], keyed(api, bettor, body, key))


@pytest.mark.concurrency
def test_concurrent_retries_with_a_changed_body_never_place_it(api, admin_token, base_url, bettor, new_match,
                                                              bets_db):
    match = new_match()
    key = new_key()
    bodies = [bet_body(bettor, match, "1" if i % 2 == 0 else "X", 100) for i in range(CONCURRENT_RETRIES)]
    responses = run_concurrently([base_url], admin_token, CONCURRENT_RETRIES,
                                 lambda client, i: keyed(client, bettor, bodies[i], key))
    created = [(i, r) for i, r in enumerate(responses) if r.status_code == 201]
    assert len({r.json()["id"] for _, r in created}) == 1, statuses_and_codes(responses)
    winner = created[0][1].json()["selection"]
    for i, resp in enumerate(responses):
        if bodies[i]["selection"] == winner:
            assert resp.status_code in (201, 409), describe(resp)
            if resp.status_code == 409:
                expect_problem(resp, 409, "bet_in_progress")
        else:
            assert resp.status_code in (409, 422), describe(resp)
            expect_problem(resp, resp.status_code,
                           "bet_in_progress" if resp.status_code == 409 else "idempotency_key_reused")
    assert bets_db.bet_count(user_id=bettor.id) == 1

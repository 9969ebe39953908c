"""The API's guarantees across instances (issue 17): every betsdb instance
shares the Redis Cluster (locks, carts, idempotency records, cache
generations) and the database, so a request through one instance and the
next through another must behave exactly as two through one.
Instances are addressed directly here; HAProxy is for the load tests."""

import uuid

from api_support import expect_json, expect_problem, unique_team
from bet_support import (
    expect_bet,
    expect_exactly_one_bet,
    place_bet,
    run_concurrently,
    statuses_and_codes,
    user_balance,
)

RACERS = 9  # three per instance


def test_concurrent_identical_bets_through_three_instances_place_exactly_one(
        api, admin_token, instance_urls, new_user, new_match, bets_db):
    for _ in range(3):  # three rounds: a race lost by timing once proves little
        user = new_user(balance=100_000)
        match = new_match()
        responses = run_concurrently(instance_urls, admin_token, RACERS,
                                     lambda client, i: place_bet(client, user, match, "1", 1000))
        expect_exactly_one_bet(api, admin_token, bets_db, responses, user, match, 1000, 100_000)


def test_concurrent_bets_on_one_match_with_different_selections_through_three_instances(
        api, admin_token, instance_urls, new_user, new_match, bets_db):
    """The lock is per user and match: of bets on 1, X and 2 sent at once
    through three instances, those refused are refused by the lock
    (409 bet_in_progress), never by funds or a database error; the balance
    pays exactly the placed ones."""
    user = new_user(balance=100_000)
    match = new_match()
    selections = ["1", "X", "2"]
    responses = run_concurrently(instance_urls, admin_token, 3,
                                 lambda client, i: place_bet(client, user, match, selections[i], 1000))
    outcomes = statuses_and_codes(responses)
    placed = [r for r in responses if r.status_code == 201]
    assert placed, outcomes
    for resp in responses:
        if resp.status_code != 201:
            assert expect_problem(resp, 409)["code"] == "bet_in_progress", outcomes
    assert bets_db.bet_count(user_id=user.id, match_id=match["id"]) == len(placed)
    assert user_balance(api, admin_token, user.id) == 100_000 - 1000 * len(placed)


def test_same_idempotency_key_sent_to_three_instances_at_once_acts_once(
        api, admin_token, instance_urls, new_user, new_match, bets_db):
    user = new_user(balance=100_000)
    match = new_match()
    key = f"topo-{uuid.uuid4()}"
    responses = run_concurrently(instance_urls, admin_token, 3,
                                 lambda client, i: place_bet(client, user, match, "2", 500, key=key))
    outcomes = statuses_and_codes(responses)
    created = [r.json()["id"] for r in responses if r.status_code == 201]
    assert created and len(set(created)) == 1, outcomes
    for status, code in outcomes:
        assert status == 201 or (status, code) == (409, "bet_in_progress"), outcomes
    assert bets_db.bet_count(user_id=user.id, match_id=match["id"]) == 1
    assert user_balance(api, admin_token, user.id) == 100_000 - 500


def test_idempotent_bet_retried_through_other_instances_is_replayed(
        api, admin_token, instances, new_user, new_match, bets_db):
    a, b, c = instances
    user = new_user(balance=50_000)
    match = new_match()
    key = f"topo-{uuid.uuid4()}"
    first = expect_bet(place_bet(a, user, match, "X", 2000, key=key), 201, user, match, "X", 2000, "3.25")
    for other in (b, c):
        again = expect_json(place_bet(other, user, match, "X", 2000, key=key), 201)
        assert again == first, "a retry through another instance must get the first answer back"
    assert bets_db.bet_count(user_id=user.id, match_id=match["id"]) == 1
    assert user_balance(api, admin_token, user.id) == 50_000 - 2000
    # The same key with another body is refused, on any instance.
    other_body = place_bet(c, user, match, "2", 2000, key=key)
    assert other_body.status_code == 422, other_body.text
    assert bets_db.bet_count(user_id=user.id, match_id=match["id"]) == 1


def test_cart_built_through_one_instance_is_checked_out_through_another(
        api, admin_token, instances, new_user, new_match, bets_db):
    a, b, c = instances
    user = new_user(balance=100_000)
    m1, m2, m3 = new_match(), new_match(), new_match()
    cart = f"/v1/users/{user.id}/cart"
    i1 = expect_json(a.post(cart + "/items", token=user.token,
                            json={"match_id": m1["id"], "selection": "1", "stake": 1000}), 201)
    i2 = expect_json(b.post(cart + "/items", token=user.token,
                            json={"match_id": m2["id"], "selection": "X", "stake": 2000}), 201)
    i3 = expect_json(a.post(cart + "/items", token=user.token,
                            json={"match_id": m3["id"], "selection": "2", "stake": 3000}), 201)
    # Changed through C, one removed through B; each read through another.
    expect_json(c.patch(f"{cart}/items/{i2['item_id']}", token=user.token, json={"stake": 2500}), 200)
    seen = expect_json(a.get(cart, token=user.token), 200)
    assert {i["item_id"]: i["stake"] for i in seen["items"]} == {i1["item_id"]: 1000, i2["item_id"]: 2500,
                                                                  i3["item_id"]: 3000}
    assert b.delete(f"{cart}/items/{i3['item_id']}", token=user.token).status_code in (200, 204)
    seen = expect_json(c.get(cart, token=user.token), 200)
    assert {i["item_id"] for i in seen["items"]} == {i1["item_id"], i2["item_id"]}

    key = f"topo-checkout-{uuid.uuid4()}"
    done = expect_json(b.post(cart + "/checkout", token=user.token, headers={"Idempotency-Key": key}), 201)
    placed = sorted((x["match_id"], x["selection"], x["stake"]) for x in done["bets"])
    assert placed == sorted([(m1["id"], "1", 1000), (m2["id"], "X", 2500)])
    # The retry lands on the two other instances: replayed, not acted again.
    for other in (c, a):
        again = expect_json(other.post(cart + "/checkout", token=user.token, headers={"Idempotency-Key": key}), 201)
        assert again == done
    assert expect_json(a.get(cart, token=user.token), 200)["items"] == []
    assert bets_db.bet_count(user_id=user.id) == 2
    assert user_balance(api, admin_token, user.id) == 100_000 - 3500
    # A checkout of the now empty cart without the key: refused, nothing placed.
    expect_problem(c.post(cart + "/checkout", token=user.token), 422)
    assert bets_db.bet_count(user_id=user.id) == 2


def _rounds(instances):
    """(writer, reader) pairs: every instance writes, and another reads."""
    n = len(instances)
    return [(instances[i], instances[(i + 1) % n]) for i in range(n)]


def test_read_your_writes_across_instances_for_every_cached_read(
        api, admin_token, instances, new_user, new_match):
    """Each cached read (docs/api.md, "Caching": match lists, all bets, a
    user's bets, the summary) and the match by id (each shard remembers
    matches) is warmed on every instance; then a write through one
    instance is read at once through another, for every pair."""
    team = unique_team("Ryw")
    user = new_user(balance=10**8)
    token = admin_token
    lists = {
        "matches": lambda c: expect_json(c.get(f"/v1/matches?team={team}&limit=100"), 200),
        "user_bets": lambda c: expect_json(c.get(f"/v1/users/{user.id}/bets?limit=100", token=user.token), 200),
        "user_bets_admin": lambda c: expect_json(c.get(f"/v1/users/{user.id}/bets?limit=100", token=token), 200),
        "summary": lambda c: expect_json(c.get("/v1/bets/summary", token=token), 200),
    }
    for writer, reader in _rounds(instances):
        for c in instances:  # warm every instance's cache entries
            for read in lists.values():
                read(c)
        # A match: the team's list through another instance.
        match = expect_json(writer.post("/v1/matches", token=token, json={
            "team_1": team, "team_2": unique_team("Away"), "date": "2031-06-01T18:00:00Z",
            "odds": {"1": 2.10, "X": 3.25, "2": 3.60}}), 201)
        assert match["id"] in {m["id"] for m in lists["matches"](reader)["items"]}
        all_bets = lambda c: expect_json(c.get(f"/v1/bets?match_id={match['id']}", token=token), 200)  # noqa: E731
        for c in instances:
            all_bets(c)
            expect_json(c.get(f"/v1/matches/{match['id']}"), 200)
        before = lists["summary"](reader)
        # A bet: the user's lists, all bets, the summary through another.
        bet = expect_json(place_bet(writer, user, match, "1", 700), 201)
        assert bet["id"] in {b["id"] for b in lists["user_bets"](reader)["items"]}
        assert bet["id"] in {b["id"] for b in lists["user_bets_admin"](reader)["items"]}
        assert bet["id"] in {b["id"] for b in all_bets(reader)["items"]}
        after = lists["summary"](reader)
        assert after["total_bets"] >= before["total_bets"] + 1
        assert after["total_stake"] >= before["total_stake"] + 700
        # New odds: the match and the list through another instance.
        expect_json(writer.patch(f"/v1/matches/{match['id']}", token=token, json={"odds": {"1": 1.55}}), 200)
        assert expect_json(reader.get(f"/v1/matches/{match['id']}"), 200)["odds"]["1"] == 1.55
        listed = {m["id"]: m for m in lists["matches"](reader)["items"]}
        assert listed[match["id"]]["odds"]["1"] == 1.55
        # Settlement: the bet's status in every list, the match's status.
        expect_json(writer.post(f"/v1/matches/{match['id']}/result", token=token, json={"result": "1"}), 200)
        assert {b["id"]: b["status"] for b in lists["user_bets"](reader)["items"]}[bet["id"]] == "won"
        assert {b["id"]: b["status"] for b in all_bets(reader)["items"]}[bet["id"]] == "won"
        assert expect_json(reader.get(f"/v1/matches/{match['id']}"), 200)["status"] == "settled"
        assert {m["id"]: m for m in lists["matches"](reader)["items"]}[match["id"]]["status"] == "settled"
        # A cart item through the writer, seen through the reader.
        item = expect_json(writer.post(f"/v1/users/{user.id}/cart/items", token=user.token, json={
            "match_id": new_match()["id"], "selection": "2", "stake": 100}), 201)
        assert item["item_id"] in {i["item_id"] for i in expect_json(
            reader.get(f"/v1/users/{user.id}/cart", token=user.token), 200)["items"]}


def test_suspension_and_prices_through_one_instance_hold_on_every_other(
        api, admin_token, instances, new_user, new_match, bets_db):
    """Issue 18: once POST .../suspend has returned through one instance, no
    bet or cart add on the match is accepted through any instance, though
    each has remembered the match as open (a bet and an add through each
    first); resume through another instance reopens it, and a price moved
    through one instance is the price every other instance compares."""
    a, b, c = instances
    match = new_match()
    users = [new_user(balance=100_000) for _ in range(3)]
    for inst, user in zip(instances, users):
        expect_json(place_bet(inst, user, match, "1", 1000), 201)
        expect_json(inst.post(f"/v1/users/{user.id}/cart/items", token=user.token,
                              json={"match_id": match["id"], "selection": "X", "stake": 500}), 201)
    suspended = expect_json(a.post(f"/v1/matches/{match['id']}/suspend", token=admin_token), 200)
    assert suspended["status"] == "suspended"
    for inst, user in zip(instances, users):
        expect_problem(place_bet(inst, user, match, "2", 1000), 422, "match_suspended")
        expect_problem(inst.post(f"/v1/users/{user.id}/cart/items", token=user.token,
                                 json={"match_id": match["id"], "selection": "2", "stake": 500}),
                       422, "match_suspended")
        expect_problem(inst.post(f"/v1/users/{user.id}/cart/checkout", token=user.token), 422, "match_suspended")
    resumed = expect_json(b.post(f"/v1/matches/{match['id']}/resume", token=admin_token), 200)
    assert resumed["status"] == "open" and resumed["odds_version"] == suspended["odds_version"] + 1
    moved = expect_json(c.patch(f"/v1/matches/{match['id']}", token=admin_token, json={"odds": {"2": 4.20}}), 200)
    for inst, user in zip(instances, users):
        body = {"user_id": user.id, "match_id": match["id"], "selection": "2", "stake": 1000,
                "odds": 3.60, "accept_price_change": "none"}
        refused = expect_problem(inst.post("/v1/bets", token=user.token, json=body), 409, "odds_changed")
        assert refused["current_odds"] == 4.2 and refused["odds_version"] == moved["odds_version"]
    assert bets_db.bet_count(match_id=match["id"]) == 3

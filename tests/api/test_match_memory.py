"""Each shard remembers the matches it has read (service/match_memory.hpp), so
placing a bet or adding a cart item usually needs no query for the match.
What must hold anyway: a change made through ANOTHER server instance (new
odds, a withdrawn or re-offered selection, settlement) is seen by the very
next request here, exactly as without the memory.

Every shard of the server under test is warmed first: connections are spread
over the shards by the kernel (SO_REUSEPORT), so the warm-up goes over many
fresh connections, and the request that follows meets a shard that remembers
the match, whichever it is.
"""

from decimal import Decimal

import pytest

import redis_keys
from api_support import Api, expect_json, expect_problem
from bet_support import place_bet
from cache_support import scrape
from shard_support import on_fresh_connections

MEMORY = "betsdb_match_memory_total"


def memory_events(base_url):
    events = {}
    for (name, labels), value in scrape(base_url).items():
        if name == MEMORY:
            events[dict(labels)["outcome"]] = int(value)
    assert {"hit", "miss", "stale"} <= events.keys(), f"{MEMORY} lacks outcomes: {events}"
    return events


def add_item(client, user, match, selection, stake=1000):
    return client.post(f"/v1/users/{user.id}/cart/items",
                       json={"match_id": match["id"], "selection": selection, "stake": stake},
                       token=user.token)


def patch_odds(client, admin_token, match, odds):
    return expect_json(client.patch(f"/v1/matches/{match['id']}", json={"odds": odds},
                                    token=admin_token), 200)


def settle(client, admin_token, match, result="1"):
    return expect_json(client.post(f"/v1/matches/{match['id']}/result", json={"result": result},
                                   token=admin_token), 200)


@pytest.fixture
def other(second_betsdb, admin_token):
    """A second instance on the same database and Redis, and a client of it."""
    server = second_betsdb()
    client = Api(server.base_url, admin_token)
    yield client
    client.close()
    server.stop()


def test_a_remembered_match_needs_no_query(api, admin_token, base_url, new_user, new_match):
    user, match = new_user(), new_match()
    statuses = on_fresh_connections(base_url, admin_token,
                                    lambda c: add_item(c, user, match, "1").status_code)
    assert statuses[0] == 201 and set(statuses[1:]) == {409}, statuses
    before = memory_events(base_url)
    expect_json(add_item(api, user, match, "X"), 201)
    after = memory_events(base_url)
    assert (after["hit"] - before["hit"], after["miss"] - before["miss"]) == (1, 0)


def test_a_match_is_remembered_after_redis_lost_the_matches_counter(
        api, admin_token, base_url, redis, new_user, new_match):
    # Redis restarted without its data (or a failover lost the counter): the
    # counter add-to-cart checks is gone. The next add of a match recreates
    # it (from Redis's clock, past every value it had) and remembers the
    # match under it, so the memory keeps working without a match-list read.
    user, match = new_user(), new_match()
    before_loss = redis.get(redis_keys.MATCHES_GEN)
    redis.delete(redis_keys.MATCHES_GEN)
    statuses = on_fresh_connections(base_url, admin_token,
                                    lambda c: add_item(c, user, match, "1").status_code)
    assert statuses[0] == 201 and set(statuses[1:]) == {409}, statuses
    recreated = redis.get(redis_keys.MATCHES_GEN)
    assert recreated is not None, "adding to a cart did not recreate the matches' counter"
    if before_loss is not None:
        assert int(recreated) > int(before_loss)
    before = memory_events(base_url)
    expect_json(add_item(api, user, match, "X"), 201)
    after = memory_events(base_url)
    assert (after["hit"] - before["hit"], after["miss"] - before["miss"]) == (1, 0)


def test_cart_add_sees_odds_changed_through_another_instance(
        api, admin_token, base_url, new_user, new_match, other):
    user, match = new_user(), new_match()
    on_fresh_connections(base_url, admin_token, lambda c: add_item(c, user, match, "1"))

    patch_odds(other, admin_token, match, {"X": 4.50})
    item = expect_json(add_item(api, user, match, "X"), 201)
    assert Decimal(str(item["odds"])) == Decimal("4.50")

    patch_odds(other, admin_token, match, {"2": None})
    expect_problem(add_item(api, user, match, "2"), 422, "invalid_selection")


def test_cart_add_sees_a_selection_offered_again_through_another_instance(
        api, admin_token, base_url, new_user, new_match, other):
    user, match = new_user(), new_match()
    patch_odds(other, admin_token, match, {"2": None})
    refusals = on_fresh_connections(base_url, admin_token,
                                    lambda c: add_item(c, user, match, "2").status_code)
    assert set(refusals) == {422}

    patch_odds(other, admin_token, match, {"2": 3.90})
    item = expect_json(add_item(api, user, match, "2"), 201)
    assert Decimal(str(item["odds"])) == Decimal("3.90")


def test_cart_add_sees_settlement_through_another_instance(
        api, admin_token, base_url, new_user, new_match, other):
    user, match = new_user(), new_match()
    on_fresh_connections(base_url, admin_token, lambda c: add_item(c, user, match, "1"))
    settle(other, admin_token, match)
    expect_problem(add_item(api, user, match, "X"), 422, "match_closed")


def test_placement_sees_changes_through_another_instance(
        api, admin_token, base_url, new_user, new_match, other):
    user, match = new_user(balance=100_000), new_match()
    statuses = on_fresh_connections(base_url, admin_token,
                                    lambda c: place_bet(c, user, match, "1").status_code)
    assert statuses[0] == 201 and set(statuses[1:]) == {409}, statuses

    patch_odds(other, admin_token, match, {"X": 4.50})
    bet = expect_json(place_bet(api, user, match, "X"), 201)
    assert Decimal(str(bet["odds"])) == Decimal("4.50")

    patch_odds(other, admin_token, match, {"2": None})
    expect_problem(place_bet(api, user, match, "2"), 422, "invalid_selection")
    patch_odds(other, admin_token, match, {"2": 3.90})
    bet = expect_json(place_bet(api, user, match, "2"), 201)
    assert Decimal(str(bet["odds"])) == Decimal("3.90")


def test_placement_sees_settlement_through_another_instance(
        api, admin_token, base_url, new_user, new_match, other):
    user, match = new_user(balance=100_000), new_match()
    on_fresh_connections(base_url, admin_token, lambda c: place_bet(c, user, match, "1"))
    settle(other, admin_token, match, "void")
    expect_problem(place_bet(api, user, match, "X"), 422, "match_closed")

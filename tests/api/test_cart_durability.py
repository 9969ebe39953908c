"""Carts survive a Redis restart (docs/operations.md, "Redis"): carts are the
users' own data, so the Redis that scripts/lib/common.sh's start_redis runs
keeps an append-only file.

The suite's own Redis is never restarted here (the shared server and every
other test use it). Instead a private Redis gets the suite Redis's
persistence settings, read back with CONFIG GET, so the test checks whatever
start_redis configured: with the memory-only Redis it used to start, the
cart comes back empty. A betsdb of its own serves the cart from it.

Two restarts, each waiting for the data to reach the disk by a signal from
Redis rather than by time:
- "shutdown": SHUTDOWN NOSAVE, as stop_redis does; Redis fsyncs its AOF
  before it exits.
- "crash": BGREWRITEAOF, until INFO persistence reports it done, then SIGKILL.
"""

import pytest

from api_support import Api, expect_json, expect_status
from bet_support import RECONNECT_S, poll_until
from shard_support import on_fresh_connections

# A private Redis, restarted: single-node by nature (deselected in cluster mode).
pytestmark = pytest.mark.single_redis

# What decides whether, and where in its directory, a Redis keeps its data.
PERSISTENCE_SETTINGS = ("save", "appendonly", "appendfsync", "aof-use-rdb-preamble",
                        "appenddirname", "appendfilename", "dbfilename")
REWRITE_S = 30


def persistence_args(redis):
    """The suite Redis's persistence settings as redis-server arguments."""
    args = []
    for name in PERSISTENCE_SETTINGS:
        value = redis.config_get(name).get(name)
        if value is None:  # not a setting of this Redis version
            continue
        # Multi-word values ("save 3600 1 300 100") are several arguments; "" is one.
        args += [f"--{name}", *(value.split() or [""])]
    return args


def rewrite_aof(store):
    """BGREWRITEAOF, until Redis reports that rewrite finished: its new base
    file then holds the whole dataset, fsynced."""
    client = store.client()
    try:
        done_before = int(client.info("persistence")["aof_rewrites"])
        client.bgrewriteaof()

        def finished():
            info = client.info("persistence")
            if int(info["aof_rewrites"]) <= done_before or info["aof_rewrite_in_progress"]:
                return False
            return info["aof_last_bgrewrite_status"]

        assert poll_until(finished, REWRITE_S, "BGREWRITEAOF to finish") == "ok"
    finally:
        client.close()


@pytest.mark.parametrize("restart", ["shutdown", "crash"])
def test_a_cart_survives_a_redis_restart(restart, redis, private_redis, second_betsdb, admin_token,
                                         new_user, new_match):
    store = private_redis(persistence_args(redis))
    server = second_betsdb(redis_url=store.url)
    api = Api(server.base_url, admin_token)
    user = new_user()
    cart = f"/v1/users/{user.id}/cart"
    matches = [new_match() for _ in range(3)]
    # Creations, a change and a removal: the cart's state, not only its first writes.
    ids = [expect_json(api.post(cart + "/items", token=user.token,
                                json={"match_id": m["id"], "selection": s, "stake": stake}),
                       201)["item_id"]
           for m, s, stake in zip(matches, ("1", "X", "2"), (1000, 2500, 700))]
    expect_json(api.patch(f"{cart}/items/{ids[1]}", token=user.token, json={"stake": 3000}), 200)
    expect_status(api.delete(f"{cart}/items/{ids[2]}", token=user.token), 204)
    before = expect_json(api.get(cart, token=user.token), 200)
    assert [i["item_id"] for i in before["items"]] == ids[:2], before
    assert before["total_stake"] == 4000, before

    if restart == "shutdown":
        store.shutdown()
    else:
        rewrite_aof(store)
        store.kill()
    store.start()  # returns once Redis answers PING, i.e. has loaded its files

    # Every shard's Redis connection comes back by itself; until then, 503.
    def carts_on_every_shard():
        answers = on_fresh_connections(server.base_url, admin_token,
                                       lambda c: c.get(cart, token=user.token))
        return answers if all(a.status_code == 200 for a in answers) else None

    answers = poll_until(carts_on_every_shard, RECONNECT_S, "the cart to answer 200 on every shard")
    for answer in answers:
        after = answer.json()
        assert after["items"] == before["items"], (
            f"the cart changed across a Redis restart ({restart}); is the suite's Redis "
            f"memory-only? persistence: {persistence_args(redis)}\nbefore: {before}\nafter: {after}")
        assert after["total_stake"] == before["total_stake"]
        assert 0 < after["expires_in"] <= before["expires_in"] + 1, (before, after)

    # The item id sequence survived too: a new item does not reuse an id.
    added = expect_json(api.post(cart + "/items", token=user.token,
                                 json={"match_id": matches[2]["id"], "selection": "1", "stake": 100}),
                        201)
    assert added["item_id"] > max(ids), (ids, added)

    api.close()
    server.stop()

"""Resharding under load (issue 16, failure test 3): slots move between
masters while bets, checkouts, cart reads and match writes run. Moving a
slot is no failure: no answer may be a 5xx (a 503 fails this test), nothing
acknowledged may be lost, reads stay current, and the server must have
followed the cluster's redirections, which /metrics counts.

Two moves, each forcing its redirection:
1. ASK, by hand: the slot of one user's cart is migrated step by step
   (CLUSTER SETSLOT IMPORTING / MIGRATING, MIGRATE of that cart's keys
   only). While the slot is half moved, the old master answers ASK for the
   cart (its keys are gone from it), so reading and adding to that cart
   must go through ASK to the new master. Then the rest of the slot moves
   and SETSLOT NODE ends the migration: the server's map is stale for that
   slot, and its next use of it meets MOVED.
2. MOVED, in bulk: `redis-cli --cluster reshard` moves slots from one master
   to another (the lowest slots of the source first) up to and including
   the slot of a generation counter every write bumps, so the load's own
   requests meet the moved and moving slots.
"""

import pytest
import redis as redis_lib

from api_support import Api, expect_json
from cache_support import scrape
from cluster_checks import (
    acked_bets_in_db,
    carts_kept,
    every_key_resolved,
    latency,
    ledger_consistent,
    no_duplicates,
    reads_were_current,
    redirect_counts,
    replays_agree,
    unexpected,
)
from cluster_load import count_ops, summarize
from redis_keys import BETS_GEN, MATCHES_GEN, SUMMARY_GEN, cart, cart_keys, key_slot

WARM_UP_S = 30
AFTER_S = 30
# The most slots the bulk move may take (a bound on its time: about 5 ms a slot here).
MAX_BULK_SLOTS = 4000
ALLOWED = {
    "bet": {201},
    "checkout": {201},
    "cart_add": {201},
    "cart_read": {200},
    "cart_read_moving": {200},
    "read_user_bets": {200},
    "read_match_bets": {200},
    "match_create": {201},
    "read_matches": {200},
}


def _migrate_by_hand(cluster, api, user, match, slot, source, target):
    """Moves `slot` from source to target as redis-cli would, with the
    user's cart requests made while only its keys have moved. Returns the
    redirect counters' growth over those requests."""
    src, dst = cluster.node(source), cluster.node(target)
    src_id, dst_id = cluster.node_id(source), cluster.node_id(target)
    keys = [k for k in cart_keys(user.id) if src.exists(k)]
    assert keys, "the cart has no keys to move"
    before = redirect_counts(scrape(api.base_url))
    dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
    src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
    src.execute_command("MIGRATE", "127.0.0.1", target, "", 0, 5000, "KEYS", *keys)
    # Half moved: the cart is on the target only (the source redirects with
    # ASK for it), the slot still the source's.
    for key in keys:
        with pytest.raises(redis_lib.ResponseError, match=r"^ASK "):
            src.exists(key)
    cart_now = expect_json(api.get(f"/v1/users/{user.id}/cart", token=user.token), 200)
    assert len(cart_now["items"]) == 1, cart_now
    expect_json(api.post(f"/v1/users/{user.id}/cart/items", token=user.token,
                         json={"match_id": match["id"], "selection": "X", "stake": 100}), 201)
    during = redirect_counts(scrape(api.base_url))
    # The rest of the slot (other keys hashing there), then the new owner.
    while True:
        rest = src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100)
        if not rest:
            break
        src.execute_command("MIGRATE", "127.0.0.1", target, "", 0, 5000, "KEYS", *rest)
    for port in [target, source] + [m for m in cluster.masters() if m not in (source, target)]:
        cluster.node(port).execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
    cluster.wait_ready()
    assert cluster.owner_of_slot(slot) == target
    cart_after = expect_json(api.get(f"/v1/users/{user.id}/cart", token=user.token), 200)
    assert len(cart_after["items"]) == 2, cart_after
    after = redirect_counts(scrape(api.base_url))
    return ({k: during.get(k, 0) - before.get(k, 0) for k in during},
            {k: after.get(k, 0) - during.get(k, 0) for k in after})


def _bulk_move(cluster):
    """(source, target, slots): the smallest move from a master, lowest slots
    first, that takes a generation counter's slot along."""
    best = None
    for key in (MATCHES_GEN, BETS_GEN, SUMMARY_GEN):
        source = cluster.owner(key)
        owned = sorted(cluster.slots_of(source))
        count = owned.index(key_slot(key)) + 1
        if best is None or count < best[2]:
            best = (source, key, count)
    source, key, count = best
    target = min((m for m in cluster.masters() if m != source), key=lambda m: len(cluster.slots_of(m)))
    assert count <= MAX_BULK_SLOTS, f"{key}'s slot is {count} slots into :{source}"
    return source, target, count, key


def test_resharding_under_load_is_no_failure_and_redirects_are_followed(
        cluster, world, load, new_user, new_match, base_url, admin_token, db, bets_db):
    w = world(bettors=2, carters=2)
    mover = new_user()
    match = new_match()
    client = Api(base_url, admin_token)
    expect_json(client.post(f"/v1/users/{mover.id}/cart/items", token=mover.token,
                            json={"match_id": match["id"], "selection": "1", "stake": 100}), 201)
    slot = key_slot(cart(mover.id))
    source = cluster.owner(cart(mover.id))
    target = next(m for m in cluster.masters() if m != source)
    reader = new_user()
    expect_json(client.post(f"/v1/users/{reader.id}/cart/items", token=reader.token,
                            json={"match_id": match["id"], "selection": "2", "stake": 100}), 201)

    run = load()
    for user in w.bettors:
        run.bettor(user)
    for user in w.carters:
        run.carter(user)
    run.match_maker()
    run.cart_reader(reader, "cart_read_moving")
    run.wait_for(lambda a: count_ops(a, "bet") >= 10 and count_ops(a, "checkout") >= 2 and run.now() >= 1,
                 WARM_UP_S, "the load to warm up")
    metrics_before = redirect_counts(scrape(base_url))

    # 1. One slot by hand: ASK while half moved, MOVED after.
    asked, moved = _migrate_by_hand(cluster, client, mover, match, slot, source, target)
    print(f"\n[reshard] slot {slot} moved by hand :{source} -> :{target}; redirects while half moved "
          f"{asked}, after {moved}")
    assert asked.get("ask", 0) >= 1, f"the half-moved cart was read without ASK: {asked}"

    # 2. In bulk, with redis-cli, through a generation counter's slot.
    bulk_source, bulk_target, count, hot = _bulk_move(cluster)
    started = run.now()
    cluster.reshard(bulk_source, bulk_target, count)
    done = run.now()
    assert cluster.owner(hot) == bulk_target
    print(f"[reshard] redis-cli moved {count} slots :{bulk_source} -> :{bulk_target} (with {hot}) "
          f"in {done - started:.2f}s")
    run.wait_for(lambda a: count_ops(a, "bet", after=done) >= 5 and count_ops(a, "checkout", after=done) >= 1
                 and run.now() >= done + 2, AFTER_S, "the load to go on after the reshard")
    attempts = run.stop()
    metrics_after = redirect_counts(scrape(base_url))
    grown = {k: metrics_after.get(k, 0) - metrics_before.get(k, 0) for k in metrics_after}
    client.close()

    print(f"[reshard] answers: {summarize(attempts)}")
    print(f"[reshard] latency during the bulk move: {latency([a for a in attempts if started <= a.started <= done])}; "
          f"before: {latency([a for a in attempts if a.ended < started])}")
    print(f"[reshard] redirects counted over the test: {grown}")

    bad = unexpected(attempts, ALLOWED)
    assert not bad, f"answers other than success while slots moved: {bad[:20]}"
    assert grown.get("moved", 0) >= 1 and grown.get("ask", 0) >= 1, f"redirects not counted: {grown}"
    every_key_resolved(run)
    reads_were_current(run)
    acked_bets_in_db(run, db, bets_db)
    no_duplicates(run, db, bets_db, w.user_ids)
    carts_kept(run, base_url, admin_token, w.carters)
    replays_agree(run)
    ledger_consistent(db, bets_db, "after resharding:")

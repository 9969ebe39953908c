"""Read-your-writes through a failover that rolls a generation counter back
(issue 16, failure test 2, "force that case in a test").

Replication is asynchronous: a master can acknowledge a write, here the
INCR of a cache generation after a new match, and die before its replica
received it. The promoted replica then holds the counter's older value, and
the entry cached under that value, from before the write, is "current"
again by its key. The server must not serve it: entries carry the run_id
of the Redis process that served the read they cache ("<origin>|<json>"),
and one stored through another process (the dead master) is refused.

Forced deterministically, without timing luck:
1. a match list is read and cached under generation G; the test waits until
   the replica has everything the master has (replication offsets), so the
   replica holds G and the entry;
2. the replica is cut off from its master: CONFIG SET masterauth to a
   password its master (which has none) refuses, then CLIENT KILL TYPE
   master on the replica. The replica's reconnection then fails at AUTH,
   every time ("Unable to AUTH to MASTER" in its log), until the test
   clears masterauth: its link is down and stays down;
3. a new match is created: its invalidation INCRs the counter on the master
   only (checked: master > G, replica = G); the list through the API shows
   the new match;
4. kill -9 of the master; the replica, with cluster-replica-validity-factor
   0, stands for election despite its stale link and is promoted;
5. checked: the new master's counter is G again and the old entry is there
   under it, with the dead master's origin (the hazard is real);
6. the list read through the API must show the new match, every time.
"""

import time

from api_support import future_date, unique_team
from bet_support import poll_until
from cache_support import get_json, keys_under
from redis_keys import MATCHES_GEN, MATCHES_LIST, entry_generation, split_entry

CACHED_S = 10
READS_AFTER = 5


def ids(page):
    return [m["id"] for m in page["items"]]


def test_a_generation_rolled_back_by_a_failover_never_makes_an_older_entry_current(
        cluster, api, new_match, redis):
    team = unique_team("Rollback")
    first = new_match(team_1=team, date=future_date(days=5))
    path = f"/v1/matches?team={team.replace(' ', '%20')}"
    master = cluster.owner(MATCHES_GEN)
    (replica,) = cluster.replicas_of(master)

    # 1. The list cached under generation G, on the master and its replica.
    before = keys_under(redis, MATCHES_LIST)
    assert ids(get_json(api, path)) == [first["id"]]

    def cached():
        new = keys_under(redis, MATCHES_LIST) - before
        if new:
            return new
        # (A first read may only create a missing counter and store nothing.)
        assert ids(get_json(api, path)) == [first["id"]]
        return None

    new = poll_until(cached, CACHED_S, f"GET {path} to be cached")
    generation = int(cluster.node(master).get(MATCHES_GEN))
    old = [k for k in new if entry_generation(k, MATCHES_LIST) == generation]
    assert old, f"no entry under the current generation {generation}: {new}"
    cluster.wait_in_sync(master, replica)
    assert int(cluster.readonly_get(replica, MATCHES_GEN)) == generation
    master_origin = cluster.run_id(master)[:12]
    for key in old:
        assert cluster.readonly_get(replica, key) is not None, f"{key} did not reach the replica"

    # 2. The replica cut off from its master.
    assert cluster.cut_off(replica) == master

    # 3. A write whose invalidation reaches the master only.
    second = new_match(team_1=team, date=future_date(days=6))
    assert ids(get_json(api, path)) == [first["id"], second["id"]]
    bumped = int(cluster.node(master).get(MATCHES_GEN))
    assert bumped > generation
    assert int(cluster.readonly_get(replica, MATCHES_GEN)) == generation, "the replica was not cut off"

    # 4. The master dies; the stale replica takes over.
    cluster.expect_no_crossslot("before the crash")  # the master's counters die with it
    killed = cluster.kill(master)
    _, promoted = cluster.wait_promoted(replica)
    print(f"\n[rollback] {MATCHES_GEN}: {generation} -> {bumped} on :{master} only; :{replica} promoted "
          f"{promoted - killed:.2f}s after the kill")

    # 5. The hazard: the counter is back at G, and G's entry predates the write.
    node = cluster.node(replica)
    assert int(node.get(MATCHES_GEN)) == generation, "the counter was not rolled back"
    stale = [k for k in old if node.get(k) is not None]
    assert stale, "the old entries did not survive on the promoted replica"
    for key in stale:
        origin, _ = split_entry(node.get(key))
        assert origin == master_origin != cluster.run_id(replica)[:12], (key, origin)

    # 6. Reads show the write, from the first to the last.
    answers = []
    deadline = time.monotonic() + 30
    while len(answers) < READS_AFTER:
        resp = api.get(path)
        assert resp.status_code in (200, 503), resp.text
        if resp.status_code == 200:
            answers.append(ids(resp.json()))
        assert time.monotonic() < deadline, f"the list did not answer 200 {READS_AFTER} times: {answers}"
    assert all(a == [first["id"], second["id"]] for a in answers), \
        f"a rolled-back generation served the list from before the write: {answers}"

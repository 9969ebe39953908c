"""betsdb with a PostgreSQL primary and a hot standby (issue 17, part B):
failover without a restart, writes while the only synchronous standby is
down, and cache misses read from the standby only when it has replayed the
last write of what they read (read-your-writes)."""

import time
import uuid

# betsdb's request path is bounded by its fixed limits (pool wait 2 s,
# statement 5 s + 0.25 s): every answer during an outage comes well within
# the default request timeout.
REQUEST_TIMEOUT_S = 10.0


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def assert_503_problem(response, elapsed):
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "service_unavailable"
    assert elapsed < REQUEST_TIMEOUT_S, f"answered after {elapsed:.1f} s"


def user_bets(t, user):
    r = t.betsdb.request("GET", f"/v1/users/{user['id']}/bets?limit=100", token=user["token"])
    assert r.status_code == 200, r.text
    return r.json()["items"]


# ------------------------------------------------------------------ failover

def test_writes_resume_on_the_promoted_standby_without_a_restart(topology):
    t = topology.start(synchronous=False, replica=False, multi_host=True)
    user, matches = t.user(), [t.match() for _ in range(4)]
    assert t.bet(user, matches[0]).status_code == 201
    t.pair.wait_replayed()

    t.pair.primary.kill9()
    # The old primary is gone and the standby not yet promoted: the pool's
    # connections are dead, and no server accepts read-write sessions.
    for match in matches[1:3]:
        response, elapsed = timed(lambda: t.bet(user, match))
        assert_503_problem(response, elapsed)

    t.pair.standby.promote()
    deadline = time.monotonic() + 30
    while True:
        response, elapsed = timed(lambda: t.bet(user, matches[3]))
        if response.status_code == 201:
            break
        assert_503_problem(response, elapsed)
        assert time.monotonic() < deadline, "writes did not resume on the promoted standby"
        time.sleep(0.1)
    bet = response.json()
    assert t.pair.standby.sql(f"SELECT count(*) FROM bets WHERE id = {bet['id']}") == [(1,)]
    assert [b["match_id"] for b in user_bets(t, user)] == [matches[3]["id"], matches[0]["id"]]
    assert t.betsdb.metric("betsdb_pg_pool_discarded_total") >= 1
    assert t.betsdb.process.poll() is None, "betsdb must not have restarted"


# ------------------------------------------ the only synchronous standby down

def test_a_write_while_the_sync_standby_is_down_answers_503_and_its_retry_learns_the_outcome(
        topology):
    t = topology.start(synchronous=True, replica=False, multi_host=False)
    user, match = t.user(balance=10_000), t.match()
    assert t.bet(user, t.match()).status_code == 201  # the standby confirms

    t.pair.standby.stop()
    key = str(uuid.uuid4())
    discarded = t.betsdb.metric("betsdb_pg_pool_discarded_total")
    response, elapsed = timed(lambda: t.bet(user, match, stake=700, key=key))
    assert_503_problem(response, elapsed)
    assert "did not confirm" in response.json()["detail"]
    # The connection whose commit waited was not kept, and its backend was
    # cancelled rather than left waiting for the standby with its locks.
    assert t.betsdb.metric("betsdb_pg_pool_discarded_total") > discarded
    deadline = time.monotonic() + 5
    while t.pair.primary.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'") != [(0,)]:
        assert time.monotonic() < deadline, "a backend still waits for the standby"
        time.sleep(0.02)

    # Committed on the primary, and visible there; the lists show it (the
    # write invalidated as if it had succeeded).
    assert t.pair.primary.sql(
        f"SELECT count(*) FROM bets WHERE user_id = {user['id']} AND match_id = {match['id']}"
    ) == [(1,)]
    assert match["id"] in [b["match_id"] for b in user_bets(t, user)]

    # Writes resume by themselves once the standby is back.
    t.pair.standby.start("-c hot_standby=on")
    t.pair.wait_streaming()
    # The retry with the same key meets the database's guard: the outcome,
    # not a second bet or a second debit.
    retry = t.bet(user, match, stake=700, key=key)
    assert retry.status_code == 409, retry.text
    assert retry.json()["code"] == "duplicate_bet"
    again = t.bet(user, match, stake=700, key=key)
    assert again.status_code == 409 and again.headers.get("Idempotent-Replayed") == "true"
    # And so does a retry without the key.
    assert t.bet(user, match, stake=700).json()["code"] == "duplicate_bet"
    me = t.betsdb.request("GET", f"/v1/users/{user['id']}", token=user["token"]).json()
    assert me["balance"] == 10_000 - 100 - 700
    assert t.bet(user, t.match()).status_code == 201


def test_reads_go_on_while_the_sync_standby_is_down(topology):
    t = topology.start(synchronous=True, replica=True, multi_host=False)
    user = t.user()
    t.pair.standby.stop()
    response, elapsed = timed(lambda: t.betsdb.request("GET", "/v1/matches?limit=5"))
    assert response.status_code == 200 and elapsed < 2.0
    assert len(user_bets(t, user)) == 0
    assert t.betsdb.metric("betsdb_db_reads_total", source="replica") == 0


# ------------------------------------------------------ reads from the standby

def read_matches(t, offset):
    # A new offset each time: a cache miss, hence a database read.
    r = t.betsdb.request("GET", f"/v1/matches?limit=1&offset={offset}&sort=-date")
    assert r.status_code == 200, r.text
    return r.json()


def test_a_caught_up_standby_serves_cache_misses(topology):
    t = topology.start(synchronous=False, replica=True)
    deadline = time.monotonic() + 20
    offset = 0
    while t.betsdb.metric("betsdb_db_reads_total", source="replica") == 0:
        assert time.monotonic() < deadline, "the standby never served a read"
        # A shard records a write's WAL position only once it knows which
        # Redis process serves the namespace (a read there taught it); the
        # shard a request lands on is the server's choice, so read and write
        # until one shard has done both, then read what it recorded.
        for _ in range(4):
            read_matches(t, offset)
            offset += 1
        t.match()  # records the write's WAL position
        t.pair.wait_replayed()
        for _ in range(4):
            read_matches(t, offset)
            offset += 1
    assert t.betsdb.metric("betsdb_db_reads_total", source="replica", reason="caught_up") >= 1


def test_a_lagging_standby_is_not_read_and_a_write_is_seen_at_once(topology):
    t = topology.start(synchronous=False, replica=True)
    read_matches(t, 0)
    t.match()
    t.pair.wait_replayed()
    t.pair.standby.sql("SELECT pg_wal_replay_pause()", db="postgres")
    try:
        for i in range(5):
            created = t.match()
            assert t.pair.standby.sql(
                f"SELECT count(*) FROM matches WHERE id = {created['id']}") == [(0,)]
            page = t.betsdb.request("GET", f"/v1/matches?limit=100&offset={i}").json()
            everything = t.betsdb.request("GET", "/v1/matches?limit=100").json()
            assert created["id"] in [m["id"] for m in everything["items"]], \
                "a read after the write did not see it"
            assert page["total"] == everything["total"]
        assert t.betsdb.metric("betsdb_db_reads_total", reason="lagging") >= 1
        assert t.betsdb.metric("betsdb_db_reads_total", source="replica") == 0
    finally:
        t.pair.standby.sql("SELECT pg_wal_replay_resume()", db="postgres")


def test_a_bettors_list_shows_the_bet_at_once_whatever_the_standby_replayed(topology):
    t = topology.start(synchronous=False, replica=True)
    user, matches = t.user(), [t.match() for _ in range(6)]
    user_bets(t, user)
    t.pair.wait_replayed()
    for i, match in enumerate(matches):
        if i % 2:
            t.pair.standby.sql("SELECT pg_wal_replay_pause()", db="postgres")
        else:
            t.pair.standby.sql("SELECT pg_wal_replay_resume()", db="postgres")
        bet = t.bet(user, match)
        assert bet.status_code == 201, bet.text
        listed = [b["id"] for b in user_bets(t, user)]
        assert bet.json()["id"] in listed, f"bet {i} missing from the list read right after it"
    t.pair.standby.sql("SELECT pg_wal_replay_resume()", db="postgres")


def match_with_known_position(t, offset):
    """A match whose write position the lists' cache recorded, and the next
    free read offset. The cache stamps a position only once it knows which
    Redis answers it (a read or a write has told it): when the first read
    failed (a cache timeout under load), the first write's position is
    forgotten and every read routes as no_position, never by the standby's
    state, until the next write."""
    for _ in range(10):
        created = t.match()
        unknown = t.betsdb.metric("betsdb_db_reads_total", reason="no_position")
        read_matches(t, offset)
        offset += 1
        if t.betsdb.metric("betsdb_db_reads_total", reason="no_position") == unknown:
            return created, offset
    raise AssertionError("the lists' written position never became known")


def test_a_down_standby_sends_reads_to_the_primary(topology):
    t = topology.start(synchronous=False, replica=True)
    read_matches(t, 0)
    created, offset = match_with_known_position(t, 1)
    t.pair.standby.stop()
    deadline = time.monotonic() + 10
    while t.betsdb.metric("betsdb_db_reads_total", reason="down") == 0:
        assert time.monotonic() < deadline, "a down standby was never noticed"
        page = read_matches(t, offset)
        assert page["total"] >= 1
        offset += 1
    everything = t.betsdb.request("GET", "/v1/matches?limit=100").json()
    assert created["id"] in [m["id"] for m in everything["items"]]

"""The read cache (API.md: Caching (Redis)): TTLs, hits and invalidation,
canonical keys, single-flight, read-your-writes under races and Redis
stalls, and answers from PostgreSQL while Redis is down.

Tests run one at a time against the suite's server. Global answers (the bet
summary, /v1/bets) may have been cached by the suite's server while another
test wrote through a second server on a private Redis; so a test that checks
them writes through the suite's server first, which invalidates them.
"""

import json
import os
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
import redis as redis_lib
import requests

from api_support import Api, expect_json, future_date, unique_team
from bet_support import BetsdbProcess, place_bet, poll_until
from cache_support import (
    PREFIXES,
    Failures,
    HoldingProxy,
    Truth,
    bet_view,
    cache_events,
    delta,
    expect_fresh_ttl,
    get_json,
    keys_under,
    read_counted,
    wait_for_new_keys,
)
from redis_keys import (
    BETS_GEN,
    BETS_LIST,
    MATCHES_GEN,
    MATCHES_LIST,
    ORIGIN_LEN,
    SUMMARY,
    SUMMARY_GEN,
    entry_generation,
    join_entry,
    key_slot,
    namespace_prefix,
    node_for_key,
    prefix_namespace,
    run_id_origin,
    split_entry,
    user_bets,
    user_bets_gen,
)

BALANCE = 10**9

# A write whose invalidation stalls answers within the server's bound for it
# (5 s: kInvalidationBound in src/service/read_cache.hpp), plus the lock's own
# 1 s Redis timeout and room for a loaded machine.
STALLED_WRITE_S = 12
# A read while Redis is down or stalled falls back to PostgreSQL quickly.
FALLBACK_READ_S = 5
# A server reconnecting to a restarted Redis, and its overdue invalidations landing.
RECOVERY_S = 30


@pytest.fixture
def truth(db, bets_db):
    return Truth(db, bets_db)


@pytest.fixture
def bettor(new_user):
    return new_user(balance=BALANCE)


def placed(api, user, match, selection="1", stake=1000):
    return expect_json(place_bet(api, user, match, selection, stake), 201)


def ids(page):
    return [item["id"] for item in page["items"]]


def matches_page(api, team, **params):
    return get_json(api, "/v1/matches", params=dict(team=team, limit=100, **params))


def mark(redis, key, marker):
    """Rewrites a cache entry's JSON so that serving it is recognisable
    (its origin kept: the entry stays one this Redis would serve)."""
    origin, text = split_entry(redis.get(key))
    body = json.loads(text)
    body["total"] = marker
    assert redis.set(key, join_entry(origin, json.dumps(body)), keepttl=True, xx=True), f"{key} vanished"


# ------------------------------------------------------------------ TTLs

def test_cached_match_lists_carry_a_ttl_of_60_to_70_seconds(api, new_match, redis):
    match = new_match()
    before = keys_under(redis, MATCHES_LIST)
    since = time.monotonic()
    first = matches_page(api, match["team_1"])
    assert matches_page(api, match["team_1"]) == first  # served from (or filling) the cache
    new = wait_for_new_keys(redis, MATCHES_LIST, before, "two match list reads")
    for key in new:
        expect_fresh_ttl(redis, key, since)  # within [60, 70] s as set


def test_every_cached_namespace_sets_a_ttl_of_ttl_to_ttl_plus_jitter(api, admin_token, bettor, new_match,
                                                                     redis):
    match = new_match()
    placed(api, bettor, match)  # a write through this server: the global answers are cold now
    reads = [
        (MATCHES_LIST, lambda: matches_page(api, match["team_1"])),
        (BETS_LIST, lambda: get_json(api, f"/v1/bets?match_id={match['id']}", token=admin_token)),
        (user_bets(bettor.email), lambda: get_json(api, f"/v1/users/{bettor.id}/bets",
                                                           token=bettor.token)),
        (SUMMARY, lambda: get_json(api, "/v1/bets/summary", token=admin_token)),
    ]
    for prefix, read in reads:
        before = keys_under(redis, prefix)
        since = time.monotonic()
        read()
        for key in wait_for_new_keys(redis, prefix, before, f"a read cached under {prefix}"):
            expect_fresh_ttl(redis, key, since)
    # "Every key under these prefixes carries a TTL."
    for prefix in PREFIXES:
        for key in keys_under(redis, prefix):
            assert redis.pttl(key) != -1, f"{key} has no TTL"


def test_jittered_ttls_differ_between_entries(api, new_match, redis):
    """Entries written together do not all expire in the same second."""
    match = new_match()
    set_to_ms = []
    for limit in range(1, 25):
        before = keys_under(redis, MATCHES_LIST)
        since = time.monotonic()
        get_json(api, "/v1/matches", params={"team": match["team_1"], "limit": limit})
        for key in wait_for_new_keys(redis, MATCHES_LIST, before, f"a read with limit={limit}"):
            left = expect_fresh_ttl(redis, key, since)
            # What the TTL was set to, give or take the time this read took.
            set_to_ms.append(left + (time.monotonic() - since) * 1000)
    # Without jitter they would all lie within the second or so a read takes;
    # 24 uniform draws from 0..10 s all fall within 2 s with probability < 1e-16.
    assert max(set_to_ms) - min(set_to_ms) > 2000, sorted(set_to_ms)


@pytest.fixture
def reader(tmp_path, admin_token, _server_is_up):
    """Another instance on the suite's database and Redis, for reads that must
    come from Redis's entry: a shard keeps its own copy of an entry it read
    or stored, and serves it while the generations hold (docs/api.md,
    "Caching"), but a new server's shards hold no copy. One per test, gone
    after it: its background queries would otherwise count among the ones
    test_concurrent_misses_on_a_cold_entry_run_one_database_query watches."""
    server = BetsdbProcess(str(tmp_path), name="betsdb-reader",
                           database_url=os.environ["BETSDB_TEST_DATABASE_URL"], admin_token=admin_token)
    client = Api(server.base_url, admin_token)
    try:
        yield server, client
    finally:
        client.close()
    server.stop()  # SIGTERM: exit 0, no sanitizer report


# ------------------------------------------------------------ hit, miss

def test_a_read_is_a_hit_until_a_write_makes_it_a_miss(api, base_url, new_match, redis, reader):
    team = unique_team("Hit")
    first = new_match(team_1=team, date=future_date(days=3))
    before_keys = keys_under(redis, MATCHES_LIST)

    page, events = read_counted(base_url, "matches:list", lambda: matches_page(api, team))
    assert ids(page) == [first["id"]]
    assert (events["miss"], events["load"], events["hit"]) == (1, 1, 0), events
    (key,) = wait_for_new_keys(redis, MATCHES_LIST, before_keys, "the first read")

    again, events = read_counted(base_url, "matches:list", lambda: matches_page(api, team))
    assert again == page
    assert (events["hit"], events["miss"], events["load"]) == (1, 0, 0), events
    # The answer really is the entry: a marked entry is served as is by a
    # server without a copy of its own.
    mark(redis, key, 1001)
    other, other_api = reader
    marked, events = read_counted(other.base_url, "matches:list", lambda: matches_page(other_api, team))
    assert marked["total"] == 1001
    assert (events["hit"], events["miss"], events["load"]) == (1, 0, 0), events

    before = cache_events(base_url, "matches:list")
    second = new_match(team_1=team, date=future_date(days=4))
    assert delta(cache_events(base_url, "matches:list"), before)["invalidation"] >= 1
    after_write, events = read_counted(base_url, "matches:list", lambda: matches_page(api, team))
    assert ids(after_write) == [first["id"], second["id"]]
    assert after_write["total"] == 2
    assert (events["miss"], events["load"], events["hit"]) == (1, 1, 0), events
    # Copies included: the server that read the marked entry kept it.
    assert matches_page(other_api, team) == after_write


def test_bet_lists_and_summary_miss_after_a_bet_and_show_it(api, base_url, admin_token, bettor, new_match,
                                                            redis, truth):
    match = new_match()
    first = placed(api, bettor, match, "1")
    endpoints = [
        ("bets:list", f"/v1/bets?match_id={match['id']}", admin_token),
        ("bets_by_email", f"/v1/users/{bettor.id}/bets", bettor.token),
        ("bets_summary", "/v1/bets/summary", admin_token),
    ]
    for namespace, path, token in endpoints:
        prefix = namespace_prefix(namespace, bettor.email)
        before_keys = keys_under(redis, prefix)
        get_json(api, path, token=token)
        wait_for_new_keys(redis, prefix, before_keys, f"GET {path}")
        _, events = read_counted(base_url, namespace, lambda: get_json(api, path, token=token))
        assert events["hit"] == 1, (path, events)

    second = placed(api, bettor, match, "X")
    expected_ids = [second["id"], first["id"]]
    for namespace, path, token in endpoints:
        body, events = read_counted(base_url, namespace, lambda: get_json(api, path, token=token))
        assert (events["miss"], events["load"], events["hit"]) == (1, 1, 0), (path, events)
        if namespace == "bets_summary":
            assert body == truth.summary()
        else:
            assert ids(body) == expected_ids, path


def _warm(api, redis, reads):
    """Reads every (prefix, path, token) once and waits until each is cached."""
    for prefix, path, token in reads:
        before = keys_under(redis, prefix)
        get_json(api, path, token=token)
        wait_for_new_keys(redis, prefix, before, f"GET {path}")


def test_settlement_invalidates_every_answer_it_changes(api, admin_token, bettor, new_match, redis, truth):
    match = new_match()
    winner = placed(api, bettor, match, "1", stake=1000)
    loser = placed(api, bettor, match, "2", stake=500)
    team_path = f"/v1/matches?team={match['team_1'].replace(' ', '%20')}"
    reads = [
        (MATCHES_LIST, team_path, None),
        (BETS_LIST, f"/v1/bets?match_id={match['id']}", admin_token),
        (user_bets(bettor.email), f"/v1/users/{bettor.id}/bets", bettor.token),
        (SUMMARY, "/v1/bets/summary", admin_token),
    ]
    _warm(api, redis, reads)
    expect_json(api.post(f"/v1/matches/{match['id']}/result", json={"result": "1"}, token=admin_token), 200)

    listed = get_json(api, team_path)["items"]
    assert [(m["id"], m["status"], m["result"]) for m in listed] == [(match["id"], "settled", "1")]
    for path, token in ((f"/v1/bets?match_id={match['id']}", admin_token),
                        (f"/v1/users/{bettor.id}/bets", bettor.token)):
        statuses = {b["id"]: b["status"] for b in get_json(api, path, token=token)["items"]}
        assert statuses == {winner["id"]: "won", loser["id"]: "lost"}, path
    assert get_json(api, "/v1/bets/summary", token=admin_token) == truth.summary()


def test_a_checkout_invalidates_the_bet_lists_and_the_summary(api, admin_token, bettor, new_match, redis,
                                                             truth):
    match = new_match()
    first = placed(api, bettor, match, "1")
    reads = [
        (BETS_LIST, f"/v1/bets?match_id={match['id']}", admin_token),
        (user_bets(bettor.email), f"/v1/users/{bettor.id}/bets", bettor.token),
        (SUMMARY, "/v1/bets/summary", admin_token),
    ]
    _warm(api, redis, reads)
    for selection in ("X", "2"):
        expect_json(api.post(f"/v1/users/{bettor.id}/cart/items", token=bettor.token,
                             json={"match_id": match["id"], "selection": selection, "stake": 300}), 201)
    result = expect_json(api.post(f"/v1/users/{bettor.id}/cart/checkout", token=bettor.token), 201)
    placed_ids = {b["id"] for b in result["bets"]}
    assert len(placed_ids) == 2
    for _, path, token in reads[:2]:
        assert set(ids(get_json(api, path, token=token))) == placed_ids | {first["id"]}, path
    assert get_json(api, "/v1/bets/summary", token=admin_token) == truth.summary()


# ---------------------------------------------------------- canonical keys

def test_the_same_bet_query_in_another_order_hits_the_same_entry(api, base_url, admin_token, bettor,
                                                                  new_match, redis, reader):
    match = new_match()
    placed(api, bettor, match, "1", stake=500)
    placed(api, bettor, match, "2", stake=700)
    m = match["id"]
    spellings = [
        f"/v1/bets?status=pending&match_id={m}&min_stake=100&limit=5",
        f"/v1/bets?limit=5&min_stake=100&match_id={m}&status=pending",
        f"/v1/bets?match_id={m}&limit=5&status=pending&min_stake=100&offset=0&sort=-created_at",
    ]
    before = keys_under(redis, BETS_LIST)
    first = get_json(api, spellings[0], token=admin_token)
    assert first["total"] == 2
    (key,) = wait_for_new_keys(redis, BETS_LIST, before, spellings[0])
    mark(redis, key, 4242)
    other, other_api = reader  # no copy of its own: it reads Redis's entry
    for path in spellings[1:]:
        body, events = read_counted(other.base_url, "bets:list",
                                    lambda: get_json(other_api, path, token=admin_token))
        assert body["total"] == 4242, f"{path} did not read the entry of {spellings[0]}"
        assert events["hit"] == 1, events
    assert keys_under(redis, BETS_LIST) - before == {key}
    # Another query is another entry.
    other = get_json(api, f"/v1/bets?match_id={m}&min_stake=600&limit=5", token=admin_token)
    assert other["total"] == 1


def test_the_same_match_query_in_another_order_or_case_hits_the_same_entry(api, base_url, new_match, redis,
                                                                          reader):
    team = unique_team("Canon")
    new_match(team_1=team, date="2033-05-01T12:00:00Z")
    spellings = [
        {"team": team, "status": "open", "from": "2033-01-01T00:00:00Z"},
        {"from": "2033-01-01T00:00:00Z", "status": "open", "team": team.upper()},
        {"status": "open", "sort": "date", "team": team.lower(), "limit": 20, "from": "2033-01-01T00:00:00Z",
         "offset": 0},
    ]
    before = keys_under(redis, MATCHES_LIST)
    assert get_json(api, "/v1/matches", params=spellings[0])["total"] == 1
    (key,) = wait_for_new_keys(redis, MATCHES_LIST, before, "the first spelling")
    mark(redis, key, 777)
    other, other_api = reader  # no copy of its own: it reads Redis's entry
    for params in spellings[1:]:
        body, events = read_counted(other.base_url, "matches:list",
                                    lambda: get_json(other_api, "/v1/matches", params=params))
        assert body["total"] == 777, f"{params} did not read the entry of {spellings[0]}"
        assert events["hit"] == 1, events
    assert keys_under(redis, MATCHES_LIST) - before == {key}


def test_a_team_name_cannot_spell_another_filter_into_the_key(api, new_match, redis):
    """Team names are free text: one containing "&to=..." must not share an
    entry with the query that really has that `to` filter."""
    team = unique_team("Inject")
    date = "2031-01-01T00:00:00Z"
    match = new_match(team_1=team, date=date)
    micros = 1924992000 * 10**6  # 2031-01-01T00:00:00Z in microseconds since the epoch
    seconds = 1924992000
    for forged in (f"{team}&to={micros}", f"{team}&to={seconds}", f"{team}&to={date}"):
        before = keys_under(redis, MATCHES_LIST)
        empty = get_json(api, "/v1/matches", params={"team": forged})
        assert empty["total"] == 0
        wait_for_new_keys(redis, MATCHES_LIST, before, f"team={forged!r}")
        real = get_json(api, "/v1/matches", params={"team": team, "to": date})
        assert ids(real) == [match["id"]], f"team={forged!r} poisoned the entry of team=..&to={date}"


# ------------------------------------------- the key layout, the origin tag

def test_entries_share_their_generations_slot_name_it_and_carry_their_servers_origin(
        api, admin_token, bettor, new_match, redis):
    """docs/operations.md, "Redis": a namespace's counter and its entries
    share a hash tag (one slot: the read's script touches both); an entry is
    stored under the generation current when it was read; its value is
    "<origin>|<json>", the origin being the run_id of the Redis process that
    holds it. A user's lists have their own counter, and no global one."""
    match = new_match()
    placed(api, bettor, match)
    reads = [
        (MATCHES_GEN, MATCHES_LIST, f"/v1/matches?team={match['team_1'].replace(' ', '%20')}", None),
        (BETS_GEN, BETS_LIST, f"/v1/bets?match_id={match['id']}", admin_token),
        (user_bets_gen(bettor.email), user_bets(bettor.email), f"/v1/users/{bettor.id}/bets", bettor.token),
        (SUMMARY_GEN, SUMMARY, "/v1/bets/summary", admin_token),
    ]
    for gen_key, prefix, path, token in reads:
        before = keys_under(redis, prefix)
        answer = get_json(api, path, token=token)
        for key in wait_for_new_keys(redis, prefix, before, f"GET {path}"):
            assert key_slot(key) == key_slot(gen_key), f"{key} and {gen_key} are in different slots"
            generation = redis.get(gen_key)
            assert generation is not None and generation.isdigit(), (gen_key, generation)
            assert entry_generation(key, prefix) == int(generation), (key, generation)
            origin, body = split_entry(redis.get(key))
            assert origin == run_id_origin(node_for_key(redis, key)), (key, origin)
            assert json.loads(body) == answer, key
    # A settlement bumps each bettor's own counter; there is no counter of
    # every user's lists (a key of that name, if any, is left as it was).
    global_before = redis.get("gen:bets_by_email")
    own_before = redis.get(user_bets_gen(bettor.email))
    expect_json(api.post(f"/v1/matches/{match['id']}/result", json={"result": "1"}, token=admin_token), 200)
    assert int(redis.get(user_bets_gen(bettor.email))) > int(own_before)
    assert redis.get("gen:bets_by_email") == global_before, "a global counter of every user's bet lists"


@pytest.mark.parametrize("local", ["}brace", "{brace}", "per%7Dcent", "a}b{c"])
def test_a_users_keys_share_one_slot_whatever_their_email_holds(api, new_user, new_match, redis, local):
    """A user's keys carry the email as their hash tag. An email may begin
    with '}', and "{}" is no tag at all: the keys would scatter over slots
    that one script cannot touch together (on a cluster every bet of that
    user failed its invalidation). The email's braces are percent-encoded."""
    user = new_user(balance=10_000, email=f"{local}-{uuid.uuid4().hex[:8]}@example.com")
    match = new_match()
    first = placed(api, user, match, "1")
    path = f"/v1/users/{user.id}/bets"
    gen_key, prefix = user_bets_gen(user.email), user_bets(user.email)
    assert "{}" not in gen_key, gen_key
    before = keys_under(redis, prefix)
    assert ids(get_json(api, path, token=user.token)) == [first["id"]]
    for key in wait_for_new_keys(redis, prefix, before, f"GET {path}"):
        assert key_slot(key) == key_slot(gen_key), f"{key} and {gen_key} are in different slots"
    generation = redis.get(gen_key)
    second = placed(api, user, match, "X")
    assert int(redis.get(gen_key)) > int(generation)
    assert ids(get_json(api, path, token=user.token)) == [second["id"], first["id"]]


@pytest.mark.parametrize("namespace", ["matches:list", "bets_by_email"])
def test_an_entry_another_redis_process_stored_is_never_served(api, base_url, bettor, new_match, redis,
                                                                reader, namespace):
    """An entry whose origin is not the run_id of the Redis that holds it was
    stored before a failover or a restart (replicated or reloaded from disk):
    its generation may have been rolled back since, so it must not be served.
    Forged here by rewriting the origin of a current entry (and its answer,
    so that serving it would show), and read by a server that has no copy of
    its own (a shard's copies carry their origin too: store/redis/local_entries.hpp)."""
    team = unique_team("Origin")
    match = new_match(team_1=team)
    placed(api, bettor, match)
    if namespace == "matches:list":
        prefix, path, token = MATCHES_LIST, f"/v1/matches?team={team.replace(' ', '%20')}", None
    else:
        prefix, path, token = user_bets(bettor.email), f"/v1/users/{bettor.id}/bets", bettor.token
    before = keys_under(redis, prefix)
    current = get_json(api, path, token=token)
    (key,) = wait_for_new_keys(redis, prefix, before, f"GET {path}")
    _, hit = read_counted(base_url, namespace, lambda: get_json(api, path, token=token))
    assert hit["hit"] == 1, hit  # the entry as stored is served

    origin, text = split_entry(redis.get(key))
    foreign = f"{(int(origin, 16) + 1) % 16**ORIGIN_LEN:0{ORIGIN_LEN}x}"
    body = json.loads(text)
    body["total"] = 31337
    assert redis.set(key, join_entry(foreign, json.dumps(body)), keepttl=True, xx=True), f"{key} vanished"
    other, other_api = reader
    answer, events = read_counted(other.base_url, namespace, lambda: get_json(other_api, path, token=token))
    assert answer == current, f"{key} from another Redis process was served"
    assert (events["hit"], events["miss"], events["load"]) == (0, 1, 1), events
    # Loaded again, and from then on served (stored anew by this process) or
    # loaded; never the forged answer.
    for client in (other_api, api):
        for _ in range(3):
            assert get_json(client, path, token=token) == current, f"{key} from another Redis process was served"


# ------------------------------------------------------------ single-flight

# Server backends of this database waiting for a lock right now, but the
# server's own periodic work, which may wait for the same tables and is no
# load of a read: the fold of the summary's totals, and the outbox
# publisher's read of the changed matches (a fresh-clone run of f6295e0 saw
# it waiting beside the one load).
_WAITING_LOADS = (
    "FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
    "AND state = 'active' AND wait_event_type = 'Lock' "
    "AND query NOT LIKE '%%fold_bet_total_changes%%' "
    "AND query NOT LIKE '%%SELECT outbox_id%%'")


def _waiting_server_query_texts(db):
    """What _waiting_server_queries counts, as the queries' texts: named when
    the count is not the one expected."""
    return [row[0][:300] for row in db.query("SELECT query " + _WAITING_LOADS)]


def _waiting_server_queries(db):
    return db.scalar("SELECT count(*) " + _WAITING_LOADS)


@pytest.mark.parametrize("namespace", ["matches:list", "bets_summary"])
def test_concurrent_misses_on_a_cold_entry_run_one_database_query(api, base_url, admin_token, bettor,
                                                                   new_match, db, bets_db, namespace):
    """The load is held inside PostgreSQL (the table is locked) until all N
    requests have missed; then the server must be running exactly one query."""
    n = 12
    match = new_match()
    placed(api, bettor, match)  # the summary is cold now
    if namespace == "matches:list":
        path, token, table = f"/v1/matches?team={match['team_1'].replace(' ', '%20')}", None, db.matches_table
    else:
        # The summary reads the kept totals (migration 010), not the bets.
        schema = bets_db.bets_table.rsplit(".", 1)[0]
        path, token, table = "/v1/bets/summary", admin_token, f"{schema}.bet_totals"

    lock = psycopg2.connect(os.environ["BETSDB_TEST_DATABASE_URL"])
    before = cache_events(base_url, namespace)
    pool = ThreadPoolExecutor(max_workers=n)
    futures = []
    try:
        with lock.cursor() as cur:
            cur.execute("SET lock_timeout = '10s'")
            cur.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        barrier = threading.Barrier(n)

        def read(_):
            client = Api(base_url, admin_token)
            try:
                client.get("/healthz")
                barrier.wait(timeout=60)
                return client.get(path, token=token)
            finally:
                client.close()

        futures.extend(pool.submit(read, i) for i in range(n))

        def all_arrived():
            events = delta(cache_events(base_url, namespace), before)
            return events if events["miss"] + events["error"] == n else None

        events = poll_until(all_arrived, 60, f"{n} misses of {namespace}")

        def loads_waiting():
            waiting = _waiting_server_queries(db)
            return waiting if waiting >= 1 + events["error"] else None

        waiting = poll_until(loads_waiting, 30, "the load to wait for the table lock")
        events = delta(cache_events(base_url, namespace), before)
        # Reads that found Redis too slow go to PostgreSQL on their own, by
        # design; the misses share one load.
        assert events["error"] <= n // 4, f"Redis reads timed out too often to judge: {events}"
        assert events["load"] == 1 + events["error"], events
        assert waiting == 1 + events["error"], (waiting, events, _waiting_server_query_texts(db))
        assert not any(f.done() for f in futures), "a request finished while the load was held"
    finally:
        lock.rollback()
        lock.close()
        responses = [f.result() for f in futures]
        pool.shutdown()
    for resp in responses:
        expect_json(resp, 200)
    assert len({resp.text for resp in responses}) == 1, "callers of one load got different answers"
    final = delta(cache_events(base_url, namespace), before)
    assert final["load"] == 1 + final["error"], final
    assert final["hit"] == 0, final


# -------------------------------------------------------------- the race

RACE_MATCHES = 10
RACE_READERS = 4


def test_readers_racing_a_writer_never_see_an_answer_older_than_a_returned_write(
        api, base_url, admin_token, bettor, new_match, truth):
    team = unique_team("Race")
    placed(api, bettor, new_match())  # a write through this server: the global answers are current

    lock = threading.Lock()
    state = {"bets": [], "stake": 0, "matches": [], "bets_started": 0, "stake_started": 0,
             "matches_started": 0}
    base_bets = truth.bet_count()
    base_user_bets = 1
    base_stake = truth.summary()["total_stake"]
    done = threading.Event()
    failures = Failures()
    reads = [0] * RACE_READERS

    def snapshot():
        with lock:
            return {k: (list(v) if isinstance(v, list) else v) for k, v in state.items()}

    def check_bets_page(page, seen, path):
        """Page 1 (20 bets, newest first) holds the newest returned bets: at
        most one more (in flight) can be newer, and nobody else bets now."""
        newest = [b for b, _ in seen["bets"]][-(page["limit"] - 1):]
        missing = [b for b in newest if b not in set(ids(page))]
        assert not missing, f"{path}: returned bets {missing} missing from page 1"

    def check_user_bets(page, seen, now):
        present = set(ids(page))
        missing = [b for b, _ in seen["bets"] if b not in present]
        assert not missing, f"user bets lack returned bets {missing}"
        assert base_user_bets + len(seen["bets"]) <= page["total"] <= base_user_bets + now["bets_started"], \
            (page["total"], seen, now)

    def check_summary(body, seen, now):
        assert base_bets + len(seen["bets"]) <= body["total_bets"] <= base_bets + now["bets_started"], \
            (body["total_bets"], base_bets, seen, now)
        assert base_stake + seen["stake"] <= body["total_stake"] <= base_stake + now["stake_started"]

    def check_matches(page, seen, now):
        present = set(ids(page))
        missing = [m for m in seen["matches"] if m not in present]
        assert not missing, f"match list lacks returned matches {missing}"
        assert len(seen["matches"]) <= page["total"] <= now["matches_started"]

    def read_all(client, seen):
        """Every cached endpoint once; `seen` is what had returned before."""
        page = get_json(client, "/v1/bets", token=admin_token)
        check_bets_page(page, seen, "/v1/bets")
        check_user_bets(get_json(client, f"/v1/users/{bettor.id}/bets?limit=100", token=bettor.token),
                        seen, snapshot())
        check_summary(get_json(client, "/v1/bets/summary", token=admin_token), seen, snapshot())
        check_matches(matches_page(client, team), seen, snapshot())

    def reader(i):
        client = Api(base_url, admin_token)
        try:
            while not done.is_set() and not failures:
                read_all(client, snapshot())
                reads[i] += 1
        except BaseException as exc:  # noqa: B036 - re-raised by the test
            failures.record(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(RACE_READERS)]
    for t in threads:
        t.start()
    writer = Api(base_url, admin_token)
    try:
        for i in range(RACE_MATCHES):
            with lock:
                state["matches_started"] += 1
            match = new_match(team_1=team, date=future_date(days=i + 1))
            with lock:
                state["matches"].append(match["id"])
            read_all(writer, snapshot())
            for j, selection in enumerate(("1", "X", "2")):
                stake = 100 + 3 * i + j
                with lock:
                    state["bets_started"] += 1
                    state["stake_started"] += stake
                bet = placed(writer, bettor, match, selection, stake)
                with lock:
                    state["bets"].append((bet["id"], stake))
                    state["stake"] += stake
                read_all(writer, snapshot())
                if failures:
                    break
            if failures:
                break
    finally:
        done.set()
        for t in threads:
            t.join(timeout=60)
        writer.close()
    failures.raise_first()
    assert not any(t.is_alive() for t in threads), "a reader hung"
    assert min(reads) >= 3, f"readers barely ran: {reads}"

    # The end: every cached endpoint agrees exactly with the database, twice
    # (the first read may fill the cache, the second is likely a hit).
    for _ in range(2):
        everyone = get_json(api, "/v1/bets?limit=100", token=admin_token)
        assert [bet_view(b) for b in everyone["items"]] == truth.bet_rows(limit=100)
        assert everyone["total"] == truth.bet_count()
        mine = get_json(api, f"/v1/users/{bettor.id}/bets?limit=100", token=bettor.token)
        assert [bet_view(b) for b in mine["items"]] == truth.bet_rows("WHERE user_id = %s", (bettor.id,))
        assert mine["total"] == 3 * RACE_MATCHES + 1
        assert get_json(api, "/v1/bets/summary", token=admin_token) == truth.summary()
        matches = matches_page(api, team)
        assert set(ids(matches)) == truth.match_ids_with_team(team)
        assert ids(matches) == state["matches"]  # created in date order
        assert matches["total"] == RACE_MATCHES
        for match_id in ids(matches)[:3]:
            by_match = get_json(api, f"/v1/bets?match_id={match_id}&sort=stake", token=admin_token)
            assert sorted(ids(by_match)) == sorted(b["id"] for b in truth.bet_rows("WHERE match_id = %s",
                                                                                   (match_id,)))


# ------------------------------------- the cache-aside race, made to order

def _slow_reader_cases():
    def bets_by_match(api, admin_token, bettor, new_match, truth):
        match = new_match()
        first = placed(api, bettor, match, "1")
        path = f"/v1/bets?match_id={match['id']}"

        def write():
            return placed(api, bettor, match, "2")

        def stale(body):
            assert ids(body) == [first["id"]], body

        def current(body, written):
            assert ids(body) == [written["id"], first["id"]], body

        return BETS_LIST, path, admin_token, write, stale, current

    def summary(api, admin_token, bettor, new_match, truth):
        placed(api, bettor, new_match(), "1")
        before = truth.summary()

        def write():
            return placed(api, bettor, new_match(), "X")

        def stale(body):
            assert body == before

        def current(body, written):
            assert body == truth.summary()
            assert body["total_bets"] == before["total_bets"] + 1

        return SUMMARY, "/v1/bets/summary", admin_token, write, stale, current

    def matches(api, admin_token, bettor, new_match, truth):
        team = unique_team("Slow")
        first = new_match(team_1=team, date=future_date(days=2))

        def write():
            return new_match(team_2=team, date=future_date(days=3))

        def stale(body):
            assert ids(body) == [first["id"]], body

        def current(body, written):
            assert ids(body) == [first["id"], written["id"]], body

        return MATCHES_LIST, f"/v1/matches?team={team.replace(' ', '%20')}", None, write, stale, current

    return [bets_by_match, summary, matches]


@pytest.mark.parametrize("case", _slow_reader_cases(), ids=["bets", "summary", "matches"])
def test_a_slow_reader_cannot_leave_an_entry_older_than_a_returned_write(
        api, admin_token, bettor, new_match, redis, truth, tmp_path, case):
    """The classic cache-aside race, step by step: a reader on a second server
    misses and queries PostgreSQL before a write; its rows are held back (a
    proxy between it and PostgreSQL) while the write commits, invalidates and
    returns; then the reader gets its now stale rows and stores them. No read
    after the write may see them, on either server."""
    prefix, path, token, write, stale, current = case(api, admin_token, bettor, new_match, truth)
    database = urllib.parse.urlsplit(os.environ["BETSDB_TEST_DATABASE_URL"])
    proxy = HoldingProxy(database.hostname, database.port or 5432)
    proxied = database._replace(netloc=database.netloc.replace(
        f"{database.hostname}:{database.port}", f"127.0.0.1:{proxy.port}")).geturl()
    server = BetsdbProcess(str(tmp_path), name="betsdb-slow-reader", database_url=proxied,
                           admin_token=admin_token)
    slow = Api(server.base_url, admin_token)
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        before = keys_under(redis, prefix)
        proxy.hold_next_rows()
        reader = pool.submit(lambda: slow.get(path, token=token))
        assert proxy.wait_held(30), "the slow reader's query never answered"
        assert not reader.done()

        written = write()  # commits, invalidates, returns, all while the reader waits

        proxy.release()
        stale(expect_json(reader.result(timeout=30), 200))  # it started before the write returned

        # Every read from now on is current, on either server, until the
        # current answer is cached (so the slow reader's store, sent before
        # its answer, has long been dealt with), and after.
        def cached_and_current():
            for client in (api, slow):
                current(get_json(client, path, token=token), written)
            return keys_under(redis, prefix) - before

        poll_until(cached_and_current, 10, "the current answer to be cached")
        for client in (api, slow, api, slow):
            current(get_json(client, path, token=token), written)
    finally:
        proxy.release()
        pool.shutdown(wait=False)
        slow.close()
        try:
            server.stop()
        finally:
            server.kill()
            proxy.close()


@pytest.mark.single_redis
def test_a_slow_reader_across_a_redis_restart_cannot_leave_an_old_answer(
        api, admin_token, bettor, new_match, private_redis, tmp_path, truth):
    """Redis restarts empty while a reader's rows are held back: its generation
    counters start again, and the next bump must not hand out a generation the
    slow reader read before the restart (it would store its old rows under the
    current generation)."""
    cache = private_redis()
    keys = redis_lib.Redis(host="127.0.0.1", port=cache.port, decode_responses=True, socket_timeout=5)
    database = urllib.parse.urlsplit(os.environ["BETSDB_TEST_DATABASE_URL"])
    proxy = HoldingProxy(database.hostname, database.port or 5432)
    proxied = database._replace(netloc=database.netloc.replace(
        f"{database.hostname}:{database.port}", f"127.0.0.1:{proxy.port}")).geturl()
    server = BetsdbProcess(str(tmp_path), name="betsdb-restart", database_url=proxied,
                           redis_url=cache.url, admin_token=admin_token)
    other = Api(server.base_url, admin_token)
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        match = new_match()
        first = placed(other, bettor, match, "1")  # the counters of this Redis move on
        path = f"/v1/bets?match_id={match['id']}"
        proxy.hold_next_rows()
        reader = pool.submit(lambda: other.get(path, token=admin_token))
        assert proxy.wait_held(30), "the slow reader's query never answered"

        cache.kill()
        cache.start()
        keys.connection_pool.disconnect()
        poll_until(lambda: requests.get(server.base_url + "/readyz", timeout=5).status_code == 200,
                   RECOVERY_S, "the server to reconnect to the restarted Redis")
        second = placed(other, bettor, match, "X")  # its invalidation lands in the new Redis

        proxy.release()
        assert ids(expect_json(reader.result(timeout=30), 200)) == [first["id"]]

        def cached_and_current():
            assert ids(get_json(other, path, token=admin_token)) == [second["id"], first["id"]]
            return keys_under(keys, BETS_LIST)

        poll_until(cached_and_current, 10, "the current answer to be cached")
        for _ in range(3):
            assert ids(get_json(other, path, token=admin_token)) == [second["id"], first["id"]]
    finally:
        proxy.release()
        pool.shutdown(wait=False)
        other.close()
        keys.close()
        try:
            server.stop()
        finally:
            server.kill()
            proxy.close()
    placed(api, bettor, new_match(), "1")  # the suite's server never saw these writes' invalidations


# --------------------------------------------------- a stalled invalidation

def _bet_case(api, admin_token, bettor, new_match):
    """A bet (which also takes the Redis lock) and the lists it must show in."""
    match = new_match()
    first = placed(api, bettor, match, "1")
    reads = [
        (BETS_LIST, f"/v1/bets?match_id={match['id']}", admin_token),
        (BETS_LIST, "/v1/bets", admin_token),
        (user_bets(bettor.email), f"/v1/users/{bettor.id}/bets", bettor.token),
        (SUMMARY, "/v1/bets/summary", admin_token),
    ]

    def write():
        return placed(api, bettor, match, "X")

    def check(path, body, written):
        if path == "/v1/bets/summary":
            return  # compared with the database by the caller
        assert ids(body)[:2] == [written["id"], first["id"]], (path, ids(body))

    return reads, write, check


def _match_case(api, admin_token, bettor, new_match):
    """A new match (its only Redis write is the invalidation) and its list."""
    team = unique_team("Stall")
    first = new_match(team_1=team, date=future_date(days=2))
    reads = [(MATCHES_LIST, f"/v1/matches?team={team.replace(' ', '%20')}", None)]

    def write():
        return new_match(team_1=team, date=future_date(days=3))

    def check(path, body, written):
        assert ids(body) == [first["id"], written["id"]], (path, ids(body))

    return reads, write, check


# The server waits up to 5 s for a stalled invalidation (kInvalidationBound).
WITHIN_THE_BOUND_MS = 3000
BEYOND_THE_BOUND_MS = 9000


@pytest.mark.parametrize("pause_ms", [WITHIN_THE_BOUND_MS, BEYOND_THE_BOUND_MS],
                         ids=["within-the-bound", "beyond-the-bound"])
@pytest.mark.parametrize("case", [_bet_case, _match_case], ids=["bet", "match"])
@pytest.mark.single_redis
def test_a_write_whose_invalidation_stalls_is_visible_as_soon_as_it_returns(
        api, base_url, admin_token, bettor, new_match, redis, truth, case, pause_ms):
    """CLIENT PAUSE WRITE holds every write to Redis (the generation bump
    included) while reads still answer, so the old entries stay readable in
    Redis. Within the server's bound the write may wait for its invalidation;
    beyond it, the server must stop trusting those entries before it answers."""
    reads, write, check = case(api, admin_token, bettor, new_match)
    _warm(api, redis, reads)

    redis.execute_command("CLIENT", "PAUSE", str(pause_ms), "WRITE")
    paused_at = time.monotonic()
    try:
        written = write()
        write_s = time.monotonic() - paused_at
        for _, path, token in reads:
            started = time.monotonic()
            body = get_json(api, path, token=token)
            assert time.monotonic() - started < FALLBACK_READ_S, path
            check(path, body, written)
            if path == "/v1/bets/summary":
                assert body == truth.summary()
        still_paused = time.monotonic() - paused_at < pause_ms / 1000
    finally:
        redis.execute_command("CLIENT", "UNPAUSE")
    assert write_s < STALLED_WRITE_S, f"the write took {write_s:.1f}s"
    if pause_ms == BEYOND_THE_BOUND_MS:
        # The point of this case: the reads ran while the old entries were
        # still readable in Redis and their invalidation had not landed.
        assert still_paused, f"the pause ended before the reads (write took {write_s:.1f}s)"

    # Once Redis takes writes again the cache serves again, and correctly.
    namespace = prefix_namespace(reads[-1][0])
    last_path, last_token = reads[-1][1], reads[-1][2]

    def hit_again():
        # Reads fail over to PostgreSQL while the server reconnects ("error"):
        # keep polling through those.
        before = cache_events(base_url, namespace)
        body = get_json(api, last_path, token=last_token)
        events = delta(cache_events(base_url, namespace), before)
        check(last_path, body, written)
        if last_path == "/v1/bets/summary":
            assert body == truth.summary()
        return events["hit"] == 1

    poll_until(hit_again, RECOVERY_S, f"{last_path} to be served from the cache again")
    for _, path, token in reads:
        check(path, get_json(api, path, token=token), written)


# ------------------------------------------------------------ Redis down

def _timed(read):
    started = time.monotonic()
    result = read()
    took = time.monotonic() - started
    assert took < FALLBACK_READ_S, f"a read took {took:.1f}s with Redis away"
    return result


@pytest.mark.single_redis
def test_with_redis_down_answers_come_from_postgresql_and_show_every_write(
        api, admin_token, bettor, new_match, private_redis, second_betsdb, truth):
    cache = private_redis()
    keys = redis_lib.Redis(host="127.0.0.1", port=cache.port, decode_responses=True, socket_timeout=5)
    server = second_betsdb(redis_url=cache.url)
    other = Api(server.base_url, admin_token)
    team = unique_team("Outage")
    try:
        m1 = new_match(team_1=team, date=future_date(days=2))
        b1 = placed(other, bettor, m1, "1")

        def reads():
            return {
                "matches": matches_page(other, team),
                "mine": get_json(other, f"/v1/users/{bettor.id}/bets", token=bettor.token),
                "by_match": get_json(other, f"/v1/bets?match_id={m1['id']}", token=admin_token),
                "summary": get_json(other, "/v1/bets/summary", token=admin_token),
            }

        def expect_current(got, bet_ids, match_ids):
            """bet_ids: the bettor's bets, newest first; m1 holds b1 and b2."""
            assert ids(got["matches"]) == match_ids
            assert ids(got["mine"]) == bet_ids
            on_m1 = {b1["id"]} | ({b2["id"]} if b2 else set())
            assert ids(got["by_match"]) == [b for b in bet_ids if b in on_m1]
            assert got["summary"] == truth.summary()

        b2 = None
        # The reads are cached in the private Redis.
        def cached():
            expect_current(reads(), [b1["id"]], [m1["id"]])
            return all(keys_under(keys, prefix) for prefix in (
                MATCHES_LIST, user_bets(bettor.email), BETS_LIST, SUMMARY))

        poll_until(cached, 10, "entries of every namespace in the private Redis")

        cache.kill()
        started = time.monotonic()
        b2 = placed(other, bettor, m1, "X")
        assert time.monotonic() - started < STALLED_WRITE_S
        m2 = expect_json(other.post("/v1/matches", token=admin_token, json={
            "team_1": team, "team_2": unique_team("Away"), "date": future_date(days=3),
            "odds": {"1": 2.5, "X": 3.0, "2": 2.8}}), 201)
        expect_current(_timed(reads), [b2["id"], b1["id"]], [m1["id"], m2["id"]])
        b3 = placed(other, bettor, m2, "2")
        expect_current(_timed(reads), [b3["id"], b2["id"], b1["id"]], [m1["id"], m2["id"]])

        # Redis is back (empty), on the same port.
        cache.start()
        keys.connection_pool.disconnect()  # its connections died with the old process
        poll_until(lambda: requests.get(server.base_url + "/readyz", timeout=5).status_code == 200,
                   RECOVERY_S, "the second server to reconnect to Redis")
        expect_current(reads(), [b3["id"], b2["id"], b1["id"]], [m1["id"], m2["id"]])
        b4 = placed(other, bettor, m2, "1")
        expected = [b4["id"], b3["id"], b2["id"], b1["id"]]
        expect_current(reads(), expected, [m1["id"], m2["id"]])

        # The overdue invalidations land and the cache fills again, still correct.
        def cached_again():
            expect_current(reads(), expected, [m1["id"], m2["id"]])
            return all(keys_under(keys, p) for p in (MATCHES_LIST, BETS_LIST, SUMMARY))

        poll_until(cached_again, RECOVERY_S, "entries in the restarted Redis")
        expect_current(reads(), expected, [m1["id"], m2["id"]])
    finally:
        other.close()
        keys.close()
    server.stop()  # SIGTERM: exit 0, no sanitizer report

    # This test wrote behind the back of the suite's server (whose Redis never
    # saw these invalidations): write through it, so later tests read current
    # global answers from it.
    placed(api, bettor, new_match(), "1")


@pytest.mark.single_redis
def test_a_server_stops_cleanly_while_an_invalidation_is_still_overdue(
        api, bettor, new_match, private_redis, second_betsdb):
    """Redis never comes back: the write's invalidation stays overdue (retried
    in the background), and SIGTERM must still end the process, exit 0, with
    no leak or sanitizer report."""
    cache = private_redis()
    server = second_betsdb(redis_url=cache.url)
    other = Api(server.base_url, api.admin_token)
    try:
        match = new_match()
        get_json(other, f"/v1/users/{bettor.id}/bets", token=bettor.token)
        cache.kill()
        bet = placed(other, bettor, match, "2")
        assert ids(_timed(lambda: get_json(other, f"/v1/users/{bettor.id}/bets",
                                           token=bettor.token))) == [bet["id"]]
    finally:
        other.close()
    server.stop()
    placed(api, bettor, new_match(), "1")  # see the test above

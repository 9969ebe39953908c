"""Faults under load (issue 6; docs/operations.md: Outages).

- Redis restarted under load: cart calls answer 503 during the outage, cached
  reads fall back to PostgreSQL, bets go on behind the database's guard; the
  server reconnects by itself; no bet is lost or duplicated.
- PostgreSQL restarted under load: writes answer 503 during the outage, the
  pool heals itself afterwards, no partial write (ledger invariant, one stake
  row per bet).
- SIGTERM under load: requests in flight finish, new connections are
  refused, the exit code is 0; past the grace period the server exits
  cleanly with requests still suspended, and they did all or nothing.

Each test runs its own betsdb (the binary under test) with private Redis or
PostgreSQL servers where it breaks them, so the suite's servers stay up.
Every request has a client timeout, so a hang fails the test instead of
stalling it.
"""

import threading

import psycopg2
import pytest

from api_support import (
    REQUEST_TIMEOUT_S,
    Api,
    describe,
    expect_json,
    expect_problem,
    future_date,
    unique_email,
    unique_team,
)
from bet_support import PROCESS_STOP_S, RECONNECT_S, BetsDb, poll_until, required_env
from cache_support import scrape
from conftest import Db
from fault_support import (
    Load,
    PostgresCluster,
    ServerProcess,
    connect,
    expect_money_consistent,
    read_http_response,
    summarize,
    unexpected_outcomes,
    wait_closed,
    wait_port_refuses,
)

WORKERS = 6
MATCHES = 12
START_BALANCE = 10_000_000
STAKE = 10
DEPOSIT = 7
# Outcomes of each kind the load must show in each phase (before, during and
# after the outage) for the phase to count as observed.
PHASE_SAMPLES = 3
# Time allowed for a phase to show its samples (an outage takes effect after
# at most the pool wait of 2 s or the statement timeout of 5 s).
PHASE_S = 60


class Fixture:
    """Users and matches on one server, and the bet each worker places next."""

    def __init__(self, api, admin_token, workers=WORKERS, matches=MATCHES):
        self.users = [expect_json(api.post("/v1/users", token=admin_token, json={
            "email": unique_email(), "name": f"Load {i}", "balance": START_BALANCE}), 201)
            for i in range(workers)]
        self.matches = [expect_json(api.post("/v1/matches", token=admin_token, json={
            "team_1": unique_team("Home"), "team_2": unique_team("Away"), "date": future_date(),
            "odds": {"1": 2.0, "X": 3.0, "2": 4.0}}), 201) for _ in range(matches)]
        self.next_bet = [0] * workers
        self.placed = [[] for _ in range(workers)]  # bets answered 201, per worker
        self.lock = threading.Lock()

    def bet_body(self, worker):
        """The worker's next (match, selection): never the same twice, so every
        201 is a new bet and every duplicate in the database is a server bug."""
        n = self.next_bet[worker]
        if n >= 3 * len(self.matches):
            return None
        self.next_bet[worker] += 1
        user = self.users[worker]
        return {"user_id": user["id"], "match_id": self.matches[n % len(self.matches)]["id"],
                "selection": "12X"[n // len(self.matches)], "stake": STAKE}

    def record(self, worker, resp):
        if resp.status_code == 201:
            with self.lock:
                self.placed[worker].append(resp.json()["id"])


def _count(outcomes, op=None, status=None, after=None, code=None):
    return sum(1 for o in outcomes
               if (op is None or o.op == op or (isinstance(op, tuple) and o.op in op))
               and (status is None or o.status == status)
               and (code is None or o.code == code)
               and (after is None or o.started >= after))


def _expect_no_surprises(outcomes, allowed):
    bad = unexpected_outcomes(outcomes, allowed)
    assert not bad, f"{len(bad)} unexpected outcomes, e.g. {bad[:10]}; all: {summarize(outcomes)}"
    for o in outcomes:
        if o.status == 503:
            assert o.code == "service_unavailable", o


def _bets_of(db, bets_table, user_id):
    return sorted(r[0] for r in db.query(f"SELECT id FROM {bets_table} WHERE user_id = %s", (user_id,)))


# --------------------------------------------------------------------------
# Redis restarted under load
# --------------------------------------------------------------------------

REDIS_ALLOWED = {
    "bet": {201},
    "cart_add": {201, 409, 503},
    "cart_get": {200, 503},
    "cart_clear": {204, 503},
    "match_list": {200},
    "user_bets": {200},
}


@pytest.mark.concurrency
@pytest.mark.single_redis
def test_redis_restart_under_load(tmp_path, admin_token, db, bets_db, private_redis):
    store = private_redis()
    server = ServerProcess(tmp_path, name="betsdb-redis-fault", admin_token=admin_token,
                           database_url=required_env("BETSDB_TEST_DATABASE_URL"), redis_url=store.url)
    try:
        api = server.api(admin_token)
        fx = Fixture(api, admin_token)

        def step(client, worker, i):
            user = fx.users[worker]
            owner = user["token"]
            kind = i % 6
            if kind == 0:
                body = fx.bet_body(worker)
                if body is None:
                    return "bet", None
                resp = client.post("/v1/bets", json=body, token=owner)
                fx.record(worker, resp)
                return "bet", resp
            if kind == 1:
                match = fx.matches[i % MATCHES]
                return "cart_add", client.post(f"/v1/users/{user['id']}/cart/items", token=owner,
                                               json={"match_id": match["id"], "selection": "2", "stake": STAKE})
            if kind == 2:
                return "cart_get", client.get(f"/v1/users/{user['id']}/cart", token=owner)
            if kind == 3:
                return "cart_clear", client.delete(f"/v1/users/{user['id']}/cart", token=owner)
            if kind == 4:
                team = fx.matches[i % MATCHES]["team_1"]
                return "match_list", client.get("/v1/matches", params={"team": team})
            return "user_bets", client.get(f"/v1/users/{user['id']}/bets", params={"limit": 5}, token=owner)

        load = Load(server.base_url, admin_token, WORKERS, step)
        try:
            load.wait_for(lambda out: all(_count(out, op, after=0) >= PHASE_SAMPLES for op in REDIS_ALLOWED),
                          PHASE_S, "every kind of request to succeed before the outage")
            killed_at = load.now()
            store.kill()
            # During the outage: carts answer 503, bets and cached reads go on.
            first_503 = load.wait_for(
                lambda out: min([o.started for o in out if o.status == 503 and o.started >= killed_at],
                                default=None),
                PHASE_S, "cart requests to answer 503 while Redis is down")
            load.wait_for(lambda out: all(_count(out, op, after=first_503) >= PHASE_SAMPLES
                                          for op in ("bet", "match_list", "user_bets"))
                          and _count(out, ("cart_add", "cart_get", "cart_clear"), 503, after=first_503)
                          >= PHASE_SAMPLES,
                          PHASE_S, "bets and cached reads to go on while Redis is down")
            ready = api.get("/readyz")
            expect_problem(ready, 503, "service_unavailable")
            assert "redis" in ready.text.lower(), describe(ready)
            restarted_at = load.now()
            store.start()
            # The server reconnects by itself: carts work again.
            load.wait_for(lambda out: all(_count(out, op, status, after=restarted_at) >= PHASE_SAMPLES
                                          for op, status in (("cart_get", 200), ("cart_clear", 204))),
                          RECONNECT_S, "cart requests to succeed again after Redis came back")
        finally:
            outcomes = load.stop()
        _expect_no_surprises(outcomes, REDIS_ALLOWED)

        # Every shard has reconnected: a run of fresh connections all succeed.
        def all_carts_answer():
            for user in fx.users:
                c = Api(server.base_url, admin_token)
                try:
                    if c.get(f"/v1/users/{user['id']}/cart", token=user["token"]).status_code != 200:
                        return False
                finally:
                    c.close()
            return True

        poll_until(all_carts_answer, RECONNECT_S, "every cart request to succeed after the restart")
        expect_json(api.get("/readyz"), 200)

        # Nothing lost, nothing duplicated; the API agrees with the database.
        for worker, user in enumerate(fx.users):
            in_db = _bets_of(db, bets_db.bets_table, user["id"])
            assert in_db == sorted(fx.placed[worker]), (user["id"], in_db, fx.placed[worker])
            listed = expect_json(api.get(f"/v1/users/{user['id']}/bets", params={"limit": 100},
                                         token=user["token"]), 200)
            assert listed["total"] == len(in_db), listed
            balance = expect_json(api.get(f"/v1/users/{user['id']}", token=admin_token), 200)["balance"]
            assert balance == START_BALANCE - STAKE * len(in_db)
        expect_money_consistent(db, bets_db, "after the Redis restart:")
        api.close()
        server.stop()
    finally:
        server.kill()


# --------------------------------------------------------------------------
# PostgreSQL restarted under load
# --------------------------------------------------------------------------

PG_ALLOWED = {
    "bet": {201, 503},
    "deposit": {201, 503},
    "get_user": {200, 503},
    "match_list": {200, 503},
    "cart_add": {201, 409, 503},
}
PG_WRITES = ("bet", "deposit")


@pytest.fixture
def private_postgres():
    cluster = PostgresCluster()
    yield cluster
    cluster.destroy()


@pytest.mark.parametrize("mode", [pytest.param("fast", marks=pytest.mark.concurrency), "immediate"])
@pytest.mark.single_redis
def test_postgres_restart_under_load(tmp_path, admin_token, private_redis, private_postgres, mode):
    """mode: pg_ctl stop -m fast (sessions terminated) or -m immediate (a crash)."""
    cluster = private_postgres
    database_url = cluster.create_database("betsdb_faults")
    store = private_redis()
    server = ServerProcess(tmp_path, name=f"betsdb-pg-fault-{mode}", admin_token=admin_token,
                           database_url=database_url, redis_url=store.url)
    conn = None
    try:
        api = server.api(admin_token)
        # Every bet sent while PostgreSQL is down uses up its (match,
        # selection), and those 503s come fast: with 12 matches a run used up
        # all 216 in the outage (200 in its first second) and had none left to
        # show that writes succeed again. Four times as many.
        fx = Fixture(api, admin_token, matches=4 * MATCHES)
        deposits = [[0, 0] for _ in fx.users]  # per worker: [answered 201, answered 503]

        def step(client, worker, i):
            user = fx.users[worker]
            kind = i % 5
            if kind == 0:
                body = fx.bet_body(worker)
                if body is None:
                    return "bet", None
                resp = client.post("/v1/bets", json=body, token=user["token"])
                fx.record(worker, resp)
                return "bet", resp
            if kind == 1:
                resp = client.post(f"/v1/users/{user['id']}/deposits", json={"amount": DEPOSIT},
                                   token=admin_token)
                if resp.status_code in (201, 503):
                    deposits[worker][0 if resp.status_code == 201 else 1] += 1
                return "deposit", resp
            if kind == 2:
                return "get_user", client.get(f"/v1/users/{user['id']}", token=user["token"])
            if kind == 3:
                team = fx.matches[i % MATCHES]["team_2"]
                return "match_list", client.get("/v1/matches", params={"team": team, "status": "open"})
            match = fx.matches[i % MATCHES]
            return "cart_add", client.post(f"/v1/users/{user['id']}/cart/items", token=user["token"],
                                           json={"match_id": match["id"], "selection": "X", "stake": STAKE})

        load = Load(server.base_url, admin_token, WORKERS, step)
        try:
            load.wait_for(lambda out: all(_count(out, op, after=0) >= PHASE_SAMPLES for op in PG_WRITES),
                          PHASE_S, "writes to succeed before the outage")
            stopped_at = load.now()
            cluster.stop(mode)
            first_503 = load.wait_for(
                lambda out: min([o.started for o in out if o.op in PG_WRITES and o.status == 503
                                 and o.started >= stopped_at], default=None),
                PHASE_S, "writes to answer 503 while PostgreSQL is down")
            load.wait_for(lambda out: _count(out, PG_WRITES, 503, after=first_503) >= PHASE_SAMPLES,
                          PHASE_S, "more writes to answer 503 while PostgreSQL is down")
            ready = api.get("/readyz")
            expect_problem(ready, 503, "service_unavailable")
            assert "postgres" in ready.text.lower(), describe(ready)
            cluster.start()
            restarted_at = load.now()
            # The pool heals by itself: writes succeed again.
            load.wait_for(lambda out: all(_count(out, op, 201, after=restarted_at) >= PHASE_SAMPLES
                                          for op in PG_WRITES),
                          PHASE_S, "writes to succeed again after PostgreSQL came back")
        finally:
            outcomes = load.stop()
        _expect_no_surprises(outcomes, PG_ALLOWED)

        # Every pooled connection has been replaced: a run of requests all succeed.
        def all_answer():
            c = Api(server.base_url, admin_token)
            try:
                for user in fx.users:
                    for path in (f"/v1/users/{user['id']}", f"/v1/users/{user['id']}/transactions"):
                        if c.get(path, token=user["token"]).status_code != 200:
                            return False
                return True
            finally:
                c.close()

        poll_until(all_answer, PHASE_S, "every request to succeed after the restart")
        expect_json(api.get("/readyz"), 200)

        conn = psycopg2.connect(database_url)
        conn.autocommit = True
        db = Db(conn)
        bets_db = BetsDb(db)
        expect_money_consistent(db, bets_db, f"after a PostgreSQL restart ({mode}):")
        bet_503s = {w: _count([o for o in outcomes if o.worker == w], "bet", 503) for w in range(WORKERS)}
        for worker, user in enumerate(fx.users):
            in_db = _bets_of(db, bets_db.bets_table, user["id"])
            # Every 201 is there; a 503 may or may not have committed (the
            # connection can die after COMMIT), but nothing beyond that.
            assert set(fx.placed[worker]) <= set(in_db), (user["id"], fx.placed[worker], in_db)
            assert len(in_db) <= len(fx.placed[worker]) + bet_503s[worker], (user["id"], in_db)
            ok, unavailable = deposits[worker]
            rows = db.scalar(f"SELECT count(*) FROM {db.ledger_table} WHERE user_id = %s AND kind = 'deposit' "
                             f"AND amount = %s", (user["id"], DEPOSIT))
            assert ok <= rows <= ok + unavailable, (user["id"], ok, unavailable, rows)
            balance = db.balance(user["id"])
            assert balance == START_BALANCE + DEPOSIT * rows - STAKE * len(in_db), (user["id"], balance)
        api.close()
        server.stop()
    finally:
        if conn is not None:
            conn.close()
        server.kill()


# --------------------------------------------------------------------------
# SIGTERM under load
# --------------------------------------------------------------------------

IN_FLIGHT = 12


@pytest.mark.concurrency
def test_sigterm_lets_in_flight_requests_finish_and_refuses_new_ones(tmp_path, admin_token, db, bets_db):
    """Requests are made to hang inside the server (the test holds the users'
    rows locked in PostgreSQL, so their debits and credits wait); then SIGTERM:
    the listener closes at once, idle connections are closed, and when the
    rows are released every in-flight request completes with its 201."""
    database_url = required_env("BETSDB_TEST_DATABASE_URL")
    server = ServerProcess(tmp_path, name="betsdb-sigterm", admin_token=admin_token,
                           database_url=database_url,
                           # A pooled connection for each in-flight request on either shard.
                           extra_env={"BETSDB_PG_POOL_SIZE": str(2 * IN_FLIGHT)})
    locker = psycopg2.connect(database_url)
    watcher = psycopg2.connect(database_url)
    watcher.autocommit = True
    try:
        api = server.api(admin_token)
        users = [expect_json(api.post("/v1/users", token=admin_token, json={
            "email": unique_email(), "name": f"Term {i}", "balance": 10_000}), 201) for i in range(IN_FLIGHT)]
        # A match per bet, so that no bet waits for another's row.
        matches = [expect_json(api.post("/v1/matches", token=admin_token, json={
            "team_1": unique_team("Home"), "team_2": unique_team("Away"), "date": future_date(),
            "odds": {"1": 2.5}}), 201) for _ in range(IN_FLIGHT)]
        api.close()

        # An idle keep-alive connection that SIGTERM must close.
        idle = connect(server.port)
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        assert read_http_response(idle)[0] == 200

        results, threads = _hold_in_flight(server, admin_token, db, locker, watcher, users, matches)
        server.terminate()
        wait_port_refuses(server.port, 10, "the listener to close after SIGTERM")
        wait_closed(idle, 10, "an idle keep-alive connection to be closed after SIGTERM")
        idle.close()
        assert server.proc.poll() is None, "the server exited with requests still in flight"
        locker.rollback()  # the in-flight requests may proceed now

        for t in threads:
            t.join(timeout=3 * REQUEST_TIMEOUT_S)
        assert not any(t.is_alive() for t in threads), "in-flight requests did not complete"
        for i, resp in enumerate(results):
            assert not isinstance(resp, Exception), f"in-flight request {i} failed: {resp!r}"
            assert resp.status_code == 201, describe(resp)
            assert resp.headers.get("Connection", "").lower() == "close", dict(resp.headers)
        server.wait_exit()

        for i, user in enumerate(users):
            expected = 10_000 + 500 if i % 2 else 10_000 - 1000
            assert db.balance(user["id"]) == expected, (user, db.balance(user["id"]))
            assert db.ledger_rows(user["id"]) == 2
        bets_db.expect_invariant("after SIGTERM:")
    finally:
        locker.close()
        watcher.close()
        server.kill()


GRACE_MS = 1000


@pytest.mark.concurrency
def test_sigterm_past_the_grace_period_exits_cleanly_with_requests_still_in_flight(tmp_path, admin_token, db,
                                                                                   bets_db):
    """Requests that cannot finish (their rows stay locked) and an open live
    stream when SIGTERM comes, with a 1 s grace period: the server exits
    within it, with code 0 and no sanitizer report, although handlers were
    still suspended (their frames are destroyed at exit, after the loop
    stopped). What the abandoned requests did is all or nothing: each
    bettor's balance is what their ledger rows say."""
    database_url = required_env("BETSDB_TEST_DATABASE_URL")
    server = ServerProcess(tmp_path, name="betsdb-grace", admin_token=admin_token,
                           database_url=database_url,
                           extra_env={"BETSDB_PG_POOL_SIZE": str(2 * IN_FLIGHT),
                                      "BETSDB_SHUTDOWN_GRACE_MS": str(GRACE_MS)})
    locker = psycopg2.connect(database_url)
    watcher = psycopg2.connect(database_url)
    watcher.autocommit = True
    stream = None
    try:
        api = server.api(admin_token)
        users = [expect_json(api.post("/v1/users", token=admin_token, json={
            "email": unique_email(), "name": f"Grace {i}", "balance": 10_000}), 201) for i in range(IN_FLIGHT)]
        matches = [expect_json(api.post("/v1/matches", token=admin_token, json={
            "team_1": unique_team("Home"), "team_2": unique_team("Away"), "date": future_date(),
            "odds": {"1": 2.5}}), 201) for _ in range(IN_FLIGHT)]
        api.close()

        stream = connect(server.port)
        stream.sendall(b"GET /v1/stream HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n")
        assert b" 200 " in stream.recv(4096).split(b"\r\n", 1)[0]

        results, threads = _hold_in_flight(server, admin_token, db, locker, watcher, users, matches)

        server.terminate()
        # The rows are still locked: nothing in flight can finish by itself.
        server.wait_exit(timeout=GRACE_MS / 1000 + PROCESS_STOP_S)
        for t in threads:
            t.join(timeout=3 * REQUEST_TIMEOUT_S)
        assert not any(t.is_alive() for t in threads), "a client still waits on a server that exited"
        answered = [r for r in results if not isinstance(r, Exception)]
        assert all(r.status_code in (201, 503) for r in answered), [describe(r) for r in answered]

        # The statements the server abandoned end one way or the other once
        # the rows are free; then every balance matches its ledger. Each
        # balance and its ledger rows are read in one statement (one
        # snapshot): read apart, a commit between the two reads would look
        # like half a write.
        locker.rollback()
        poll_until(lambda: _busy(watcher) == 0, 30, "the abandoned statements to end")
        for i, user in enumerate(users):
            balance, rows = _balance_and_ledger_rows(watcher, db, user["id"])
            assert rows in (1, 2), (user, rows)
            change = (500 if i % 2 else -1000) * (rows - 1)
            assert balance == 10_000 + change, (user, rows, balance)
        bets_db.expect_invariant("after a SIGTERM past its grace period:")
    finally:
        if stream is not None:
            stream.close()
        locker.close()
        watcher.close()
        server.kill()


def _in_flight(base_url):
    """Requests the server has begun and not answered (this scrape included)."""
    return scrape(base_url)[("betsdb_http_requests_in_flight", frozenset())]


def _hold_in_flight(server, admin_token, db, locker, watcher, users, matches):
    """Sends IN_FLIGHT requests (deposits and bets, one per user) that hang
    inside the server: `locker` holds the users' rows. Returns their results
    (filled in as they end: a response or the exception) and threads."""
    with locker.cursor() as cur:
        cur.execute(f"SELECT id FROM {db.users_table} WHERE id = ANY(%s) FOR UPDATE",
                    ([u["id"] for u in users],))
    results = [None] * IN_FLIGHT
    ready = threading.Barrier(IN_FLIGHT)

    def in_flight(i):
        client = Api(server.base_url, admin_token)
        try:
            client.get("/healthz")  # connect first: the request itself is what is in flight
            ready.wait(timeout=REQUEST_TIMEOUT_S)
            user = users[i]
            if i % 2:
                results[i] = client.post(f"/v1/users/{user['id']}/deposits", json={"amount": 500},
                                         token=admin_token)
            else:
                results[i] = client.post("/v1/bets", token=user["token"], json={
                    "user_id": user["id"], "match_id": matches[i]["id"], "selection": "1", "stake": 1000})
        except Exception as exc:  # recorded and asserted on by the caller
            results[i] = exc
        finally:
            client.close()

    threads = [threading.Thread(target=in_flight, args=(i,), daemon=True) for i in range(IN_FLIGHT)]
    for t in threads:
        t.start()
    # Every request inside the server: the deposits and some bets wait on
    # the locked rows in PostgreSQL; a shard sends at most two placing
    # statements at once (store/pg/placement_batcher.hpp), so the other
    # bets wait in its queue, to go as one batch when a statement answers.
    deposits = IN_FLIGHT // 2
    poll_until(lambda: _waiting(watcher) >= deposits + 2 and _in_flight(server.base_url) > IN_FLIGHT, 30,
               f"{IN_FLIGHT} requests in flight, the deposits and some bets waiting on the locked rows")
    return results, threads


def _busy(conn):
    """Other sessions running a statement or inside a transaction."""
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)') "
                    "AND pid <> pg_backend_pid()")
        return cur.fetchone()[0]


def _balance_and_ledger_rows(conn, db, user_id):
    with conn.cursor() as cur:
        cur.execute(f"SELECT u.balance, (SELECT count(*) FROM {db.ledger_table} l WHERE l.user_id = u.id) "
                    f"FROM {db.users_table} u WHERE u.id = %s", (user_id,))
        return cur.fetchone()


def _waiting(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
        return cur.fetchone()[0]

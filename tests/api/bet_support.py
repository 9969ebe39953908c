"""Helpers for the bet, settlement, idempotency and fault tests (API.md: Bets,
Matches/result, Idempotency).

Like api_support, written against the contract; the only knowledge of the
server's insides is what the contract itself names (the lock's Redis key, the
ledger's columns) and where to find the binary to start a second instance.
"""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_FLOOR, Decimal

import pytest
import redis as redis_lib
import requests

import redis_keys
from api_support import Api, REQUEST_TIMEOUT_S, describe, expect_json, expect_problem

BET_KEYS = {"id", "user_id", "match_id", "selection", "stake", "odds", "potential_payout",
            "status", "created_at", "settled_at", "odds_version", "type", "cash_out_amount"}
SETTLED_KEYS = {"won", "lost", "void", "paid_out", "refunded"}

# "Stakes are 1 .. 100000000", "deposits and initial balances 1 .. 10^12".
MIN_STAKE = 1
MAX_STAKE = 100_000_000
MAX_DEPOSIT = 10**12

MISSING_ID = 2_000_000_000

# Time a freshly started betsdb (an AddressSanitizer build) may take to answer
# /healthz, and a SIGTERM'd one to exit: generous, since the machine is shared.
PROCESS_START_S = 60
PROCESS_STOP_S = 60
# Time a betsdb may take to reconnect to a restarted Redis (the client's
# back-off tops out at about a second; this leaves room for a loaded machine).
RECONNECT_S = 30
# Interval between two probes of a condition polled with a deadline.
POLL_INTERVAL_S = 0.05
# How long concurrent workers wait for each other at the start line.
BARRIER_TIMEOUT_S = 60

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer")


# --------------------------------------------------------------------------
# Bodies, requests, expectations
# --------------------------------------------------------------------------

def bet_body(user, match, selection="1", stake=1000):
    return {"user_id": user.id, "match_id": match["id"], "selection": selection, "stake": stake}


def place_bet(api, user, match, selection="1", stake=1000, key=None):
    headers = {"Idempotency-Key": key} if key is not None else None
    return api.post("/v1/bets", json=bet_body(user, match, selection, stake), token=user.token,
                    headers=headers)


def expected_payout(stake, odds):
    """floor(stake * odds), exactly (odds as the contract's decimal, e.g. "2.10")."""
    return int((Decimal(stake) * Decimal(str(odds))).to_integral_value(rounding=ROUND_FLOOR))


def expect_bet(resp, status, user, match, selection, stake, odds):
    """A bet answer of the contract's shape for these inputs; returns it."""
    bet = expect_json(resp, status)
    assert set(bet.keys()) == BET_KEYS, describe(resp)
    assert isinstance(bet["id"], int) and bet["id"] > 0, describe(resp)
    assert bet["user_id"] == user.id, describe(resp)
    assert bet["match_id"] == match["id"], describe(resp)
    assert bet["selection"] == selection, describe(resp)
    assert bet["stake"] == stake, describe(resp)
    assert Decimal(str(bet["odds"])) == Decimal(str(odds)), describe(resp)
    assert bet["potential_payout"] == expected_payout(stake, odds), describe(resp)
    return bet


def lock_key(user_id, match):
    """API.md: bet:{user_id}:{team_1}:{team_2}:{date} (redis_keys.bet_lock)."""
    return redis_keys.bet_lock(user_id, match)


def user_balance(api, admin_token, user_id):
    return expect_json(api.get(f"/v1/users/{user_id}", token=admin_token), 200)["balance"]


def deposit(api, admin_token, user_id, amount):
    return expect_json(
        api.post(f"/v1/users/{user_id}/deposits", json={"amount": amount}, token=admin_token), 201)


def settle(api, admin_token, match_id, result):
    return api.post(f"/v1/matches/{match_id}/result", json={"result": result}, token=admin_token)


def transactions(api, token, user_id):
    """The whole ledger of a user via the API (admin's or owner's token), oldest first."""
    items = []
    offset = 0
    while True:
        page = expect_json(api.get(f"/v1/users/{user_id}/transactions",
                                   params={"limit": 100, "offset": offset}, token=token), 200)
        items.extend(page["items"])
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            break
    return list(reversed(items))


LEDGER_SIGN = {"deposit": 1, "stake": -1, "payout": 1, "refund": 1, "cash_out": 1}


def expect_consistent_ledger(api, admin_token, user_id):
    """Every row's balance_after is the running sum, signs fit the kinds, bet
    rows name their bet, and the balance is the sum. Returns the rows."""
    rows = transactions(api, admin_token, user_id)
    running = 0
    for row in rows:
        assert row["kind"] in LEDGER_SIGN, row
        assert row["amount"] * LEDGER_SIGN[row["kind"]] > 0, row
        if row["kind"] == "deposit":
            assert row["bet_id"] is None, row
        else:
            assert isinstance(row["bet_id"], int) and row["bet_id"] > 0, row
        running += row["amount"]
        assert row["balance_after"] == running, (user_id, row, rows)
        assert row["balance_after"] >= 0, row
    assert user_balance(api, admin_token, user_id) == running, (user_id, rows)
    return rows


def ledger_of_kind(rows, kind):
    return [row for row in rows if row["kind"] == kind]


# --------------------------------------------------------------------------
# Direct database checks
# --------------------------------------------------------------------------

class BetsDb:
    """SQL checks on top of conftest's Db: the bets table (found by its columns,
    like Db's tables), the ledger invariant and non-negative balances."""

    def __init__(self, db):
        self.db = db
        self.bets_table = db._find_table({"potential_payout", "stake", "selection"}, "bets")

    def bet_count(self, user_id=None, match_id=None, status=None):
        where, params = [], []
        for column, value in (("user_id", user_id), ("match_id", match_id), ("status", status)):
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        sql = f"SELECT count(*) FROM {self.bets_table}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return self.db.scalar(sql, tuple(params))

    def ledger_kinds(self, user_id):
        """[(kind, amount)] of a user, oldest first."""
        return self.db.query(
            f"SELECT kind, amount FROM {self.db.ledger_table} WHERE user_id = %s ORDER BY id",
            (user_id,))

    def negative_balances(self):
        return self.db.query(f"SELECT id, balance FROM {self.db.users_table} WHERE balance < 0")

    def expect_invariant(self, context=""):
        """API.md: balance == sum(amount) over the ledger, for every user; no
        balance below zero."""
        broken = self.db.users_breaking_ledger_invariant()
        assert broken == [], f"{context} users with balance != sum(ledger): {broken[:20]}"
        negative = self.negative_balances()
        assert negative == [], f"{context} negative balances: {negative[:20]}"
        unguarded = self.accumulator_guards_out_of_step()
        assert unguarded == [], \
            f"{context} pending accumulators without their guard row, or guards of finished ones: {unguarded[:20]}"

    def accumulator_guards_out_of_step(self):
        """(bet id, guard's bet id) where pending_accumulators (the duplicate
        guard, one row per pending accumulator: docs/operations.md) and the
        pending accumulators differ."""
        schema = self.bets_table.split(".")[0]
        return self.db.query(f"""
            SELECT b.id, g.bet_id
              FROM (SELECT id, user_id, legs_key FROM {self.bets_table}
                     WHERE type = 'accumulator' AND status = 'pending') b
              FULL JOIN {schema}."pending_accumulators" g
                ON g.bet_id = b.id AND g.user_id = b.user_id AND g.legs_key = b.legs_key
             WHERE b.id IS NULL OR g.bet_id IS NULL""")


# --------------------------------------------------------------------------
# Concurrency
# --------------------------------------------------------------------------

def run_concurrently(base_urls, admin_token, count, request):
    """Runs request(api, i) in `count` threads started together.

    Thread i talks to base_urls[i % len(base_urls)] with its own Api (a fresh
    requests.Session) whose keep-alive connection is opened before the
    barrier, so the requests themselves leave at the same moment. Returns the
    results in order.
    """
    barrier = threading.Barrier(count)

    def worker(i):
        client = Api(base_urls[i % len(base_urls)], admin_token)
        try:
            resp = client.get("/healthz")
            assert resp.status_code == 200, describe(resp)
            barrier.wait(timeout=BARRIER_TIMEOUT_S)
            return request(client, i)
        except BaseException:
            barrier.abort()
            raise
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def statuses_and_codes(responses):
    out = []
    for resp in responses:
        code = None
        if resp.status_code >= 400:
            code = resp.json().get("code")
        out.append((resp.status_code, code))
    return out


def expect_exactly_one_bet(api, admin_token, bets_db, responses, user, match, stake, balance_before):
    """Identical bets (selection "1" at odds 2.10) raced: exactly one 201, every
    other answer a 409 bet_in_progress or duplicate_bet, one bet, one debit."""
    outcomes = statuses_and_codes(responses)
    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 1, outcomes
    for resp in responses:
        if resp.status_code != 201:
            problem = expect_problem(resp, 409)
            assert problem["code"] in ("bet_in_progress", "duplicate_bet"), describe(resp)
    bet = expect_bet(created[0], 201, user, match, "1", stake, "2.10")
    assert bets_db.bet_count(user_id=user.id, match_id=match["id"]) == 1
    assert user_balance(api, admin_token, user.id) == balance_before - stake
    rows = expect_consistent_ledger(api, admin_token, user.id)
    assert [r["bet_id"] for r in rows if r["kind"] == "stake"].count(bet["id"]) == 1, rows
    return bet


def poll_until(condition, timeout_s, what):
    """Calls condition() until it returns a true value (returned) or the
    deadline passes (the test fails, naming `what` and the last value)."""
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        last = condition()
        if last:
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s}s waiting for {what}; last: {last!r}")
        time.sleep(POLL_INTERVAL_S)


# --------------------------------------------------------------------------
# Extra processes: a second betsdb, a private Redis
# --------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def required_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set (scripts/test sets it)", pytrace=False)
    return value


def _redis_answers(port):
    client = redis_lib.Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1)
    try:
        return client.ping()
    except redis_lib.RedisError:
        return False
    finally:
        client.close()


def redis_env(redis_url=None):
    """BETSDB_REDIS_URL=redis_url for a server on a Redis of its own, or
    (None) the setting that points it at the suite's Redis: one server's
    URL, or BETSDB_REDIS_CLUSTER in cluster mode."""
    if redis_url is not None:
        return {"BETSDB_REDIS_URL": redis_url}
    return redis_keys.suite_redis_env()


class BetsdbProcess:
    """Another betsdb: the binary of the server under test (via
    /proc/$BETSDB_TEST_SERVER_PID/exe, which works even if the file was
    rebuilt meanwhile), on a free port, with the given database and Redis
    (redis_url None: the suite's, one server or the cluster)."""

    def __init__(self, log_dir, *, database_url, redis_url=None, admin_token, name="betsdb-2"):
        pid = required_env("BETSDB_TEST_SERVER_PID")
        exe = f"/proc/{pid}/exe"
        if not os.path.exists(exe):
            pytest.fail(f"BETSDB_TEST_SERVER_PID={pid} is not a running process", pytrace=False)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(log_dir, f"{name}.log")
        env = {k: v for k, v in os.environ.items() if not k.startswith("BETSDB_")}
        env.update(
            BETSDB_LISTEN=f"127.0.0.1:{self.port}",
            BETSDB_DATABASE_URL=database_url,
            BETSDB_ADMIN_TOKEN=admin_token,
            BETSDB_THREADS="2",
            BETSDB_LOG_LEVEL="warn",
            BETSDB_SIGNUP_RATE_LIMIT="0",
            BETSDB_SIGN_INS_PER_CLIENT="0",
        )
        env.update(redis_env(redis_url))
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(["betsdb", "serve"], executable=exe, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        poll_until(self._healthy, PROCESS_START_S, f"{name} to answer /healthz")

    def _healthy(self):
        if self.proc.poll() is not None:
            pytest.fail(f"betsdb exited with {self.proc.returncode} at start-up:\n{self.log()}",
                        pytrace=False)
        try:
            return requests.get(self.base_url + "/healthz", timeout=REQUEST_TIMEOUT_S).status_code == 200
        except requests.RequestException:
            return False

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")[-20000:]

    def stop(self):
        """SIGTERM; the process must exit 0 and its log hold no sanitizer report."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=PROCESS_STOP_S)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"betsdb did not exit within {PROCESS_STOP_S}s of SIGTERM:\n{self.log()}")
        self._log.close()
        log = self.log()
        assert rc == 0, f"betsdb exited with {rc} on SIGTERM:\n{log}"
        assert not any(m in log for m in SANITIZER_MARKERS), f"sanitizer report:\n{log}"

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


class RedisProcess:
    """A private redis-server on a free port, that a test may kill and start
    again on the same port, in the same directory. Memory-only unless
    `persistence` (redis-server arguments) says otherwise: the fault tests
    want a Redis that comes back empty, as a production Redis still may (a
    new instance, or a crash with persistence off)."""

    MEMORY_ONLY = ("--save", "", "--appendonly", "no")

    def __init__(self, work_dir, persistence=MEMORY_ONLY):
        self.binary = shutil.which("redis-server")
        if not self.binary:
            pytest.fail("redis-server is not installed", pytrace=False)
        self.dir = work_dir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.persistence = list(persistence)
        self.proc = None
        self.start()

    def start(self):
        assert self.proc is None or self.proc.poll() is not None
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             *self.persistence, "--daemonize", "no"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            if self.proc.poll() is not None:
                pytest.fail(f"redis-server on :{self.port} exited with {self.proc.returncode}")
            return _redis_answers(self.port)

        poll_until(up, PROCESS_START_S, f"redis-server on :{self.port}")

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def client(self):
        return redis_lib.Redis(host="127.0.0.1", port=self.port, socket_timeout=PROCESS_STOP_S,
                               decode_responses=True)

    def shutdown(self):
        """SHUTDOWN NOSAVE, as scripts/lib/common.sh's stop_redis; waits for the exit."""
        client = self.client()
        try:
            client.shutdown(nosave=True)
        finally:
            client.close()
        self.proc.wait(timeout=PROCESS_STOP_S)


def parallel_map(base_url, admin_token, fn, items, workers=8):
    """fn(api, item) for every item on `workers` threads, each thread with its
    own Api (requests.Session is not thread-safe). For bulk set-up, not races."""
    local = threading.local()
    clients = []
    lock = threading.Lock()

    def run(item):
        if not hasattr(local, "api"):
            local.api = Api(base_url, admin_token)
            with lock:
                clients.append(local.api)
        return fn(local.api, item)

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(run, items))
    finally:
        for client in clients:
            client.close()


def create_user(api, admin_token, balance):
    """A new user (via the API) as the User of conftest would hold it."""
    from api_support import unique_email
    body = {"email": unique_email(), "name": "Bulk Bettor", "balance": balance}
    return UserRef(expect_json(api.post("/v1/users", json=body, token=admin_token), 201))


class UserRef:
    def __init__(self, body):
        self.id = body["id"]
        self.token = body["token"]
        self.balance = body["balance"]

    def __repr__(self):
        return f"UserRef(id={self.id})"

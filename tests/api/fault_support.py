"""Helpers for the reliability and security tests (issue 6): extra server
processes with their own settings, a private PostgreSQL cluster that a test
may stop and start, background load, raw sockets, and "nothing changed"
snapshots of the database.

Written against /work/shared/API.md and docs/operations.md (the documented
settings, schema and outage behaviour); the suite's shared servers are never
stopped or reconfigured here.
"""

import contextlib
import errno
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import traceback
import weakref

import psycopg2
import pytest
import requests

from api_support import Api, REQUEST_TIMEOUT_S
from bet_support import (
    PROCESS_START_S,
    PROCESS_STOP_S,
    SANITIZER_MARKERS,
    free_port,
    poll_until,
    redis_env,
    required_env,
)

PG_BIN = "/usr/lib/postgresql/15/bin"


# --------------------------------------------------------------------------
# Another betsdb, with settings of the test's choosing
# --------------------------------------------------------------------------

def server_binary():
    """The binary of the server under test (works even if it was rebuilt since)."""
    pid = required_env("BETSDB_TEST_SERVER_PID")
    exe = f"/proc/{pid}/exe"
    if not os.path.exists(exe):
        pytest.fail(f"BETSDB_TEST_SERVER_PID={pid} is not a running process", pytrace=False)
    return exe


class ServerProcess:
    """A betsdb started by a test: same binary as the server under test, on a
    free port, with the given database, Redis (redis_url None: the suite's,
    one server or the cluster) and extra BETSDB_* settings.
    Its output goes to `log_path`; stop() checks exit code 0 and no sanitizer
    report, kill() is for teardown after a failure."""

    def __init__(self, log_dir, *, database_url, redis_url=None, admin_token, name,
                 extra_env=None, log_level="info", wait_healthy=True):
        self.name = name
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(str(log_dir), f"{name}.log")
        env = {k: v for k, v in os.environ.items() if not k.startswith("BETSDB_")}
        env.update(
            BETSDB_LISTEN=f"127.0.0.1:{self.port}",
            BETSDB_DATABASE_URL=database_url,
            BETSDB_ADMIN_TOKEN=admin_token,
            BETSDB_THREADS="2",
            BETSDB_LOG_LEVEL=log_level,
            # The suites create many users and sign them in side by side: no
            # sign-up limit and no cap on sign-ins per address unless a test sets one.
            BETSDB_SIGNUP_RATE_LIMIT="0",
            BETSDB_SIGN_INS_PER_CLIENT="0",
        )
        env.update(redis_env(redis_url))
        env.update(extra_env or {})
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(["betsdb", "serve"], executable=server_binary(), env=env,
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        if wait_healthy:
            poll_until(self._healthy, PROCESS_START_S, f"{name} to answer /healthz")

    @property
    def pid(self):
        return self.proc.pid

    def wait_redis_connected(self, timeout_s=PROCESS_START_S):
        """Until every shard's Redis client is connected (/metrics): /healthz
        answers before, and a request that needs Redis on a shard still
        connecting is a 503, as during an outage."""
        def connected():
            try:
                text = requests.get(self.base_url + "/metrics", timeout=REQUEST_TIMEOUT_S).text
            except requests.RequestException:
                return False
            values = {}
            for line in text.splitlines():
                name, _, value = line.partition(" ")
                if name in ("betsdb_redis_connected", "betsdb_shards"):
                    values[name] = value
            return values.get("betsdb_shards") and values.get("betsdb_redis_connected") == values["betsdb_shards"]

        poll_until(connected, timeout_s, f"{self.name}'s shards to connect to Redis")

    def _healthy(self):
        if self.proc.poll() is not None:
            pytest.fail(f"{self.name} exited with {self.proc.returncode} at start-up:\n{self.log()}",
                        pytrace=False)
        try:
            return requests.get(self.base_url + "/healthz", timeout=REQUEST_TIMEOUT_S).status_code == 200
        except requests.RequestException:
            return False

    def api(self, admin_token):
        return Api(self.base_url, admin_token)

    def log(self, tail=20000):
        with open(self.log_path, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        return text[-tail:] if tail else text

    def rss_kb(self):
        """Resident set size from /proc/PID/status (VmRSS, in kB)."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        pytest.fail(f"no VmRSS for pid {self.pid}")

    def terminate(self):
        self.proc.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout=PROCESS_STOP_S):
        """Waits for the exit after a SIGTERM; asserts exit code 0 and a clean log."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"{self.name} did not exit within {timeout}s of SIGTERM:\n{self.log()}")
        self._log.close()
        log = self.log()
        assert rc == 0, f"{self.name} exited with {rc} on SIGTERM:\n{log}"
        assert not any(m in log for m in SANITIZER_MARKERS), f"sanitizer report:\n{log}"
        return rc

    def stop(self):
        self.terminate()
        return self.wait_exit()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self._log.closed:
            self._log.close()


def own_server(tmp_path_factory, admin_token, name, extra_env):
    """For a module fixture: a server of the module's own on the suite's
    database and Redis, with `extra_env`, up and connected to Redis; stopped
    (and killed if need be) after the module. Use with `yield from`."""
    server = ServerProcess(tmp_path_factory.mktemp(name), name=f"betsdb-{name}",
                           database_url=os.environ["BETSDB_TEST_DATABASE_URL"], admin_token=admin_token,
                           extra_env=extra_env)
    server.wait_redis_connected()
    yield server
    try:
        server.stop()
    finally:
        server.kill()


@contextlib.contextmanager
def started_servers():
    """Yields a list to append ServerProcess objects to; kills leftovers on exit."""
    started = []
    try:
        yield started
    finally:
        for server in started:
            server.kill()


# --------------------------------------------------------------------------
# A private PostgreSQL cluster (stopped and started by fault tests)
# --------------------------------------------------------------------------

class PostgresCluster:
    """initdb into a fresh directory the postgres user owns (under /var/tmp:
    pytest's tmp_path is not reachable by that user), listening on a free
    port, tuned for tests like scripts/lib/common.sh's start_postgres. Needs
    root (runuser), as the project's scripts do."""

    def __init__(self):
        if os.geteuid() != 0 or not shutil.which("runuser"):
            pytest.fail("a private PostgreSQL needs root and runuser (as scripts/lib/common.sh)",
                        pytrace=False)
        if not os.path.exists(os.path.join(PG_BIN, "initdb")):
            pytest.fail(f"PostgreSQL 15 binaries not found in {PG_BIN}", pytrace=False)
        self.home = tempfile.mkdtemp(prefix="betsdb-faults-pg-", dir="/var/tmp")
        shutil.chown(self.home, user="postgres")
        self.data = os.path.join(self.home, "data")
        self.log_path = os.path.join(self.home, "postgres.log")
        self.port = free_port()
        self._pg("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                 "--locale=C.UTF-8")
        self.start()

    def _pg(self, tool, *args, check=True):
        proc = subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(PG_BIN, tool), *args],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=120)
        if check and proc.returncode != 0:
            pytest.fail(f"{tool} {' '.join(args)} failed ({proc.returncode}):\n"
                        f"{proc.stdout.decode(errors='replace')}\n{self.log()}")
        return proc

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")[-5000:]
        except OSError:
            return ""

    def start(self):
        opts = (f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c max_connections=100 "
                "-c fsync=off -c full_page_writes=off")
        # No synchronous_commit=off: an "immediate" stop would then lose
        # commits the server has already reported, which is no server bug.
        self._pg("pg_ctl", "-D", self.data, "-o", opts, "-l", self.log_path, "-w", "-t", "60", "start")

    def stop(self, mode="fast"):
        """mode "fast" terminates sessions and shuts down cleanly; "immediate" is a crash."""
        self._pg("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")

    def running(self):
        return os.path.exists(os.path.join(self.data, "postmaster.pid"))

    def url(self, dbname="postgres"):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name):
        conn = psycopg2.connect(self.url())
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)

    def destroy(self):
        if self.running():
            self._pg("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "-t", "60", "stop", check=False)
        shutil.rmtree(self.home, ignore_errors=True)


# --------------------------------------------------------------------------
# Background load
# --------------------------------------------------------------------------

class Outcome:
    """One request of a load run: what, when (monotonic), and how it ended."""

    __slots__ = ("op", "worker", "started", "ended", "status", "code", "body", "error")

    def __init__(self, op, worker, started, ended, status=None, code=None, body=None, error=None):
        self.op, self.worker, self.started, self.ended = op, worker, started, ended
        self.status, self.code, self.body, self.error = status, code, body, error

    def __repr__(self):
        what = self.error if self.error else f"{self.status} {self.code or ''}".strip()
        return f"<{self.op} w{self.worker} @{self.started:.2f}s {what}>"


class Load:
    """Runs step(api, worker, iteration) -> (op_name, response) in `workers`
    threads, each with its own Api, until stop(). Every request is recorded
    as an Outcome; exceptions (timeouts, resets) are outcomes too, never lost.
    Times are seconds since the load started."""

    def __init__(self, base_url, admin_token, workers, step):
        self.base_url = base_url
        self.admin_token = admin_token
        self.step = step
        self.outcomes = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.t0 = time.monotonic()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                         for i in range(workers)]
        self.crashes = []
        for t in self._threads:
            t.start()

    def now(self):
        return time.monotonic() - self.t0

    def _run(self, worker):
        client = Api(self.base_url, self.admin_token)
        iteration = 0
        try:
            while not self._stop.is_set():
                started = self.now()
                op = "?"
                try:
                    op, resp = self.step(client, worker, iteration)
                    if resp is None:
                        iteration += 1
                        continue
                    code = None
                    body = None
                    if resp.headers.get("Content-Type", "").startswith(("application/json",
                                                                           "application/problem+json")):
                        try:
                            body = resp.json()
                        except ValueError:
                            body = None
                    if resp.status_code >= 400 and isinstance(body, dict):
                        code = body.get("code")
                    outcome = Outcome(op, worker, started, self.now(), resp.status_code, code, body)
                except requests.RequestException as exc:
                    outcome = Outcome(op, worker, started, self.now(), error=f"{type(exc).__name__}: {exc}")
                    # A broken keep-alive connection must not poison later requests.
                    client.close()
                    client = Api(self.base_url, self.admin_token)
                with self._lock:
                    self.outcomes.append(outcome)
                iteration += 1
        except BaseException:  # a bug in the test's step: report it, do not hang
            with self._lock:
                self.crashes.append(traceback.format_exc())
        finally:
            client.close()

    def snapshot(self):
        with self._lock:
            return list(self.outcomes)

    def wait_for(self, predicate, timeout_s, what):
        """Polls the outcomes so far until predicate(outcomes) is true."""
        def check():
            assert not self.crashes, self.crashes[0]
            return predicate(self.snapshot())
        return poll_until(check, timeout_s, what)

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=REQUEST_TIMEOUT_S * 2)
        alive = [t for t in self._threads if t.is_alive()]
        assert not alive, f"{len(alive)} load threads still running (a request hung?)"
        assert not self.crashes, self.crashes[0]
        return self.snapshot()


def unexpected_outcomes(outcomes, allowed):
    """Outcomes whose (op, status) is not in allowed[op] (a set of statuses);
    exceptions are always unexpected."""
    bad = []
    for o in outcomes:
        if o.error is not None or o.status not in allowed.get(o.op, ()):
            bad.append(o)
    return bad


def summarize(outcomes):
    """{op: {status-or-error: count}}, for assertion messages."""
    out = {}
    for o in outcomes:
        key = o.error.split(":")[0] if o.error else f"{o.status}{' ' + o.code if o.code else ''}"
        out.setdefault(o.op, {}).setdefault(key, 0)
        out[o.op][key] += 1
    return out


# --------------------------------------------------------------------------
# Raw sockets
# --------------------------------------------------------------------------

def connect(port, timeout=5.0):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def peer_closed(sock):
    """True if the peer has closed (EOF or reset), without blocking. Data the
    server sent first (e.g. a 408 or a response) is read and dropped."""
    timeout = sock.gettimeout()
    sock.settimeout(0.0)  # with a timeout, Python's recv would wait despite MSG_DONTWAIT
    try:
        return _peer_closed_now(sock)
    finally:
        sock.settimeout(timeout)


def _peer_closed_now(sock):
    while True:
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        except OSError as exc:
            if exc.errno in (errno.ECONNRESET, errno.EPIPE, errno.ENOTCONN):
                return True
            raise
        if not chunk:
            return True


# Bytes read past a response, per socket (pipelined answers).
_BUFFERS = weakref.WeakKeyDictionary()


def read_http_response(sock, timeout_s=REQUEST_TIMEOUT_S):
    """Reads one HTTP/1.1 response with a Content-Length body from a raw
    socket. Returns (status, headers-dict lower-cased, body bytes), or None if
    the peer closed before a full response arrived. Bytes beyond the response
    (pipelining) are kept for the next call on the same socket."""
    deadline = time.monotonic() + timeout_s
    data = _BUFFERS.pop(sock, b"")
    while b"\r\n\r\n" not in data:
        chunk = _recv_until(sock, deadline)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = _recv_until(sock, deadline)
        if not chunk:
            return None
        rest += chunk
    if len(rest) > length:
        _BUFFERS[sock] = rest[length:]
    return status, headers, rest[:length]


def _recv_until(sock, deadline):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        pytest.fail("timed out reading a response from the server")
    sock.settimeout(remaining)
    try:
        return sock.recv(65536)
    except (ConnectionResetError, BrokenPipeError):
        return b""
    except socket.timeout:
        pytest.fail("timed out reading a response from the server")


def wait_closed(sock, timeout_s, what):
    """Polls until the server has closed `sock`; returns the seconds it took."""
    start = time.monotonic()
    poll_until(lambda: peer_closed(sock), timeout_s, what)
    return time.monotonic() - start


# --------------------------------------------------------------------------
# Database: "nothing changed", duplicates, the ledger
# --------------------------------------------------------------------------

def table_fingerprint(db, table):
    """(row count, md5 of every row in id order): any insert, update or delete shows."""
    return db.query(
        f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM {table} t")[0]


def db_snapshot(db, bets_db):
    return {
        "users": table_fingerprint(db, db.users_table),
        "matches": table_fingerprint(db, db.matches_table),
        "bets": table_fingerprint(db, bets_db.bets_table),
        "ledger": table_fingerprint(db, db.ledger_table),
    }


@contextlib.contextmanager
def nothing_changes(db, bets_db, redis=None, keys=()):
    """Asserts that the tables (and the given Redis keys) are the same after
    the block as before. Tests run one at a time, so any change is the block's."""
    def redis_state():
        out = {}
        for key in keys:
            kind = redis.type(key)
            if kind == "hash":
                out[key] = (kind, redis.hgetall(key))
            elif kind == "string":
                out[key] = (kind, redis.get(key))
            else:
                out[key] = (kind, None)
        return out

    before = db_snapshot(db, bets_db)
    redis_before = redis_state() if redis is not None else None
    yield
    after = db_snapshot(db, bets_db)
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, f"rejected requests changed the tables {changed}: {before} -> {after}"
    if redis is not None:
        redis_after = redis_state()
        assert redis_after == redis_before, f"rejected requests changed Redis: {redis_before} -> {redis_after}"


def duplicate_bets(db, bets_table):
    """(user, match, selection) with more than one live single, or (user,
    legs) with more than one pending accumulator: must be none."""
    return db.query(
        f"SELECT user_id, match_id, selection, count(*) FROM {bets_table} "
        f"WHERE status <> 'void' AND type = 'single' GROUP BY user_id, match_id, selection "
        f"HAVING count(*) > 1 "
        f"UNION ALL SELECT user_id, NULL, legs_key, count(*) FROM {bets_table} "
        f"WHERE status = 'pending' AND type = 'accumulator' GROUP BY user_id, legs_key "
        f"HAVING count(*) > 1")


def bets_without_one_stake_row(db, bets_table):
    """Bets whose ledger does not hold exactly one 'stake' row of -stake: a
    partial write (bet without debit, or debit twice)."""
    return db.query(
        f"""
        SELECT b.id, b.stake, count(l.*), coalesce(sum(l.amount), 0)
          FROM {bets_table} b
          LEFT JOIN {db.ledger_table} l ON l.bet_id = b.id AND l.kind = 'stake'
         GROUP BY b.id, b.stake
        HAVING count(l.*) <> 1 OR coalesce(sum(l.amount), 0) <> -b.stake
        """)


def expect_money_consistent(db, bets_db, context=""):
    """Ledger invariant, no negative balance, no duplicate bet, one stake row per bet."""
    bets_db.expect_invariant(context)
    dups = duplicate_bets(db, bets_db.bets_table)
    assert dups == [], f"{context} duplicate live bets: {dups[:20]}"
    partial = bets_without_one_stake_row(db, bets_db.bets_table)
    assert partial == [], f"{context} bets without exactly one stake ledger row: {partial[:20]}"


def wait_port_refuses(port, timeout_s, what):
    """Polls until connecting to the port is refused (the listener is closed)."""
    def refused():
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=1)
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
        sock.close()
        return False

    poll_until(refused, timeout_s, what)


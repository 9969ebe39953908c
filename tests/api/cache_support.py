"""Helpers for the read-cache tests (API.md: Caching (Redis)).

The contract names the cache's key prefixes and TTLs (redis_keys holds the
layout), and /metrics its counters; that, the database and the HTTP answers
are all these helpers look at. Entries are found as "the keys under a
prefix that a read added", never by rebuilding a whole entry key.
"""

import re
import socket
import threading
import time

import pytest
import requests

import redis_keys
from api_support import REQUEST_TIMEOUT_S, describe, expect_json

# API.md: "TTL = configured seconds (default 60) plus a random 0..10 s jitter";
# the suite's server runs with the default.
CACHE_TTL_S = 60
MAX_JITTER_S = 10

PREFIXES = redis_keys.ENTRY_PREFIXES

# How long a cache entry may take to appear after the read that fills it
# (servers may store in the background), on a loaded machine.
STORE_S = 10
POLL_INTERVAL_S = 0.02


# --------------------------------------------------------------------------
# Redis side
# --------------------------------------------------------------------------

def keys_under(redis, prefix):
    """Every key starting with `prefix` (on every master in cluster mode)."""
    return redis_keys.scan_keys(redis, redis_keys.glob_escape(prefix) + "*")


def wait_for_new_keys(redis, prefix, before, what):
    """Polls until keys under `prefix` exist that were not in `before`; returns them."""
    deadline = time.monotonic() + STORE_S
    while True:
        new = keys_under(redis, prefix) - before
        if new:
            return new
        if time.monotonic() > deadline:
            pytest.fail(f"no new {prefix}* key within {STORE_S}s after {what}")
        time.sleep(POLL_INTERVAL_S)


def expect_fresh_ttl(redis, key, since):
    """The key's TTL is within [ttl, ttl + jitter] as set, allowing for the
    time elapsed since `since` (time.monotonic() before the read that set it)."""
    left_ms = redis.pttl(key)
    elapsed_ms = (time.monotonic() - since) * 1000 + 1  # Redis's clock has whole milliseconds
    assert left_ms != -1, f"{key} has no TTL"
    assert left_ms != -2, f"{key} vanished"
    assert left_ms <= (CACHE_TTL_S + MAX_JITTER_S) * 1000, (key, left_ms)
    assert left_ms >= CACHE_TTL_S * 1000 - elapsed_ms, (key, left_ms, elapsed_ms)
    return left_ms


# --------------------------------------------------------------------------
# /metrics
# --------------------------------------------------------------------------

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

CACHE_EVENTS = "betsdb_cache_events_total"


def scrape(base_url):
    """The server's Prometheus samples as {(name, frozenset(labels)): value}."""
    resp = requests.get(base_url + "/metrics", timeout=REQUEST_TIMEOUT_S)
    assert resp.status_code == 200, f"/metrics is needed to count cache events: {describe(resp)}"
    samples = {}
    for line in resp.text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        labels = frozenset(_LABEL.findall(m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def cache_events(base_url, namespace):
    """{event: count} of one cache namespace ("matches:list", "bets_summary", ...)."""
    events = {}
    for (name, labels), value in scrape(base_url).items():
        if name != CACHE_EVENTS:
            continue
        labels = dict(labels)
        if labels.get("namespace") == namespace:
            events[labels["event"]] = int(value)
    assert {"hit", "miss", "error", "load"} <= events.keys(), \
        f"{CACHE_EVENTS} lacks events of namespace {namespace!r}: {events}"
    return events


def delta(after, before):
    return {k: after[k] - before.get(k, 0) for k in after}


def read_counted(base_url, namespace, read):
    """read() with the namespace's cache events around it. A read that found
    Redis too slow (event "error", answered from PostgreSQL by design) is
    retried, so that a loaded machine cannot turn a hit into a false failure."""
    for _ in range(3):
        before = cache_events(base_url, namespace)
        result = read()
        events = delta(cache_events(base_url, namespace), before)
        if events["error"] == 0:
            return result, events
    pytest.fail(f"every read of {namespace} timed out on Redis: {events}")


# --------------------------------------------------------------------------
# Database truth, for "every cached endpoint agrees with the database"
# --------------------------------------------------------------------------

BET_FIELDS = ("id", "user_id", "match_id", "selection", "stake", "potential_payout", "status")


class Truth:
    """Answers of the cached endpoints computed by SQL (API.md: Bets, Matches)."""

    def __init__(self, db, bets_db):
        self.db = db
        self.bets = bets_db.bets_table

    def bet_rows(self, where="", params=(), limit=100):
        rows = self.db.query(
            f"SELECT id, user_id, match_id, selection, stake, potential_payout, status "
            f"FROM {self.bets} {where} ORDER BY created_at DESC, id DESC LIMIT %s",
            tuple(params) + (limit,))
        return [dict(zip(BET_FIELDS, row)) for row in rows]

    def bet_count(self, where="", params=()):
        return self.db.scalar(f"SELECT count(*) FROM {self.bets} {where}", tuple(params))

    def summary(self):
        total, stake = self.db.query(f"SELECT count(*), coalesce(sum(stake), 0) FROM {self.bets}")[0]
        by_status = {s: {"count": 0, "stake": 0}
                     for s in ("pending", "won", "lost", "void", "cashed_out")}
        for status, count, amount in self.db.query(
                f"SELECT status, count(*), sum(stake) FROM {self.bets} GROUP BY status"):
            by_status[status] = {"count": count, "stake": amount}
        by_type = {t: {"count": 0, "stake": 0} for t in ("single", "accumulator")}
        for kind, count, amount in self.db.query(
                f"SELECT type, count(*), sum(stake) FROM {self.bets} GROUP BY type"):
            by_type[kind] = {"count": count, "stake": amount}
        # Singles only: an accumulator has neither a selection nor a match.
        by_selection = {s: {"count": 0, "stake": 0} for s in ("1", "X", "2")}
        for selection, count, amount in self.db.query(
                f"SELECT selection, count(*), sum(stake) FROM {self.bets} "
                f"WHERE type = 'single' GROUP BY selection"):
            by_selection[selection] = {"count": count, "stake": amount}
        top = [{"match_id": m, "bets": n, "stake": s} for m, n, s in self.db.query(
            f"SELECT match_id, count(*), sum(stake) FROM {self.bets} WHERE type = 'single' "
            f"GROUP BY match_id ORDER BY sum(stake) DESC, match_id ASC LIMIT 10")]
        return {"total_bets": total, "total_stake": stake, "by_status": by_status,
                "by_type": by_type, "by_selection": by_selection, "top_matches": top}

    def match_ids_with_team(self, team):
        """As a set: the date column's name is the server's business."""
        return {row[0] for row in self.db.query(
            f"SELECT id FROM {self.db.matches_table} "
            f"WHERE lower(team_1) = lower(%s) OR lower(team_2) = lower(%s)", (team, team))}


def bet_view(bet):
    return {k: bet[k] for k in BET_FIELDS}


# --------------------------------------------------------------------------
# Threads
# --------------------------------------------------------------------------

class Failures:
    """Collects exceptions from worker threads, so the test can re-raise the first."""

    def __init__(self):
        self._lock = threading.Lock()
        self.errors = []

    def record(self, exc):
        with self._lock:
            self.errors.append(exc)

    def __bool__(self):
        with self._lock:
            return bool(self.errors)

    def raise_first(self):
        with self._lock:
            if self.errors:
                raise self.errors[0]


def get_json(api, path, token=None, params=None):
    return expect_json(api.get(path, token=token, params=params), 200)


# --------------------------------------------------------------------------
# A slow reader, made to order
# --------------------------------------------------------------------------

class HoldingProxy:
    """A TCP proxy in front of PostgreSQL that can hold back the answer of the
    next query that returns rows (its CommandComplete "SELECT n"), and every
    later byte on that connection, until release(). Other connections, and
    answers of other kinds (handshakes, BEGIN, INSERT, COMMIT), pass.

    With it a test can let a read's query run in PostgreSQL (its snapshot
    taken) and keep the server from seeing the rows while a write commits:
    the slow reader of the cache-aside race, without any sleep."""

    _TAG = b"SELECT "

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._cond = threading.Condition()
        self._arming = False        # hold the next rows answer
        self._holding = None        # the connection being held (its pump's id)
        self._closed = False
        self._sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._cond:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, src, dst, from_database):
        tail = b""
        me = object()
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            if from_database:
                with self._cond:
                    if self._arming and self._TAG in tail + data:
                        self._arming = False
                        self._holding = me
                        self._cond.notify_all()
                    while self._holding is me and not self._closed:
                        self._cond.wait()
                tail = data[-len(self._TAG):]
            try:
                dst.sendall(data)
            except OSError:
                return

    def hold_next_rows(self):
        with self._cond:
            assert self._holding is None, "already holding an answer"
            self._arming = True

    def wait_held(self, timeout_s):
        with self._cond:
            return self._cond.wait_for(lambda: self._holding is not None, timeout_s)

    def release(self):
        with self._cond:
            self._arming = False
            self._holding = None
            self._cond.notify_all()

    def close(self):
        with self._cond:
            self._closed = True
            self._holding = None
            self._cond.notify_all()
            sockets = list(self._sockets)
        self._listener.close()
        for s in sockets:
            try:
                s.close()
            except OSError:
                pass

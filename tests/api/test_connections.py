"""Slow, silent and idle clients cannot exhaust the server (issue 6;
docs/operations.md: BETSDB_REQUEST_TIMEOUT_MS, BETSDB_IDLE_TIMEOUT_MS,
BETSDB_MAX_CONNECTIONS).

The suite's server runs with the default timeouts (10 s / 30 s), too slow to
wait for, so these tests start their own betsdb processes (same binary,
database and Redis) with short timeouts and a small connection cap, and talk
to them over raw sockets.

The pauses between the bytes a slow client sends are the point of the test
(they simulate the client), not waits for the server: every wait for the
server is a bounded poll for a condition.
"""

import resource
import socket
import time

import pytest
import requests

from api_support import unique_email
from bet_support import poll_until, required_env
from fault_support import (
    ServerProcess,
    connect,
    peer_closed,
    read_http_response,
    wait_closed,
)

REQUEST_TIMEOUT_S = 1.0
IDLE_TIMEOUT_S = 1.0
MAX_CONNECTIONS = 200  # per thread
THREADS = 2
# What the machine may add to a timeout before the server acts on it (an
# ASan build on a shared 2-core machine).
SLACK_S = 5.0
# A slow client's pace: one byte every so often, well under the request timeout.
TRICKLE_INTERVAL_S = 0.2

# The connection-cap test: more sockets than the cap, and an idle timeout long
# enough to tell "closed because over the cap" (at once) from "closed because
# idle" (after IDLE_TIMEOUT_CAP_S).
FLOOD_SOCKETS = 1500
KEEP_ALIVE_SOCKETS = 50
IDLE_TIMEOUT_CAP_S = 6.0
# A normal request during the flood must be answered this fast.
QUICK_S = 2.0


def _raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.fail(f"RLIMIT_NOFILE hard limit {hard} < {need}: cannot open the sockets this test needs",
                    pytrace=False)
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def _start(tmp_path_factory, admin_token, name, **settings):
    env = {f"BETSDB_{k.upper()}": str(v) for k, v in settings.items()}
    return ServerProcess(tmp_path_factory.mktemp(name), name=name,
                         database_url=required_env("BETSDB_TEST_DATABASE_URL"),
                         admin_token=admin_token, extra_env=env)


@pytest.fixture(scope="module")
def fast_server(tmp_path_factory, admin_token, _server_is_up):
    """Request and idle timeouts of a second, 200 connections per thread."""
    _raise_nofile(FLOOD_SOCKETS + 1000)  # inherited by the servers started below
    server = _start(tmp_path_factory, admin_token, "betsdb-timeouts",
                    request_timeout_ms=int(REQUEST_TIMEOUT_S * 1000), idle_timeout_ms=int(IDLE_TIMEOUT_S * 1000),
                    max_connections=MAX_CONNECTIONS, threads=THREADS)
    yield server
    try:
        server.stop()
    finally:
        server.kill()


@pytest.fixture(scope="module")
def capped_server(tmp_path_factory, admin_token, _server_is_up):
    """The cap of fast_server, with an idle timeout long enough to observe it."""
    _raise_nofile(FLOOD_SOCKETS + 1000)
    server = _start(tmp_path_factory, admin_token, "betsdb-capped",
                    request_timeout_ms=int(REQUEST_TIMEOUT_S * 1000), idle_timeout_ms=int(IDLE_TIMEOUT_CAP_S * 1000),
                    max_connections=MAX_CONNECTIONS, threads=THREADS)
    yield server
    try:
        server.stop()
    finally:
        server.kill()


def _get(path, host="test"):
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def _quick_healthz(server):
    start = time.monotonic()
    resp = requests.get(server.base_url + "/healthz", timeout=QUICK_S + SLACK_S)
    took = time.monotonic() - start
    assert resp.status_code == 200, resp.text
    return took


def _trickle_until_closed(socks, payload, limit_s):
    """Sends payload one byte per TRICKLE_INTERVAL_S on every socket until the
    server closes each one; returns the seconds each took. Fails after limit_s."""
    start = time.monotonic()
    closed_after = {}
    position = 0
    while len(closed_after) < len(socks):
        elapsed = time.monotonic() - start
        assert elapsed < limit_s, (f"{len(socks) - len(closed_after)} of {len(socks)} slow clients still "
                                   f"connected after {elapsed:.1f}s (request timeout {REQUEST_TIMEOUT_S}s)")
        byte = payload[position % len(payload):position % len(payload) + 1]
        position += 1
        for i, sock in enumerate(socks):
            if i in closed_after:
                continue
            if peer_closed(sock):
                closed_after[i] = elapsed
                continue
            try:
                sock.send(byte)
            except (BrokenPipeError, ConnectionResetError):
                closed_after[i] = elapsed
        time.sleep(TRICKLE_INTERVAL_S)  # the slow client's pace
    return closed_after


# --------------------------------------------------------------------------
# Slow clients (slowloris) and silent ones
# --------------------------------------------------------------------------

def test_slowloris_headers_are_cut_off_at_the_request_timeout(fast_server):
    sock = connect(fast_server.port)
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        took = _trickle_until_closed([sock], b"X-Slow: " + b"a" * 1000, REQUEST_TIMEOUT_S + SLACK_S)
        assert took[0] >= REQUEST_TIMEOUT_S * 0.5, f"closed after {took[0]:.2f}s: before the timeout?"
    finally:
        sock.close()
    assert _quick_healthz(fast_server) < QUICK_S


def test_slow_body_is_cut_off_and_creates_nothing(fast_server, db):
    email = unique_email()
    body = ('{"email":"%s","name":"Slow Body"}' % email).encode()
    sock = connect(fast_server.port)
    try:
        sock.sendall(b"POST /v1/users HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % (len(body) + 1000))
        _trickle_until_closed([sock], body + b" " * 1000, REQUEST_TIMEOUT_S + SLACK_S)
    finally:
        sock.close()
    assert db.users_with_email(email) == 0


def test_an_army_of_slow_clients_does_not_starve_others(fast_server):
    """150 slowloris connections (under the cap): normal requests stay quick,
    and every slow one is cut off."""
    socks = [connect(fast_server.port) for _ in range(150)]
    try:
        for sock in socks:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        # One quick request while they trickle: the loop threads are not blocked.
        assert _quick_healthz(fast_server) < QUICK_S
        _trickle_until_closed(socks, b"X-Slow: " + b"b" * 1000, REQUEST_TIMEOUT_S + 2 * SLACK_S)
    finally:
        for sock in socks:
            sock.close()
    assert _quick_healthz(fast_server) < QUICK_S


def test_a_silent_connection_is_closed_after_the_idle_timeout(fast_server):
    """A client that connects and vanishes (half-open from the server's view)."""
    sock = connect(fast_server.port)
    try:
        took = wait_closed(sock, IDLE_TIMEOUT_S + SLACK_S, "the server to close a silent connection")
        assert took >= IDLE_TIMEOUT_S * 0.5, f"closed after {took:.2f}s: before the idle timeout?"
    finally:
        sock.close()


def test_keep_alive_is_reused_and_then_closed_when_idle(fast_server):
    sock = connect(fast_server.port)
    try:
        for path in ("/healthz", "/v1/matches?limit=1", "/healthz"):
            sock.sendall(_get(path))
            answer = read_http_response(sock)
            assert answer is not None, f"connection closed before answering {path}"
            assert answer[0] == 200, answer
            assert answer[1].get("connection", "").lower() != "close", answer[1]
        took = wait_closed(sock, IDLE_TIMEOUT_S + SLACK_S, "the server to close an idle keep-alive connection")
        assert took >= IDLE_TIMEOUT_S * 0.5, f"closed after {took:.2f}s: before the idle timeout?"
    finally:
        sock.close()


def test_a_half_closed_client_still_gets_its_answer(fast_server):
    """Request sent, then shutdown(SHUT_WR): the answer comes, then the close."""
    sock = connect(fast_server.port)
    try:
        sock.sendall(_get("/healthz"))
        sock.shutdown(socket.SHUT_WR)
        answer = read_http_response(sock)
        assert answer is not None and answer[0] == 200, answer
        wait_closed(sock, SLACK_S, "the server to close after answering a half-closed client")
    finally:
        sock.close()


def test_a_partial_request_then_eof_is_closed_promptly(fast_server):
    sock = connect(fast_server.port)
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        sock.shutdown(socket.SHUT_WR)
        took = wait_closed(sock, SLACK_S, "the server to close after a truncated request")
        assert took < REQUEST_TIMEOUT_S + SLACK_S
    finally:
        sock.close()


def test_pipelined_requests_are_answered_in_order(fast_server):
    sock = connect(fast_server.port)
    try:
        sock.sendall(_get("/healthz") + _get("/v1/matches/2000000000") + _get("/v1/nowhere") + _get("/healthz"))
        statuses = []
        for _ in range(4):
            answer = read_http_response(sock)
            assert answer is not None, f"closed after {statuses}"
            statuses.append(answer[0])
        assert statuses == [200, 404, 404, 200]
    finally:
        sock.close()


# --------------------------------------------------------------------------
# Thousands of idle connections against the cap
# --------------------------------------------------------------------------

def _open_count(socks, closed):
    for i, sock in enumerate(socks):
        if i not in closed and peer_closed(sock):
            closed.add(i)
    return len(socks) - len(closed)


def test_thousands_of_idle_connections_cannot_exhaust_the_server(capped_server):
    cap = MAX_CONNECTIONS * THREADS
    socks = []
    closed = set()
    try:
        first_connect = time.monotonic()
        # Some are keep-alive connections that have been used, the rest never send a byte.
        for _ in range(KEEP_ALIVE_SOCKETS):
            sock = connect(capped_server.port)
            sock.sendall(_get("/healthz"))
            answer = read_http_response(sock)
            assert answer is not None and answer[0] == 200, answer
            socks.append(sock)
        for _ in range(FLOOD_SOCKETS - KEEP_ALIVE_SOCKETS):
            try:
                socks.append(connect(capped_server.port, timeout=5))
            except OSError as exc:  # a refused or dropped SYN is fine: not served either
                assert isinstance(exc, (ConnectionRefusedError, socket.timeout, ConnectionResetError)), exc
        assert len(socks) > cap, f"only {len(socks)} connections could be opened"

        # Over the cap, connections are closed at once - long before the idle timeout.
        poll_until(lambda: _open_count(socks, closed) <= cap, IDLE_TIMEOUT_CAP_S * 0.6,
                   f"the server to hold at most {cap} of {len(socks)} idle connections")
        held = len(socks) - len(closed)
        assert time.monotonic() - first_connect < IDLE_TIMEOUT_CAP_S * 0.8, \
            "too slow to tell the cap from the idle timeout"
        assert held >= MAX_CONNECTIONS, f"the server holds only {held} connections (cap {cap})"

        # The connections it holds are real: they are answered.
        survivors = [s for i, s in enumerate(socks) if i not in closed][:10]
        for sock in survivors:
            sock.sendall(_get("/healthz"))
            answer = read_http_response(sock)
            assert answer is not None and answer[0] == 200, answer

        # And a newcomer is served quickly although idle sockets fill the cap:
        # idle connections must not lock out real clients.
        failures = []
        for _ in range(5):
            try:
                took = _quick_healthz(capped_server)
                if took >= QUICK_S:
                    failures.append(f"took {took:.2f}s")
            except requests.RequestException as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
        assert not failures, (f"with {held} idle connections held (cap {cap}), fresh requests failed: "
                              f"{failures}")

        # After the idle timeout the server has closed every one of them.
        poll_until(lambda: _open_count(socks, closed) == 0, IDLE_TIMEOUT_CAP_S + 2 * SLACK_S,
                   "the server to close every idle connection after the idle timeout")
    finally:
        for sock in socks:
            sock.close()
    assert _quick_healthz(capped_server) < QUICK_S

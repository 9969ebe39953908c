"""GET /metrics (API.md, Operations; docs/operations.md lists the metrics) and
the access log.

The Prometheus text format (version 0.0.4) is parsed here by a small parser,
so the tests check the document as a scraper would read it. The server log is
the file scripts/test sends the server's stdout and stderr to, named by
BETSDB_TEST_SERVER_LOG; the server must run at BETSDB_LOG_LEVEL=info so that
every request has its access line.
"""

import json
import math
import os
import re
import uuid

import pytest

from api_support import Api, describe, expect_json, expect_problem
from bet_support import RECONNECT_S, poll_until

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4"
CACHE_NAMESPACES = ("matches:list", "bets:list", "bets_by_email", "bets_summary")
CACHE_EVENTS = ("hit", "miss", "error", "load", "invalidation")
LOG_WAIT_S = 10

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_metrics(text):
    """{(name, frozenset(labels.items())): value}, and {name: type}."""
    samples, types = {}, {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert name not in types, f"TYPE given twice for {name}"
            types[name] = kind
            continue
        if line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, _, label_text, value = m.groups()
        labels = {}
        if label_text:
            pos = 0
            while pos < len(label_text):
                lm = _LABEL.match(label_text, pos)
                assert lm, f"bad labels in {line!r}"
                labels[lm.group(1)] = lm.group(2).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
                pos = lm.end()
        key = (name, frozenset(labels.items()))
        assert key not in samples, f"duplicate series {line!r}"
        samples[key] = float(value)
    return samples, types


def value(samples, name, **labels):
    """The sample's value, or 0 if the series is absent (never seen yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(api):
    resp = api.get("/metrics")
    assert resp.status_code == 200, describe(resp)
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.startswith(METRICS_CONTENT_TYPE), describe(resp)
    return parse_metrics(resp.text)


def histogram(samples, name, **labels):
    """[(le, cumulative count)] sorted by le, plus _sum and _count."""
    buckets = []
    for (n, lbls), v in samples.items():
        d = dict(lbls)
        if n != name + "_bucket" or {k: d.get(k) for k in labels} != labels:
            continue
        if set(d) - {"le"} != set(labels):
            continue
        buckets.append((math.inf if d["le"] == "+Inf" else float(d["le"]), v))
    buckets.sort()
    return buckets, value(samples, name + "_sum", **labels), value(samples, name + "_count", **labels)


# ------------------------------------------------------------------ format

def test_metrics_is_public_prometheus_text(api):
    resp = api.get("/metrics")
    assert resp.status_code == 200, describe(resp)
    assert resp.headers["Content-Type"].startswith(METRICS_CONTENT_TYPE), describe(resp)
    samples, types = parse_metrics(resp.text)
    assert types["betsdb_http_requests_total"] == "counter"
    assert types["betsdb_http_request_duration_seconds"] == "histogram"
    assert types["betsdb_http_requests_in_flight"] == "gauge"
    for name in ("betsdb_cache_events_total", "betsdb_bet_lock_total", "betsdb_bets_placed_total",
                 "betsdb_match_memory_total", "betsdb_token_lookups_total",
                 "betsdb_checkouts_total", "betsdb_settlements_total", "betsdb_redis_commands_total",
                 "betsdb_redis_errors_total", "betsdb_pg_pool_errors_total",
                 "betsdb_placement_batches_total", "betsdb_placement_batch_asks_total",
                 "betsdb_placement_retried_alone_total"):
        assert types[name] == "counter", name
    for name in ("betsdb_redis_connected", "betsdb_pg_pool_connections"):
        assert types[name] == "gauge", name
    # Every sample belongs to a declared family.
    for (name, _), _v in samples.items():
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or family in types, f"{name} has no # TYPE"


def test_a_bad_token_does_not_stop_a_scrape(api):
    # Public like the probes: no guard, so no credential is ever needed or checked.
    resp = api.get("/metrics", token="not-a-real-token")
    assert resp.status_code == 200, describe(resp)


# ---------------------------------------------------------------- requests

def test_request_counters_grow_by_route_template_method_and_status(api, new_user):
    user = new_user()
    before, _ = scrape(api)
    for _ in range(3):
        expect_json(api.get(f"/v1/users/{user.id}", token=user.token), 200)
    expect_problem(api.get(f"/v1/users/{user.id}"), 401)
    expect_problem(api.get("/v1/no-such-route"), 404)
    after, _ = scrape(api)

    name = "betsdb_http_requests_total"
    route = "/v1/users/{id}"  # the template, never the path with its id
    assert value(after, name, route=route, method="GET", status="200") - \
        value(before, name, route=route, method="GET", status="200") >= 3
    assert value(after, name, route=route, method="GET", status="401") - \
        value(before, name, route=route, method="GET", status="401") >= 1
    assert value(after, name, route="unmatched", method="GET", status="404") - \
        value(before, name, route="unmatched", method="GET", status="404") >= 1
    # Paths with ids never become labels (unbounded series).
    assert not any(dict(lbls).get("route") == f"/v1/users/{user.id}" for (_, lbls) in after)


def test_latency_histogram_is_cumulative_and_counts_every_request(api):
    for _ in range(5):
        expect_json(api.get("/healthz"), 200)
    samples, _ = scrape(api)
    buckets, total_seconds, count = histogram(
        samples, "betsdb_http_request_duration_seconds", route="/healthz", method="GET")
    assert len(buckets) >= 2 and buckets[-1][0] == math.inf, buckets
    counts = [c for _, c in buckets]
    assert counts == sorted(counts), f"buckets are not cumulative: {buckets}"
    assert counts[-1] == count, (buckets, count)
    requests_total = sum(v for (n, lbls), v in samples.items()
                         if n == "betsdb_http_requests_total"
                         and dict(lbls).get("route") == "/healthz" and dict(lbls).get("method") == "GET")
    assert count == requests_total
    assert count >= 5
    assert 0 < total_seconds < count * 10


def test_in_flight_counts_the_scrape_itself(api):
    samples, _ = scrape(api)
    assert value(samples, "betsdb_http_requests_in_flight") >= 1


# ------------------------------------------------------------- components

def test_cache_counters_are_present_for_all_four_namespaces(api):
    samples, _ = scrape(api)
    for ns in CACHE_NAMESPACES:
        for event in CACHE_EVENTS:
            key = ("betsdb_cache_events_total", frozenset({"namespace": ns, "event": event}.items()))
            assert key in samples, f"missing betsdb_cache_events_total{{namespace={ns!r},event={event!r}}}"


def test_match_list_reads_count_cache_events(api, new_match):
    new_match()  # a write: invalidates the match lists
    before, _ = scrape(api)
    query = f"/v1/matches?team={uuid.uuid4().hex}"
    expect_json(api.get(query), 200)
    expect_json(api.get(query), 200)
    after, _ = scrape(api)

    def grew(event):
        return value(after, "betsdb_cache_events_total", namespace="matches:list", event=event) - \
            value(before, "betsdb_cache_events_total", namespace="matches:list", event=event)

    assert grew("hit") + grew("miss") + grew("error") >= 2


def test_bets_locks_and_settlements_are_counted(api, admin_token, new_user, new_match):
    user = new_user(balance=10_000)
    match = new_match()
    before, _ = scrape(api)
    body = {"user_id": user.id, "match_id": match["id"], "selection": "1", "stake": 100}
    expect_json(api.post("/v1/bets", json=body, token=user.token), 201)
    expect_json(api.post(f"/v1/matches/{match['id']}/result", json={"result": "1"}, token=admin_token), 200)
    after, _ = scrape(api)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("betsdb_bets_placed_total") >= 1
    assert grew("betsdb_bet_lock_total", outcome="acquired") >= 1
    assert grew("betsdb_settlements_total") >= 1
    for outcome in ("acquired", "conflict", "unavailable"):
        assert ("betsdb_bet_lock_total", frozenset({"outcome": outcome}.items())) in after
    for outcome in ("success", "failed", "in_progress"):
        assert ("betsdb_checkouts_total", frozenset({"outcome": outcome}.items())) in after


def test_pools_and_redis_are_reported(api):
    expect_json(api.get("/readyz"), 200)  # touches Redis and PostgreSQL on some shard
    samples, _ = scrape(api)
    assert value(samples, "betsdb_redis_connected") >= 1
    assert value(samples, "betsdb_redis_commands_total") >= 1
    assert value(samples, "betsdb_pg_pool_max_connections") >= 1
    open_connections = value(samples, "betsdb_pg_pool_connections", state="idle") + \
        value(samples, "betsdb_pg_pool_connections", state="busy")
    assert 1 <= open_connections <= value(samples, "betsdb_pg_pool_max_connections")
    assert value(samples, "betsdb_metrics_stale_shards") == 0


def test_repeated_hits_are_answered_from_kept_values(api, new_user):
    """Each shard keeps the cache's counters and the token's revocation
    status while its tracking connections report no change
    (docs/architecture.md, "Kept counters"): hits then send Redis no
    command. On a Redis Cluster every node is tracked, and the revocation
    status is kept beside the account's sign-out count. A hit asks Redis
    when the shard's last answered PING is too old, which a loaded machine
    may cause now and then: most, not all."""
    user = new_user()
    path = f"/v1/users/{user.id}/bets?limit=5"
    reads = 40
    own = Api(api.base_url, api.admin_token)  # one connection, so one shard
    try:
        first, _ = scrape(own)
        for _ in range(3):
            expect_json(own.get(path, token=user.token), 200)
        before, _ = scrape(own)
        for _ in range(reads):
            expect_json(own.get(path, token=user.token), 200)
        after, _ = scrape(own)
    finally:
        own.close()
    assert value(after, "betsdb_redis_tracking_connected") >= 1

    def grew(name):
        return value(after, name) - value(before, name)

    # Two kept values per read: the revocation check's and the counters'.
    assert grew("betsdb_redis_tracking_kept_reads_total") >= reads, grew(
        "betsdb_redis_tracking_kept_reads_total")
    assert grew("betsdb_redis_tracking_pings_total") >= 1
    # The user's counter, read more than once, was leased (the writers of a
    # counter nobody leased answer without waiting).
    assert value(after, "betsdb_redis_tracking_leases_total") > value(
        first, "betsdb_redis_tracking_leases_total")


def test_readiness_is_a_gauge_of_what_readyz_answers(api):
    samples, types = scrape(api)
    assert types.get("betsdb_ready") == "gauge"
    assert types.get("betsdb_dependency_up") == "gauge"
    assert value(samples, "betsdb_ready") == 1
    assert value(samples, "betsdb_dependency_up", dependency="postgres") == 1
    assert value(samples, "betsdb_dependency_up", dependency="redis") == 1


@pytest.mark.single_redis
def test_readiness_falls_to_0_while_redis_is_down_and_comes_back(admin_token, private_redis, second_betsdb):
    """The alert on readiness (deploy/prometheus) reads this gauge: it must
    say what /readyz says, on the instance whose Redis is gone."""
    store = private_redis()
    server = second_betsdb(redis_url=store.url)
    client = Api(server.base_url, admin_token)

    def readiness():
        samples, _ = scrape(client)
        return (value(samples, "betsdb_ready"),
                value(samples, "betsdb_dependency_up", dependency="postgres"),
                value(samples, "betsdb_dependency_up", dependency="redis"))

    # Ready once its live stream has caught up, shortly after it answers /healthz.
    poll_until(lambda: [True] if readiness() == (1, 1, 1) else None, RECONNECT_S,
               "betsdb_ready to be 1 on the new instance")
    store.kill()
    poll_until(lambda: [True] if readiness() == (0, 1, 0) else None, RECONNECT_S,
               "betsdb_ready to fall to 0 with Redis down")
    assert client.get("/readyz").status_code == 503
    store.start()
    poll_until(lambda: [True] if readiness() == (1, 1, 1) else None, RECONNECT_S,
               "betsdb_ready back to 1 once Redis is")
    client.close()
    server.stop()


# ------------------------------------------------------------- access log

def server_log():
    path = os.environ.get("BETSDB_TEST_SERVER_LOG")
    if not path:
        pytest.fail("BETSDB_TEST_SERVER_LOG is not set: it must name the file the server under "
                    "test logs to (scripts/test sets it)", pytrace=False)
    if not os.path.exists(path):
        pytest.fail(f"BETSDB_TEST_SERVER_LOG={path} does not exist", pytrace=False)
    with open(path, "rb") as f:
        return f.read().decode("utf-8", errors="replace")


def access_lines(request_id):
    lines = []
    for line in server_log().splitlines():
        if request_id in line:
            lines.append(json.loads(line))
    return lines


def test_every_request_has_one_json_access_line_without_credentials(api, new_user, admin_token):
    user = new_user()
    request_id = f"metrics-test-{uuid.uuid4().hex}"
    resp = api.get(f"/v1/users/{user.id}", token=user.token, headers={"X-Request-Id": request_id})
    expect_json(resp, 200)
    assert resp.headers.get("X-Request-Id") == request_id
    # A query string can carry anything a client typed: it is not logged either.
    query_request_id = f"metrics-test-{uuid.uuid4().hex}"
    expect_problem(api.get(f"/v1/users/{user.id}/transactions?secret=query-{uuid.uuid4().hex}",
                           token=user.token, headers={"X-Request-Id": query_request_id}), 400)

    lines = poll_until(lambda: access_lines(request_id), LOG_WAIT_S,
                       f"the access line of {request_id} in the server log "
                       "(is the server running with BETSDB_LOG_LEVEL=info?)")
    assert len(lines) == 1, lines
    line = lines[0]
    assert line["msg"] == "request"
    assert line["level"] == "info"
    assert line["method"] == "GET"
    assert line["route"] == "/v1/users/{id}"
    assert line["path"] == f"/v1/users/{user.id}"
    assert line["status"] == 200
    assert isinstance(line["latency_ms"], (int, float)) and line["latency_ms"] >= 0
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", line["ts"]), line

    query_lines = poll_until(lambda: access_lines(query_request_id), LOG_WAIT_S,
                             f"the access line of {query_request_id}")
    assert query_lines[0]["status"] == 400
    assert query_lines[0]["path"] == f"/v1/users/{user.id}/transactions"

    log = server_log()
    assert user.token not in log, "a user's token appears in the server log"
    assert admin_token not in log, "the admin token appears in the server log"
    assert "Bearer" not in log and "authorization" not in log.lower(), \
        "an Authorization header appears in the server log"
    assert "secret=query-" not in log, "a query string appears in the server log"


def test_a_generated_request_id_is_echoed_and_logged(api):
    resp = api.get("/healthz")
    expect_json(resp, 200)
    request_id = resp.headers.get("X-Request-Id")
    assert request_id and re.match(r"^[0-9a-f]{16}$", request_id), describe(resp)
    lines = poll_until(lambda: access_lines(request_id), LOG_WAIT_S,
                       f"the access line of {request_id} in the server log")
    assert lines[0]["route"] == "/healthz" and lines[0]["status"] == 200


def test_every_server_log_line_is_a_json_object(api):
    expect_json(api.get("/healthz"), 200)
    lines = [ln for ln in server_log().splitlines() if ln.strip()]
    assert lines, "the server log is empty"
    for ln in lines:
        if ln.startswith(("==", "    #", "SUMMARY:")) or "Sanitizer" in ln or "runtime error:" in ln:
            continue  # sanitizer reports are not ours to format (scripts/test fails on them anyway)
        record = json.loads(ln)
        assert {"ts", "level", "msg"} <= record.keys(), ln


# ------------------------------------------------------------ concurrency

@pytest.mark.concurrency
def test_counts_stay_exact_and_monotonic_while_scraped_under_load(base_url, api):
    """Requests on every shard while scrapes run: no count is lost, none goes back."""
    import concurrent.futures

    import requests

    workers, per_worker = 8, 40
    name = "betsdb_http_requests_total"
    labels = dict(route="/healthz", method="GET", status="200")
    before, _ = scrape(api)
    stop = False

    def hammer(_):
        with requests.Session() as s:
            for _ in range(per_worker):
                assert s.get(base_url + "/healthz", timeout=15).status_code == 200

    def scraper():
        seen = []
        with requests.Session() as s:
            while not stop:
                resp = s.get(base_url + "/metrics", timeout=15)
                assert resp.status_code == 200
                samples, _ = parse_metrics(resp.text)
                seen.append(value(samples, name, **labels))
        return seen

    with concurrent.futures.ThreadPoolExecutor(workers + 2) as pool:
        scrapers = [pool.submit(scraper) for _ in range(2)]
        list(pool.map(hammer, range(workers)))
        stop = True
        for f in scrapers:
            seen = f.result()
            assert seen == sorted(seen), "a counter went backwards between scrapes"

    after, _ = scrape(api)
    assert value(after, name, **labels) - value(before, name, **labels) == workers * per_worker
    assert value(after, "betsdb_metrics_stale_shards") == 0

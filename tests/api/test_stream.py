"""The live stream (API.md Part 2, "Live stream"; docs/api.md, "Live stream";
issue 20): GET /v1/stream as Server-Sent Events.

- the answer's head, the `retry` preamble, the event format, and an event's
  data equal to GET /v1/matches/{id} after each kind of change (create,
  PATCH of odds and limits, suspend, resume, settle, `betsdb import`);
- order: the events of one match in commit order, even under concurrent
  writes; strictly increasing ids; the same order for every client;
- resume with Last-Event-ID or ?last_event_id= (the header wins): exactly
  the missed events, no gap, no duplicate, also while writes go on;
  `event: reset` for an id no longer held;
- the match_id filter (the replay too), and 400 invalid_parameter for bad
  input;
- committed-only: refused or rolled-back writes, no-op writes and bets emit
  nothing (proved by a marker change: the next event must be the marker's);
- Redis down while a change commits, then back: the event arrives;
- a stalled client is cut off while another keeps receiving promptly;
- a new instance's streams get every change from the moment it is ready;
- per-instance cap (503 + Retry-After), heartbeats, the idle timeout not
  applying to streams, graceful shutdown: on private servers started with
  small settings (the binary under test, like test_connections.py).

Tests share the suite's server, so every test makes its own matches and
ignores other matches' events on an unfiltered stream. An event is
published just after its write answers, so a stream opened after a test's
set-up writes resumes from the set-up's last event (the `probe` fixture)
rather than listening "from now". Every wait has a deadline; nothing sleeps
to let a race settle (the one deliberate silence, longer than the idle
timeout, is what its test is about).
"""

import json
import math
import os
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from api_support import (
    REQUEST_TIMEOUT_S,
    Api,
    expect_json,
    expect_problem,
    expect_status,
    future_date,
    unique_team,
)
from bet_support import RECONNECT_S, parallel_map, poll_until, required_env, settle
from fault_support import PostgresCluster, ServerProcess, server_binary
from stream_support import (
    EVENT_ID,
    EVENT_S,
    SSE_CONTENT_TYPE,
    SseStream,
    expect_increasing_ids,
    id_key,
    warm_up,
)
from trading_support import get_match, match_url, patch_match, patched

import redis_keys

# The retry delay the server asks EventSource for (docs/api.md).
RETRY_MS = "1000"
# A reset's id for "too old": no event id is that old.
TOO_OLD_ID = "1-0"

# A stalled consumer: a tiny receive window, never read until the end, on
# an instance of its own whose BETSDB_STREAM_CLIENT_BUFFER is STALL_BUFFER.
# The instance holds at most that many bytes for the client, and lets it fall
# at most 8 times as many behind its backlog, on top of what both kernels
# buffer (its SO_SNDBUF of 64 KiB, doubled by Linux, and the client's
# window): about 430 KiB. Sending it well over that must get it cut off.
STALL_BUFFER = 32768
SLOW_RCVBUF = 4096
SLOW_TARGET_BYTES = 1 << 20
SLOW_WORKERS = 16
# The other client's delay from a write's answer to its event, at worst,
# during the burst (an ASan build on a shared 2-core machine).
FAST_MAX_LAG_S = 3.0
# How long the stalled client may take, once it reads, to see its end.
SLOW_DRAIN_S = 20

# Private servers.
CAP = 3
# An instance kept busy by readers while its matches change.
LOAD_READERS = 6
LOAD_CHANGES = 40
LOAD_MAX_HOLD_MS = 300
LOAD_MAX_S = 60
IDLE_TIMEOUT_MS = 1000
HEARTBEAT_MS = 250
# A stream that has been silent for this long outlived the idle timeout.
SILENT_S = 3 * IDLE_TIMEOUT_MS / 1000
# After SIGTERM, streams end well before the 15 s shutdown grace would.
SHUTDOWN_STREAMS_S = 10
# Changes made while a client reconnects again and again.
RESUME_CHANGES = 150
# A freed stream slot is usable again.
SLOT_FREED_S = 5
# How long a just-started instance may answer "starting" (503, Retry-After: 1).
STARTING_S = 10


# --------------------------------------------------------------------------
# Helpers and fixtures
# --------------------------------------------------------------------------

@pytest.fixture
def streams(base_url, _server_is_up):
    """Factory: streams(base=None, **SseStream kwargs) -> SseStream (any
    status), closed at teardown."""
    opened = []

    def open_(base=None, **kw):
        opened.append(SseStream(base or base_url, **kw))
        return opened[-1]

    yield open_
    for s in opened:
        s.close()


@pytest.fixture
def probe(streams):
    """An unfiltered stream opened when the test starts, before its first
    write. An event is published just after its write has answered
    ("usually within milliseconds of the answer"), so a stream opened right
    after a write may still receive that write's event as a live one. A
    test that opens a stream after its set-up writes therefore resumes it
    from the set-up's last event, found here: probe.event_of(answer).id."""
    return open_stream(streams)


def open_stream(streams, base=None, **kw):
    """A 200 stream whose first block (the retry preamble) has arrived: the
    server has subscribed it, so every change made from now on reaches it."""
    s = streams(base, **kw)
    # An instance that has just started answers 503 with Retry-After: 1
    # until it knows where the stream stands; a client retries.
    deadline = time.monotonic() + STARTING_S
    while s.response.status_code == 503 and s.response.headers.get("Retry-After") == "1" \
            and time.monotonic() < deadline:
        s.close()
        time.sleep(0.05)
        s = streams(base, **kw)
    expect_status(s.response, 200)
    first = s.next_block(what="the retry preamble")
    assert first is not None and first.field_names() == ["retry"], f"first block: {first}"
    return s


def suspend(api, admin_token, match_id):
    return api.post(match_url(match_id) + "/suspend", token=admin_token)


def resume(api, admin_token, match_id):
    return api.post(match_url(match_id) + "/resume", token=admin_token)


def suspended(api, admin_token, match_id):
    return expect_json(suspend(api, admin_token, match_id), 200)


def resumed(api, admin_token, match_id):
    return expect_json(resume(api, admin_token, match_id), 200)


def settled(api, admin_token, match_id, result="1"):
    return expect_json(settle(api, admin_token, match_id, result), 200)["match"]


def price(i):
    """A distinct price per i (so every PATCH is a real change)."""
    return round(1.50 + 0.01 * i, 2)


def set_price(api, admin_token, match_id, i):
    return patched(api, admin_token, match_id, {"odds": {"1": price(i)}})


def expect_match_event(block, body, what=""):
    """`block` is one `event: match` whose data is `body` (a match JSON)."""
    assert block.is_match, f"{what}: expected a match event, got {block}"
    assert block.field_names() == ["id", "event", "data"], f"{what}: fields {block.field_names()}"
    assert EVENT_ID.match(block.id), f"{what}: id {block.id!r}"
    assert block.json() == body, f"{what}: event data {block.data} != {body}"


def long_team(prefix):
    """A unique team name of the maximum length (100 characters): big events."""
    return f"{prefix} {uuid.uuid4().hex}".ljust(100, "x")


# --------------------------------------------------------------------------
# The answer and the event format
# --------------------------------------------------------------------------

@pytest.mark.direct  # checks the stream's own Connection: close, a hop-by-hop header
def test_the_stream_is_a_public_event_stream_that_starts_with_retry(streams):
    s = streams()
    resp = s.response
    expect_status(resp, 200)
    assert resp.headers.get("Content-Type", "").split(";")[0].strip().lower() == SSE_CONTENT_TYPE, resp.headers
    assert "no-cache" in resp.headers.get("Cache-Control", "").lower(), resp.headers
    assert resp.headers.get("X-Accel-Buffering", "").lower() == "no", resp.headers
    assert resp.headers.get("Connection", "").lower() == "close", resp.headers
    assert "Content-Length" not in resp.headers, resp.headers
    assert "Transfer-Encoding" not in resp.headers, resp.headers
    first = s.next_block(what="the retry preamble")
    assert first is not None and first.raw == f"retry: {RETRY_MS}\n\n".encode(), first


def test_a_bad_token_is_refused_even_on_the_public_stream(streams):
    s = streams(headers={"Authorization": "Bearer not-a-token"})
    expect_problem(s.response, 401, "unauthorized")


def test_a_created_match_is_one_event_whose_data_is_the_match(api, admin_token, streams, new_match):
    s = open_stream(streams)
    created = new_match()
    block, data = s.next_match(of={created["id"]})
    expect_match_event(block, created, "create")
    assert data == get_match(api, created["id"])
    # The wire form: id, event, one data line, a blank line.
    assert "\n" not in block.data
    assert block.raw == f"id: {block.id}\nevent: match\ndata: {block.data}\n\n".encode(), block.raw


def test_every_kind_of_change_is_one_event_with_the_match_after_it(
        api, admin_token, streams, probe, new_match):
    match = new_match(odds={"1": 2.10, "X": 3.25, "2": 3.60})
    marker = new_match()
    mid = match["id"]
    s = open_stream(streams, match_ids=[mid, marker["id"]], last_event_id=probe.event_of(marker).id)
    changes = [
        ("odds", lambda: patched(api, admin_token, mid, {"odds": {"1": 2.50, "X": None}})),
        ("limits", lambda: patched(api, admin_token, mid, {"max_stake": 50000, "max_liability": 1000000})),
        ("odds and limits", lambda: patched(api, admin_token, mid, {"odds": {"2": 3.90}, "max_stake": None})),
        ("suspend", lambda: suspended(api, admin_token, mid)),
        ("odds while suspended", lambda: patched(api, admin_token, mid, {"odds": {"1": 2.60}})),
        ("resume", lambda: resumed(api, admin_token, mid)),
        ("settle", lambda: settled(api, admin_token, mid, "2")),
    ]
    events = []
    for name, change in changes:
        answer = change()
        block = s.next_event(what=f"the event of {name}")
        expect_match_event(block, answer, name)
        assert block.json() == get_match(api, mid), name
        events.append(block)
    assert events[-1].json()["status"] == "settled" and events[-1].json()["result"] == "2"
    # One event per change: after the settlement's comes the marker's.
    after = set_price(api, admin_token, marker["id"], 0)
    expect_match_event(s.next_event(), after, "marker")
    expect_increasing_ids(events)


def test_betsdb_import_emits_one_created_event_per_new_match(api, admin_token, streams, tmp_path):
    tag = uuid.uuid4().hex[:12]
    a, b, c = (f"Stream Import {tag} {i}" for i in range(3))
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps({"name": "Stream League", "matches": [
        {"round": "1", "date": "2031-06-04", "time": "19:45", "team1": a, "team2": b},
        {"round": "1", "date": "2031-06-05", "time": "18:00", "team1": b, "team2": c},
    ]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BETSDB_")}
    env["BETSDB_DATABASE_URL"] = required_env("BETSDB_TEST_DATABASE_URL")
    env.update(redis_keys.suite_redis_env())
    ours = {a, b, c}

    def run_import():
        result = subprocess.run(["betsdb", "import", str(path)], executable=server_binary(), env=env,
                                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    s = open_stream(streams)
    is_ours = lambda blk: blk.is_match and blk.json()["team_1"] in ours  # noqa: E731
    assert "2 created" in run_import()
    # "usually within milliseconds, at most about a second for betsdb import"
    got = [s.wait_for(lambda blocks: [b for b in blocks if is_ours(b)][i:i + 1], EVENT_S,
                      f"imported match {i + 1}")[0] for i in range(2)]
    assert sorted((e.json()["team_1"], e.json()["team_2"]) for e in got) == [(a, b), (b, c)]
    for e in got:
        expect_match_event(e, get_match(api, e.json()["id"]), "import")
    # Run again: every match is a duplicate, skipped, and no event.
    assert "0 created" in run_import()
    marker = expect_json(api.post("/v1/matches", token=admin_token, json={
        "team_1": a, "team_2": unique_team("Marker"), "date": future_date(), "odds": {"1": 2.0}}), 201)
    ours_after = s.wait_for(lambda blocks: [b for b in blocks if is_ours(b)][2:3], EVENT_S, "the marker")
    expect_match_event(ours_after[0], marker, "the first event after the second import")


# --------------------------------------------------------------------------
# Order
# --------------------------------------------------------------------------

def test_the_changes_of_one_match_arrive_in_order_and_the_same_for_every_client(
        api, admin_token, streams, probe, new_match):
    match = new_match()
    mid = match["id"]
    filtered = open_stream(streams, match_ids=[mid], last_event_id=probe.event_of(match).id)
    everything = probe
    answers = [set_price(api, admin_token, mid, i) for i in range(40)]
    events = filtered.next_events(len(answers))
    for i, (block, answer) in enumerate(zip(events, answers)):
        expect_match_event(block, answer, f"change {i}")
    expect_increasing_ids(events)
    assert everything.next_event(of={mid}).json() == match  # its creation
    others = everything.next_events(len(answers), of={mid})
    assert [(e.id, e.data) for e in others] == [(e.id, e.data) for e in events]


@pytest.mark.concurrency
def test_concurrent_changes_keep_each_matchs_commit_order_and_one_global_order(
        base_url, admin_token, streams, probe, new_match):
    """Two writers per match at once: the commit order is unknown to the
    test, but each commit moves odds_version up by one, so a match's events
    must carry 2, 3, 4, ... in that order, each exactly a PATCH's answer."""
    matches = [new_match() for _ in range(4)]
    ids = {m["id"] for m in matches}
    per_match = 24
    one = open_stream(streams, match_ids=sorted(ids), last_event_id=probe.event_of(matches[-1]).id)
    two = open_stream(streams, last_event_id=probe.event_of(matches[-1]).id)
    # Writer w changes match w // 2 to the prices of its half of 0..per_match-1.
    jobs = [(matches[w // 2]["id"], w % 2) for w in range(2 * len(matches))]

    def write(client, job):
        mid, half = job
        return [set_price(client, admin_token, mid, 2 * k + half) for k in range(per_match // 2)]

    answers = [a for batch in parallel_map(base_url, admin_token, write, jobs, workers=len(jobs)) for a in batch]
    total = len(answers)
    events = one.next_events(total, timeout_s=30)
    expect_increasing_ids(events)
    by_version = {(a["id"], a["odds_version"]): a for a in answers}
    for mid in ids:
        mine = [e.json() for e in events if e.match_id == mid]
        assert [m["odds_version"] for m in mine] == list(range(2, per_match + 2)), (mid, mine)
        for m in mine:
            assert m == by_version[(mid, m["odds_version"])], m
    seen_by_two = two.next_events(total, timeout_s=30, of=ids)
    assert [(e.id, e.data) for e in seen_by_two] == [(e.id, e.data) for e in events]


# --------------------------------------------------------------------------
# Resume and reset
# --------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["header", "query", "header-wins", "older-id", "unfiltered"])
def test_a_reconnect_gets_exactly_the_missed_events_then_live_ones(
        api, admin_token, streams, probe, new_match, how):
    match = new_match()
    mid = match["id"]
    filt = None if how == "unfiltered" else [mid]
    of = {mid} if how == "unfiltered" else None
    first = open_stream(streams, match_ids=filt, last_event_id=probe.event_of(match).id)
    seen = [set_price(api, admin_token, mid, i) for i in range(3)]
    got = first.next_events(3, of=of)
    for block, answer in zip(got, seen):
        expect_match_event(block, answer)
    first.close()
    missed = [set_price(api, admin_token, mid, i) for i in range(3, 6)]

    expected = missed
    if how in ("header", "unfiltered"):
        kw = {"last_event_id": got[-1].id}
    elif how == "query":
        kw = {"last_event_id_query": got[-1].id}
    elif how == "header-wins":
        kw = {"last_event_id": got[-1].id, "last_event_id_query": got[0].id}
    else:  # an older id, still held: the events after it, seen or not
        kw = {"last_event_id": got[0].id}
        expected = seen[1:] + missed
    again = open_stream(streams, match_ids=filt, **kw)
    replay = again.next_events(len(expected), of=of)
    for i, (block, answer) in enumerate(zip(replay, expected)):
        expect_match_event(block, answer, f"replayed event {i}")
    expect_increasing_ids([got[0]] + replay)
    # Then live: the next event is the next change, not a repeat.
    live = set_price(api, admin_token, mid, 6)
    nxt = again.next_event(of=of)
    expect_match_event(nxt, live, "the first live event after the replay")
    expect_increasing_ids([replay[-1], nxt])


@pytest.mark.concurrency
def test_reconnects_while_changes_keep_coming_miss_nothing_and_repeat_nothing(
        api, base_url, admin_token, streams, probe, new_match):
    """A writer changes the match as fast as it can; the client reads a few
    events, drops the connection (events in flight are lost with it) and
    resumes from the last one it processed, again and again: what it
    processes must be every change exactly once, in order."""
    match = new_match()
    mid = match["id"]
    s = open_stream(streams, match_ids=[mid], last_event_id=probe.event_of(match).id)
    writer_api = Api(base_url, admin_token)
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        # Consecutive prices differ: every PATCH is a change, hence one event.
        writing = pool.submit(lambda: [set_price(writer_api, admin_token, mid, i % 100)
                                       for i in range(RESUME_CHANGES)])
        processed = []
        reconnects = 0
        deadline = time.monotonic() + 60
        while len(processed) < RESUME_CHANGES:
            assert time.monotonic() < deadline, f"only {len(processed)} events in 60 s"
            for _ in range(min(1 + reconnects % 7, RESUME_CHANGES - len(processed))):
                processed.append(s.next_event())
            s.close()
            reconnects += 1
            s = open_stream(streams, match_ids=[mid], last_event_id=processed[-1].id)
        answers = writing.result(timeout=60)
    finally:
        pool.shutdown(wait=True)
        writer_api.close()
    # Nothing more after the last change: the next event is a marker's.
    marker = set_price(api, admin_token, mid, 100)
    expect_match_event(s.next_event(), marker, "the marker after the last change")
    assert len(processed) == len(answers), (len(processed), len(answers), reconnects)
    for i, (block, answer) in enumerate(zip(processed, answers)):
        expect_match_event(block, answer, f"change {i} (after {reconnects} reconnects)")
    expect_increasing_ids(processed)
    assert reconnects >= 10, reconnects


@pytest.mark.parametrize("how", ["header", "query", "filtered"])
def test_an_id_no_longer_held_gets_a_reset_then_live_events(api, admin_token, streams, probe, new_match, how):
    match = new_match()
    mid = match["id"]
    newest = probe.event_of(set_price(api, admin_token, mid, 0))  # an event the server holds

    kw = {"last_event_id_query": TOO_OLD_ID} if how == "query" else {"last_event_id": TOO_OLD_ID}
    if how == "filtered":
        kw["match_ids"] = [mid]
    s = open_stream(streams, **kw)
    reset = s.next_event(what="the reset")
    assert reset.event == "reset", reset
    assert reset.field_names() == ["id", "event", "data"], reset
    assert reset.json() == {}, reset
    assert reset.raw == f"id: {reset.id}\nevent: reset\ndata: {{}}\n\n".encode(), reset.raw
    # "id: the newest held id (empty if none is held)": one is held.
    assert reset.id, reset
    assert id_key(reset.id) >= id_key(newest.id), (reset.id, newest.id)
    # Then only live events: none older than the reset's id.
    live = set_price(api, admin_token, mid, 1)
    nxt = s.next_event(of={mid})
    expect_match_event(nxt, live, "the first match event after the reset")
    expect_increasing_ids([e for e in s.events()])
    # A resume from the reset's id works like any other.
    s.close()
    again = open_stream(streams, match_ids=[mid], last_event_id=reset.id)
    expect_match_event(again.next_event(), live, "resumed from the reset's id")


# --------------------------------------------------------------------------
# The match_id filter and bad input
# --------------------------------------------------------------------------

def test_the_match_id_filter_sends_only_those_matches_once_each(api, admin_token, streams, probe, new_match):
    a, b, c = new_match(), new_match(), new_match()
    since = probe.event_of(c).id
    both = open_stream(streams, match_ids=[a["id"], b["id"]], last_event_id=since)
    repeated = open_stream(streams, match_ids=f"{a['id']},{a['id']}", last_event_id=since)
    a1 = set_price(api, admin_token, a["id"], 0)
    set_price(api, admin_token, c["id"], 0)
    b1 = set_price(api, admin_token, b["id"], 0)
    set_price(api, admin_token, c["id"], 1)
    a2 = set_price(api, admin_token, a["id"], 1)
    # The events are in commit order: had c's been sent, they would come
    # before b1's and a2's.
    for block, answer in zip(both.next_events(3), (a1, b1, a2)):
        expect_match_event(block, answer)
    for block, answer in zip(repeated.next_events(2), (a1, a2)):
        expect_match_event(block, answer, "a repeated id in the filter")


def test_the_replay_is_filtered_too(api, admin_token, streams, probe, new_match):
    a, b = new_match(), new_match()
    first = open_stream(streams, match_ids=[a["id"], b["id"]], last_event_id=probe.event_of(b).id)
    set_price(api, admin_token, a["id"], 0)
    resume_from = first.next_event()
    first.close()
    a_missed = []
    for i in range(1, 4):
        set_price(api, admin_token, b["id"], i)
        a_missed.append(set_price(api, admin_token, a["id"], i))
    s = open_stream(streams, match_ids=[a["id"]], last_event_id=resume_from.id)
    for block, answer in zip(s.next_events(3), a_missed):
        expect_match_event(block, answer, "filtered replay")
    set_price(api, admin_token, b["id"], 9)
    marker = set_price(api, admin_token, a["id"], 9)
    expect_match_event(s.next_event(), marker, "live after the filtered replay")


def test_a_filter_of_100_ids_is_accepted(api, admin_token, streams, probe, new_match):
    match = new_match()
    ids = [match["id"]] + [match["id"] + 10_000_000 + i for i in range(99)]
    s = open_stream(streams, match_ids=ids, last_event_id=probe.event_of(match).id)
    answer = set_price(api, admin_token, match["id"], 0)
    expect_match_event(s.next_event(), answer)


BAD_MATCH_IDS = [
    "", "0", "-1", "abc", "1,,2", "1,", ",1", "1.5", "007", "+1", "1%202", "1;2", "0x10",
    "18446744073709551616", ",".join(str(i) for i in range(1, 102)),
]


@pytest.mark.parametrize("value", BAD_MATCH_IDS, ids=lambda v: v if len(v) < 30 else "101-ids")
def test_a_bad_match_id_list_is_400(streams, value):
    s = streams(match_ids=value)
    expect_problem(s.response, 400, "invalid_parameter")


@pytest.mark.parametrize("query", ["match_id=1&match_id=2", "foo=1", "last_event_id=1-0&last_event_id=2-0"])
def test_an_unknown_or_repeated_query_parameter_is_400(streams, query):
    s = streams(query=query)
    expect_problem(s.response, 400, "invalid_parameter")


BAD_EVENT_IDS = ["abc", "1", "1-", "-1", "1-a", "a-1", "1-0-0", "1.5-0", "1_0", "0x1-0", "1--1"]


@pytest.mark.parametrize("where", ["header", "query"])
@pytest.mark.parametrize("value", BAD_EVENT_IDS)
def test_a_malformed_last_event_id_is_400(streams, where, value):
    kw = {"last_event_id": value} if where == "header" else {"last_event_id_query": value}
    s = streams(**kw)
    expect_problem(s.response, 400, "invalid_parameter")


def test_a_malformed_header_is_400_even_with_a_good_query(streams):
    s = streams(last_event_id="abc", last_event_id_query="1-0")
    expect_problem(s.response, 400, "invalid_parameter")


# --------------------------------------------------------------------------
# Committed changes only
# --------------------------------------------------------------------------

def test_refused_and_rolled_back_writes_emit_nothing(api, admin_token, streams, probe, new_match, new_user):
    match = new_match(odds={"1": 2.10, "X": 3.25, "2": 3.60})
    done = new_match()
    since = probe.event_of(settled(api, admin_token, done["id"], "X")).id
    mid = match["id"]
    ours = {match["team_1"], match["team_2"], done["team_1"], done["team_2"]}
    filtered = open_stream(streams, match_ids=[mid, done["id"]], last_event_id=since)
    everything = open_stream(streams, last_event_id=since)

    # A duplicate insert rolls back (409); nothing else here commits.
    dup = api.post("/v1/matches", token=admin_token, json={
        "team_1": match["team_1"], "team_2": match["team_2"], "date": match["date"], "odds": {"1": 1.5}})
    expect_problem(dup, 409, "duplicate_match")
    expect_problem(patch_match(api, admin_token, mid, {"odds": {"1": None, "X": None, "2": None}}), 422)
    expect_problem(patch_match(api, admin_token, mid, {"odds": {"1": 0.5}}), 422, "validation_failed")
    expect_problem(patch_match(api, admin_token, done["id"], {"odds": {"1": 1.9}}), 422, "match_closed")
    expect_problem(suspend(api, admin_token, done["id"]), 409, "already_settled")
    expect_problem(settle(api, admin_token, done["id"], "1"), 409, "already_settled")
    expect_problem(patch_match(api, None, mid, {"odds": {"1": 1.9}}), 401, "unauthorized")
    bettor = new_user(balance=100_000)
    expect_problem(patch_match(api, bettor.token, mid, {"odds": {"1": 1.9}}), 403, "forbidden")
    # A bet does not change the match.
    expect_json(api.post("/v1/bets", token=bettor.token, json={
        "user_id": bettor.id, "match_id": mid, "selection": "1", "stake": 1000}), 201)

    marker = set_price(api, admin_token, mid, 7)
    expect_match_event(filtered.next_event(), marker, "the first event after the refused writes")
    # On the unfiltered stream too (a rolled-back insert would carry these
    # teams under some other id).
    first_of_ours = everything.wait_for(
        lambda blocks: [b for b in blocks if b.is_match and {b.json()["team_1"], b.json()["team_2"]} & ours][:1],
        EVENT_S, "the first event of these teams")[0]
    expect_match_event(first_of_ours, marker, "the first event of these teams on the unfiltered stream")


def test_a_write_that_changes_nothing_emits_nothing(api, admin_token, streams, probe, new_match):
    match = new_match(odds={"1": 2.10, "X": 3.25, "2": 3.60})
    mid = match["id"]
    marker = new_match()
    s = open_stream(streams, match_ids=[mid, marker["id"]], last_event_id=probe.event_of(marker).id)
    expected = [suspended(api, admin_token, mid)]
    assert suspended(api, admin_token, mid) == expected[-1]           # already suspended
    assert patched(api, admin_token, mid, {"odds": {"1": 2.10}}) == expected[-1]  # same price
    assert patched(api, admin_token, mid, {"max_stake": None}) == expected[-1]    # same limit
    expected.append(resumed(api, admin_token, mid))
    assert resumed(api, admin_token, mid) == expected[-1]              # already open
    expected.append(settled(api, admin_token, mid, "1"))
    assert settled(api, admin_token, mid, "1") == expected[-1]        # the same result again
    expected.append(set_price(api, admin_token, marker["id"], 3))
    for i, (block, answer) in enumerate(zip(s.next_events(len(expected)), expected)):
        expect_match_event(block, answer, f"event {i}")


def test_an_outbox_id_handed_out_again_still_reaches_the_stream(
        api, admin_token, streams, probe, new_match, db):
    """A promoted standby that had not received the old primary's last
    commits (asynchronous replication), or a database restored from a
    backup, hands out again the outbox ids of changes that the old one had
    committed and published. A new change under such an id is a new event,
    not a repeat of the one published under it before."""
    match = new_match(odds={"1": 2.10, "X": 3.25, "2": 3.60})
    mid = match["id"]
    first = set_price(api, admin_token, mid, 1)
    since = probe.event_of(first).id
    used = db.scalar("SELECT last_value FROM match_outbox_id_seq")
    # Published and dropped from the outbox: the id is free again.
    poll_until(lambda: db.scalar("SELECT count(*) = 0 FROM match_outbox WHERE id >= %s", (used,)),
               EVENT_S, "the change's outbox row to be published")
    s = open_stream(streams, match_ids=[mid], last_event_id=since)
    # Only while no other change took an id meanwhile (it would clash).
    assert db.query("SELECT setval('match_outbox_id_seq', %s, false) FROM match_outbox_id_seq "
                    "WHERE last_value = %s", (used, used)), "another change took an id"
    try:
        again = set_price(api, admin_token, mid, 2)
        assert db.scalar("SELECT last_value FROM match_outbox_id_seq") == used, \
            "the change did not get the id again (another change took it?)"
        expect_match_event(s.next_event(), again, "the change under an outbox id used before")
    finally:
        # If the change failed, the next one must not take the id again.
        db.scalar("SELECT setval('match_outbox_id_seq', greatest(%s, last_value)) "
                  "FROM match_outbox_id_seq", (used,))


# --------------------------------------------------------------------------
# Redis down while a change commits
# --------------------------------------------------------------------------

@pytest.fixture
def private_postgres():
    cluster = PostgresCluster()
    yield cluster
    cluster.destroy()


@pytest.mark.single_redis
def test_a_change_committed_while_redis_is_down_is_delivered_once_it_is_back(
        tmp_path, admin_token, private_redis, private_postgres, streams):
    """A server with a database and a Redis of its own (a betsdb on the
    suite's database would let the suite's server publish this change to
    the suite's Redis). The Redis keeps an fsynced append-only file, so the
    stream it holds survives the restart and a client can resume from an id
    it received before the outage."""
    database_url = private_postgres.create_database("betsdb_stream")
    store = private_redis(("--save", "", "--appendonly", "yes", "--appendfsync", "always"))
    server = ServerProcess(tmp_path, name="betsdb-stream-redis", database_url=database_url,
                           redis_url=store.url, admin_token=admin_token,
                           extra_env={"BETSDB_STREAM_HEARTBEAT_MS": str(HEARTBEAT_MS)})
    api = server.api(admin_token)
    try:
        s = open_stream(streams, server.base_url)
        match = expect_json(api.post("/v1/matches", token=admin_token, json={
            "team_1": unique_team("Home"), "team_2": unique_team("Away"), "date": future_date(),
            "odds": {"1": 2.0, "X": 3.0, "2": 4.0}}), 201)
        mid = match["id"]
        counter = iter(range(1000))
        before = warm_up(s, lambda: set_price(api, admin_token, mid, next(counter)))

        store.kill()
        during = patched(api, admin_token, mid, {"odds": {"X": 3.5}})
        assert get_match(api, mid) == during
        # The open stream stays open meanwhile, with its heartbeats.
        beats = len(s.blocks)
        s.wait_for(lambda blocks: len(_comments(blocks[beats:], 2) or []) == 2, 10,
                   "two heartbeats while Redis is down")
        assert s.events()[-1].id == before.id, f"an event while Redis was down: {s.events()[-1]}"

        store.start()
        block = s.next_event(timeout_s=RECONNECT_S, what="the change committed while Redis was down")
        expect_match_event(block, during, "the change committed while Redis was down")
        assert id_key(block.id) > id_key(before.id)
        # A client resuming from before the outage gets it too, exactly once.
        again = open_stream(streams, server.base_url, last_event_id=before.id)
        expect_match_event(again.next_event(), during, "replayed after the outage")
        after = patched(api, admin_token, mid, {"odds": {"X": 3.6}})
        for client in (s, again):
            expect_match_event(client.next_event(), after, "the first change after the outage")
        api.close()
        server.stop()
    finally:
        api.close()
        server.kill()


# --------------------------------------------------------------------------
# A stalled client
# --------------------------------------------------------------------------

# Not marked concurrency (the ThreadSanitizer stage): it is about a socket's
# backpressure, not threads, and its lag bound is for a full-speed server.
@pytest.mark.direct  # socket backpressure: a proxy would read for the stalled client
def test_a_stalled_client_is_cut_off_while_another_keeps_receiving(
        tmp_path, api, base_url, admin_token, streams, probe, new_match, _server_is_up):
    server = _server(tmp_path, admin_token, "betsdb-stream-stall", stream_client_buffer=STALL_BUFFER)
    try:
        _stalled_client_is_cut_off(server.base_url, api, base_url, admin_token, streams, probe, new_match)
        server.stop()
    finally:
        server.kill()


def _stalled_client_is_cut_off(stream_base, api, base_url, admin_token, streams, probe, new_match):
    """Both clients on `stream_base`; the changes go through `base_url`."""
    matches = [new_match(team_1=long_team("Stall"), team_2=long_team("Away"),
                         odds={"1": 2.10, "X": 3.25, "2": 3.60}) for _ in range(SLOW_WORKERS)]
    ids = {m["id"] for m in matches}
    since = probe.event_of(matches[-1]).id
    probe.close()  # not read during the burst
    fast = open_stream(streams, stream_base, match_ids=sorted(ids), last_event_id=since)
    # Never read until the end.
    slow = streams(stream_base, rcvbuf=SLOW_RCVBUF, read=False, last_event_id=since)
    expect_status(slow.response, 200)

    sizing = patched(api, admin_token, matches[0]["id"], {"odds": {"1": 2.20}})
    first = fast.next_event()
    expect_match_event(first, sizing)
    per_worker = math.ceil(SLOW_TARGET_BYTES / len(first.raw) / SLOW_WORKERS)

    def burst(client, match):
        out = []
        for k in range(per_worker):
            body = patched(client, admin_token, match["id"], {"odds": {"1": 2.00 if k % 2 else 2.01}})
            out.append((body, time.monotonic()))
        return out

    started = time.monotonic()
    results = [r for batch in parallel_map(base_url, admin_token, burst, matches, workers=SLOW_WORKERS)
               for r in batch]
    took = time.monotonic() - started
    total = 1 + len(results)
    fast.wait_for(lambda blocks: len([b for b in blocks if b.is_event]) >= total, 30,
                  f"the reading client to receive all {total} events")
    assert fast.closed is None, f"the reading client was disconnected ({fast.closed})"

    events = fast.events()
    assert len(events) == total, (len(events), total)
    expect_increasing_ids(events)
    arrived = {(e.match_id, e.json()["odds_version"]): e for e in events}
    lags = []
    for body, answered_at in results:
        e = arrived.get((body["id"], body["odds_version"]))
        assert e is not None, f"no event for {body}"
        assert e.json() == body
        lags.append(max(0.0, e.at - answered_at))
    lags.sort()
    p99 = lags[int(len(lags) * 0.99) - 1]
    print(f"\n[stream] {len(results)} PATCHes in {took:.1f}s; reading client lag p99 {p99 * 1000:.0f} ms, "
          f"max {lags[-1] * 1000:.0f} ms")
    assert lags[-1] < FAST_MAX_LAG_S, f"the reading client lagged {lags[-1]:.2f}s (p99 {p99:.2f}s)"

    # The stalled client reads at last: it must find its connection ended,
    # after a prefix of the events (a block cut short at the end is allowed).
    how = slow.drain(SLOW_DRAIN_S)
    slow_ours = [b for b in slow.blocks if b.is_match and b.match_id in ids]
    assert how is not None, (f"the stalled client was not disconnected: it read {slow.bytes_received} "
                             f"bytes, {len(slow_ours)} of the {total} events")
    assert len(slow_ours) < total, f"the stalled client got all {total} events"
    assert [(e.id, e.data) for e in slow_ours] == [(e.id, e.data) for e in events[:len(slow_ours)]]
    print(f"[stream] stalled client cut off ({how}) after {slow.bytes_received} bytes, "
          f"{len(slow_ours)} of {total} events")


# --------------------------------------------------------------------------
# Private servers: cap, heartbeats, idle timeout, shutdown
# --------------------------------------------------------------------------

def _server(tmp_path, admin_token, name, wait_healthy=True, **settings):
    env = {f"BETSDB_{k.upper()}": str(v) for k, v in settings.items()}
    return ServerProcess(tmp_path, name=name, database_url=required_env("BETSDB_TEST_DATABASE_URL"),
                         admin_token=admin_token, extra_env=env, wait_healthy=wait_healthy)


def _ready(base):
    try:
        return requests.get(base + "/readyz", timeout=REQUEST_TIMEOUT_S).status_code == 200
    except requests.RequestException:
        return False


def _comments(blocks, n):
    """The first n comment-only blocks, or None if fewer have come."""
    found = [b for b in blocks if b.comments and not b.fields]
    return found[:n] if len(found) >= n else None


def _try_stream(streams, server):
    s = streams(server.base_url)
    if s.response.status_code == 200:
        return s
    expect_problem(s.response, 503, "service_unavailable")
    s.close()
    return None


def _warm_match(api, admin_token, new_match):
    """write() for warm_up: a change of a match of its own, through `api`."""
    match = new_match()
    counter = iter(range(1000))
    return lambda: set_price(api, admin_token, match["id"], next(counter))


def test_a_new_instance_delivers_every_change_to_the_streams_it_accepted(
        tmp_path, api, admin_token, streams, probe, new_match, _server_is_up):
    """As soon as an instance is ready (its /readyz answers 200: a load
    balancer sends it clients), a stream it accepts gets every change from
    then on, live or resumed: none falls between the instance's start and
    its following the Redis stream."""
    match = new_match()
    since = probe.event_of(match).id
    server = _server(tmp_path, admin_token, "betsdb-stream-new", wait_healthy=False)
    try:
        def ready():
            if server.proc.poll() is not None:
                pytest.fail(f"the new instance exited with {server.proc.returncode}:\n{server.log()}")
            return _ready(server.base_url)

        poll_until(ready, 60, "the new instance to be ready")
        live = open_stream(streams, server.base_url, match_ids=[match["id"]])
        resumed_ = open_stream(streams, server.base_url, match_ids=[match["id"]], last_event_id=since)
        answers = [set_price(api, admin_token, match["id"], i) for i in range(10)]
        got = {}
        for name, s in (("live", live), ("resumed", resumed_)):
            events = s.poll(lambda blocks: [b for b in blocks if b.is_event][len(answers) - 1:] and
                            [b for b in blocks if b.is_event], EVENT_S) or s.events()
            got[name] = [e.json().get("odds_version") for e in events]
        want = [a["odds_version"] for a in answers]
        assert got == {"live": want, "resumed": want}, \
            f"odds_version of the events each stream of the new instance received: {got}, want {want}"
        for s in (live, resumed_):
            for i, (block, answer) in enumerate(zip(s.events(), answers)):
                expect_match_event(block, answer, f"change {i}")
        server.stop()
    finally:
        server.kill()


@pytest.mark.concurrency
def test_an_instance_busy_with_requests_still_delivers_every_change_once_in_order(
        tmp_path, admin_token, streams, new_match, _server_is_up):
    """A thread busy with requests holds events back and sends them together
    (BETSDB_STREAM_MAX_HOLD_MS). Changes made through that instance while
    readers keep its one thread busy must still reach a filtered and an
    unfiltered client, each change once, in order, as its write answered."""
    server = _server(tmp_path, admin_token, "betsdb-stream-busy", threads=1,
                     stream_max_hold_ms=LOAD_MAX_HOLD_MS)
    try:
        match = new_match()
        mid = match["id"]
        filtered = open_stream(streams, server.base_url, match_ids=[mid])
        everything = open_stream(streams, server.base_url)
        writing = [True]

        def read_matches(client, _):
            reads, deadline = 0, time.monotonic() + LOAD_MAX_S
            while writing[0] and time.monotonic() < deadline:
                expect_status(client.get("/v1/matches?status=open&limit=20"), 200)
                reads += 1
            return reads

        with ThreadPoolExecutor(max_workers=1) as pool:
            load = pool.submit(parallel_map, server.base_url, admin_token, read_matches,
                               range(LOAD_READERS), LOAD_READERS)
            writer = server.api(admin_token)
            try:
                answers = [set_price(writer, admin_token, mid, i) for i in range(LOAD_CHANGES)]
            finally:
                writing[0] = False
                writer.close()
            reads = sum(load.result(timeout=LOAD_MAX_S + 30))

        def changes(blocks):  # the match's creation may arrive live too
            return [b for b in blocks if b.is_match and b.match_id == mid
                    and b.json()["odds_version"] > match["odds_version"]]

        for name, s in (("filtered", filtered), ("unfiltered", everything)):
            got = s.wait_for(lambda blocks: changes(blocks)[len(answers) - 1:] and changes(blocks), 30,
                             f"the {name} client's {len(answers)} changes")
            expect_increasing_ids(got)
            assert [e.json() for e in got] == answers, f"the {name} client's events"
            assert s.poll(lambda blocks: changes(blocks)[len(answers):], 0.5) is None, \
                f"the {name} client got a change twice"
        metrics = requests.get(server.base_url + "/metrics", timeout=REQUEST_TIMEOUT_S).text
        held = [line for line in metrics.splitlines() if line.startswith("betsdb_stream_held_passes_total ")]
        print(f"\n[stream] {LOAD_CHANGES} changes under {reads} reads; {held}")
        server.stop()
    finally:
        server.kill()


def test_past_the_cap_a_stream_is_refused_with_503_and_retry_after(
        tmp_path, api, admin_token, streams, new_match, _server_is_up):
    server = _server(tmp_path, admin_token, "betsdb-stream-cap", stream_max_clients=CAP)
    try:
        held = [open_stream(streams, server.base_url) for _ in range(CAP)]
        warm_up(held[0], _warm_match(api, admin_token, new_match))
        for _ in range(6):  # fresh connections: any of the server's threads
            s = streams(server.base_url)
            problem = expect_problem(s.response, 503, "service_unavailable")
            assert s.response.headers.get("Retry-After") == "5", s.response.headers
            assert "stream" in problem["detail"].lower(), problem
        expect_status(requests.get(server.base_url + "/healthz", timeout=REQUEST_TIMEOUT_S), 200)
        match = new_match()
        for h in held:
            expect_match_event(h.next_event(of={match["id"]}), match, "a held stream at the cap")
        # A client that leaves frees its place.
        held[0].close()
        replacement = poll_until(lambda: _try_stream(streams, server), SLOT_FREED_S,
                                 "a stream to be accepted once one left")
        expect_status(replacement.response, 200)
        expect_problem(streams(server.base_url).response, 503, "service_unavailable")
        server.stop()
    finally:
        server.kill()


def test_an_idle_stream_gets_heartbeats(tmp_path, admin_token, streams, _server_is_up):
    server = _server(tmp_path, admin_token, "betsdb-stream-heartbeat", stream_heartbeat_ms=HEARTBEAT_MS)
    try:
        s = open_stream(streams, server.base_url)
        beats = s.wait_for(lambda blocks: _comments(blocks, 3), 10 * HEARTBEAT_MS / 1000 + 5,
                           "three heartbeats")
        for b in beats:
            assert b.raw == b": keep-alive\n\n", b.raw
            assert not b.is_event
        gaps = [beats[i + 1].at - beats[i].at for i in range(2)]
        assert all(g >= HEARTBEAT_MS / 1000 / 3 for g in gaps), gaps
        server.stop()
    finally:
        server.kill()


def test_the_idle_timeout_does_not_end_a_silent_stream(tmp_path, admin_token, streams, new_match,
                                                        _server_is_up):
    """The server's keep-alive idle and request timeouts (1 s here) are for
    requests, not for a stream that has nothing to say (heartbeats every 15 s)."""
    server = _server(tmp_path, admin_token, "betsdb-stream-idle",
                     idle_timeout_ms=IDLE_TIMEOUT_MS, request_timeout_ms=IDLE_TIMEOUT_MS)
    try:
        s = open_stream(streams, server.base_url)
        # Silence for three idle timeouts is the point of the test, not a
        # wait for the server.
        time.sleep(SILENT_S)
        assert s.closed is None, f"the stream was ended ({s.closed}) after {SILENT_S}s of silence"
        match = new_match()
        expect_match_event(s.next_event(of={match["id"]}), match, "after the silence")
        server.stop()
    finally:
        server.kill()


def test_sigterm_ends_open_streams_cleanly(tmp_path, admin_token, streams, _server_is_up):
    server = _server(tmp_path, admin_token, "betsdb-stream-term")
    api = server.api(admin_token)
    try:
        everything = open_stream(streams, server.base_url)
        warm = expect_json(api.post("/v1/matches", token=admin_token, json={
            "team_1": unique_team("Warm"), "team_2": unique_team("Up"), "date": future_date(),
            "odds": {"1": 2.0}}), 201)
        counter = iter(range(1000))
        warm_up(everything, lambda: set_price(api, admin_token, warm["id"], next(counter)))
        match = expect_json(api.post("/v1/matches", token=admin_token, json={
            "team_1": unique_team("Home"), "team_2": unique_team("Away"), "date": future_date(),
            "odds": {"1": 2.0}}), 201)
        one = open_stream(streams, server.base_url, match_ids=[match["id"]],
                          last_event_id=everything.event_of(match).id)
        answer = patched(api, admin_token, match["id"], {"odds": {"1": 2.5}})
        expect_match_event(everything.event_of(answer), answer, "before SIGTERM")
        expect_match_event(one.next_event(), answer, "before SIGTERM")
        api.close()
        server.terminate()
        for s in (everything, one):
            how = s.wait_closed(SHUTDOWN_STREAMS_S, "SIGTERM to end the stream")
            assert how == "eof", f"the stream ended with {how}, not a clean close"
            assert s.pending_bytes() == b"", f"the stream ended mid-block: {s.pending_bytes()!r}"
        server.wait_exit()
    finally:
        api.close()
        server.kill()


def test_a_client_with_no_id_yet_is_given_one_so_its_reconnect_misses_nothing(api, admin_token, streams, probe,
                                                                              new_match):
    """A filtered client may hear no event for a long time: the stream gives
    it a position at once (an `id:` block without data, which sets
    EventSource's last event id and dispatches nothing), so a reconnect from
    there gets what changed while it was away."""
    watched, other = new_match(), new_match()
    probe.event_of(other)
    s = open_stream(streams, match_ids=[watched["id"]])
    given = s.wait_for(lambda blocks: next((b for b in blocks if b.id and not b.is_event), None), 5,
                       "an id block without data")
    assert given.raw == f"id: {given.id}\n\n".encode(), given
    as_tuple = lambda text: tuple(int(part) for part in text.split("-"))  # noqa: E731
    assert as_tuple(given.id) >= as_tuple(probe.event_of(other).id), "at least the newest when it opened"
    s.close()
    missed = set_price(api, admin_token, watched["id"], 1)
    again = open_stream(streams, match_ids=[watched["id"]], last_event_id=given.id)
    expect_match_event(again.next_event(), missed, "the change made while away")

"""The live stream across instances (issue 20; API.md Part 2, "Live stream"):
every instance serves every event, whichever instance the change went
through, in one order for all; a client resumes on another instance with
its Last-Event-ID; the events it missed survive the loss of the instance
it was on (the replay buffer is in the Redis Cluster, not in a process).

Instances are addressed directly (instance_urls); one client also goes
through HAProxy, as the web UI does. Stream clients come from
tests/api/stream_support.py.

An event is published just after its write has answered, so a stream
opened right after a write may still get that write's event as a live one:
streams opened after a test's set-up resume from the set-up's last event
(found on a stream opened before it), never "from now".
"""

import pytest

from api_support import expect_json, expect_status, future_date, unique_team
from stream_support import SseStream, expect_increasing_ids
from trading_support import get_match, patched

# kill -9 of an instance: its clients see their connection end.
KILLED_STREAM_S = 10
VICTIM = 2  # 1-based, as topology.kill_instance


@pytest.fixture
def streams():
    """Factory: streams(url, **SseStream kwargs) -> a 200 SseStream whose
    retry preamble has arrived (it is subscribed); closed at teardown."""
    opened = []

    def open_(url, **kw):
        s = SseStream(url, **kw)
        opened.append(s)
        expect_status(s.response, 200)
        first = s.next_block(what="the retry preamble")
        assert first is not None and first.field_names() == ["retry"], f"first block: {first}"
        return s

    yield open_
    for s in opened:
        s.close()


def _create(client, admin_token):
    return expect_json(client.post("/v1/matches", token=admin_token, json={
        "team_1": unique_team("Home"), "team_2": unique_team("Away"), "date": future_date(),
        "odds": {"1": 2.10, "X": 3.25, "2": 3.60}}), 201)


def _action(client, admin_token, match_id, action):
    return expect_json(client.post(f"/v1/matches/{match_id}/{action}", token=admin_token), 200)


def _expect_events(events, bodies, what):
    assert [e.event for e in events] == ["match"] * len(bodies), f"{what}: {events}"
    assert [e.json() for e in events] == bodies, f"{what}: {[e.data for e in events]}"
    expect_increasing_ids(events, what)


def test_a_change_through_one_instance_reaches_the_clients_of_every_instance(
        base_url, instances, instance_urls, admin_token, streams):
    a, b, c = instances
    # Unfiltered clients on every instance and one through HAProxy, opened
    # before the match exists (its creation is an event too).
    urls = list(instance_urls) + [base_url]
    everywhere = [streams(url) for url in urls]
    match = _create(a, admin_token)
    mid = match["id"]
    since = everywhere[0].event_of(match).id
    filtered = [streams(url, match_ids=[mid], last_event_id=since) for url in instance_urls]
    changes = [
        patched(b, admin_token, mid, {"odds": {"1": 2.40}}),
        _action(c, admin_token, mid, "suspend"),
        patched(a, admin_token, mid, {"max_stake": 40000}),
        _action(b, admin_token, mid, "resume"),
        patched(c, admin_token, mid, {"odds": {"X": None}}),
    ]
    for client in instances:
        assert get_match(client, mid) == changes[-1]

    seen = []
    for url, s in zip(urls, everywhere):
        events = s.next_events(1 + len(changes), of={mid})
        _expect_events(events, [match] + changes, f"client of {url}")
        seen.append([(e.id, e.data) for e in events])
    assert all(x == seen[0] for x in seen), "clients of different instances saw different ids or order"
    for url, s in zip(instance_urls, filtered):
        events = s.next_events(len(changes))
        _expect_events(events, changes, f"filtered client of {url}")
        assert [(e.id, e.data) for e in events] == seen[0][1:]


def test_a_client_resumes_on_another_instance(instances, instance_urls, admin_token, streams):
    a, b, c = instances
    probe = streams(instance_urls[2])
    match = _create(a, admin_token)
    mid = match["id"]
    first = streams(instance_urls[0], match_ids=[mid], last_event_id=probe.event_of(match).id)
    patched(a, admin_token, mid, {"odds": {"1": 2.20}})
    last = first.next_event()
    first.close()
    missed = [patched(c, admin_token, mid, {"odds": {"1": round(2.30 + 0.1 * i, 2)}}) for i in range(3)]
    again = streams(instance_urls[1], match_ids=[mid], last_event_id=last.id)
    _expect_events(again.next_events(len(missed)), missed, "the replay on another instance")
    live = patched(b, admin_token, mid, {"odds": {"2": 3.10}})
    _expect_events([again.next_event()], [live], "the first live event after the replay")


def test_missed_events_survive_the_loss_of_the_instance_the_client_was_on(
        topology, instances, instance_urls, admin_token, streams):
    survivors = [i for i in range(len(instances)) if i != VICTIM - 1]
    writer = instances[survivors[0]]
    probe = streams(instance_urls[survivors[1]])
    match = _create(writer, admin_token)
    mid = match["id"]
    s = streams(instance_urls[VICTIM - 1], match_ids=[mid], last_event_id=probe.event_of(match).id)
    patched(writer, admin_token, mid, {"odds": {"1": 2.20}})
    last = s.next_event()

    topology.kill_instance(VICTIM)
    s.wait_closed(KILLED_STREAM_S, f"the stream of the killed betsdb{VICTIM} to end")
    missed = [patched(instances[survivors[1]], admin_token, mid, {"odds": {"1": round(2.30 + 0.1 * i, 2)}})
              for i in range(3)]
    again = streams(instance_urls[survivors[0]], match_ids=[mid], last_event_id=last.id)
    _expect_events(again.next_events(len(missed)), missed, "the replay after the instance was killed")

"""The synchronous standby down (`scripts/cluster pg-stop standby`): reads
keep working; writes cannot be acknowledged (a commit waits for the standby
to flush it), so betsdb must answer 503 within the request timeout, never
hang; they resume by themselves once the standby is back; and `scripts/cluster
sync off` lets writes through with the standby still down.

What else is true, and is checked here: PostgreSQL's statement_timeout does
not bound the wait for a synchronous standby (it is disarmed before the
commit), so betsdb answers 503 on its client-side deadline (query timeout
5 s + 250 ms) and sends the backend a cancel request, so that no backend
stays in the wait holding a connection and its row locks. A cancelled wait
leaves the commit done locally: the write is visible on the primary at once
but not yet on the standby, an outcome the client could not know. Whatever
appeared, appeared once, and a keyed retry of such a write does not act
again."""

import time
import uuid

from api_support import Api, expect_json, unique_email, unique_team
from bet_support import POLL_INTERVAL_S, place_bet, poll_until, run_concurrently, user_balance
from topo_faults import ledger_audit

# betsdb's request timeout: no write may wait longer for its answer.
REQUEST_TIMEOUT_S = 10.0
READ_MAX_S = 3.0
RESUME_S = 30.0
# With synchronous replication off, a write is an ordinary local commit.
SYNC_OFF_WRITE_S = 3.0


def _timed(fn):
    started = time.monotonic()
    resp = fn()
    return resp, time.monotonic() - started


def _until_no_sync_waiters(topology, port, timeout_s):
    deadline = time.monotonic() + timeout_s
    while waiting := topology.sync_waiters(port):
        assert time.monotonic() < deadline, f"after {timeout_s}s, commits still wait for the standby: {waiting}"
        time.sleep(POLL_INTERVAL_S)


def test_standby_down_reads_work_writes_503_then_resume_and_sync_off_lets_them_through(
        topology, api, admin_token, instances, instance_urls, new_user, new_match, db, bets_db):
    a, b, c = instances
    bettor, depositor, later = new_user(balance=100_000), new_user(balance=100_000), new_user(balance=100_000)
    match = new_match()
    team = match["team_1"]
    key = f"topo-standby-{uuid.uuid4()}"
    reads = [
        lambda cl: cl.get(f"/v1/users/{bettor.id}", token=bettor.token),
        lambda cl: cl.get(f"/v1/users/{bettor.id}/bets", token=bettor.token),
        lambda cl: cl.get(f"/v1/matches?team={team}"),
        lambda cl: cl.get(f"/v1/matches/{match['id']}"),
        lambda cl: cl.get("/v1/bets/summary", token=admin_token),
        lambda cl: cl.get(f"/v1/users/{bettor.id}/transactions", token=bettor.token),
    ]
    (primary, _), (standby, _) = topology.pg_nodes()

    topology.sh("pg-stop", "standby")
    stopped = time.monotonic()
    assert topology.pg_role(standby) == "down"

    # Reads: through every instance and through HAProxy, quickly.
    for client in (a, b, c, api):
        for read in reads:
            resp, took = _timed(lambda: read(client))
            assert resp.status_code == 200 and took < READ_MAX_S, (resp.status_code, resp.text[:200], took)

    # Writes of four kinds at once, through the three instances and HAProxy.
    signup_email = unique_email()
    new_team = unique_team("Standby")
    writes = [
        lambda cl, i: place_bet(cl, bettor, match, "1", 1000, key=key),
        lambda cl, i: cl.post(f"/v1/users/{depositor.id}/deposits", token=admin_token, json={"amount": 777}),
        lambda cl, i: cl.post("/v1/matches", token=admin_token, json={
            "team_1": new_team, "team_2": unique_team("Away"), "date": "2031-07-01T18:00:00Z",
            "odds": {"1": 2.10, "X": 3.25, "2": 3.60}}),
        lambda cl, i: cl.post("/v1/users", json={"email": signup_email, "name": "Standby Down"}),
    ]
    urls = instance_urls + [topology.url]
    answers = run_concurrently(urls, admin_token, 4, lambda cl, i: _timed(lambda: writes[i](cl, i)))
    outcome = [(r.status_code, round(took, 2)) for r, took in answers]
    waiting = topology.sync_waiters(primary)
    print(f"\n[standby down] writes answered {outcome} (status, seconds); "
          f"{len(waiting)} commits wait for the standby on the primary")
    for resp, took in answers:
        assert took < REQUEST_TIMEOUT_S, f"a write took {took:.2f}s with the standby down: {outcome}"
        assert resp.status_code == 503, f"a write answered {resp.status_code} with the standby down: {outcome}"
        assert resp.json()["code"] == "service_unavailable"
    # betsdb cancels each waiting commit at its deadline, so none stays in the
    # wait. Not only the four writes: the POST /v1/matches committed locally
    # left a row in the match outbox, and each instance's publisher (sweeping
    # every second) deletes it with a commit that waits too, until its own
    # deadline (query timeout 5 s + 250 ms). So the last wait may end up to
    # about 1 + 5.25 s after the answers, later on a loaded machine.
    _until_no_sync_waiters(topology, primary, 15)
    # The cancelled waits were commits done locally: each write is there
    # once at most, already, with the standby still down.
    committed = {
        "bet": bets_db.bet_count(user_id=bettor.id),
        "deposit": int(db.balance(depositor.id) == 100_000 + 777),
        "match": db.matches_with_team(new_team),
        "signup": db.users_with_email(signup_email),
    }
    print(f"[standby down] writes answered 503 and committed locally all the same: {committed}")
    assert all(n <= 1 for n in committed.values()), committed
    assert db.balance(depositor.id) in (100_000, 100_000 + 777)
    # A read through HAProxy still works with commits waiting.
    assert expect_json(api.get(f"/v1/users/{later.id}", token=later.token), 200)["balance"] == 100_000

    # The standby back: writes resume by themselves.
    topology.sh("pg-start", "standby")
    back = time.monotonic()
    resumed = poll_until(lambda: place_bet(b, later, match, "2", 500).status_code == 201 and time.monotonic(),
                         RESUME_S, "a write to succeed once the standby is back")
    # What became of the writes answered 503, now also on the standby.
    appeared = {
        "bet": bets_db.bet_count(user_id=bettor.id),
        "deposit": int(db.balance(depositor.id) == 100_000 + 777),
        "match": db.matches_with_team(new_team),
        "signup": db.users_with_email(signup_email),
    }
    print(f"[standby down] standby down {back - stopped:.1f}s; first write after its return "
          f"{resumed - back:.2f}s later; writes answered 503 that were committed after all: {appeared}")
    # Whatever appeared, appeared once; a keyed retry of the bet (through
    # another instance) does not act again.
    assert all(n <= 1 for n in appeared.values()), appeared
    retry = place_bet(c, bettor, match, "1", 1000, key=key)
    print(f"[standby down] the keyed retry of the bet answered 503 before: {retry.status_code} "
          f"{retry.json().get('code', '') if retry.status_code >= 400 else ''}")
    assert retry.status_code in (201, 409), retry.text
    assert bets_db.bet_count(user_id=bettor.id, match_id=match["id"]) == 1
    assert user_balance(api, admin_token, bettor.id) == 100_000 - 1000
    ledger_audit(topology, db, bets_db, "after the standby's return:")

    # Down again, and the operator's way out: sync off.
    topology.sh("pg-stop", "standby")
    resp, took = _timed(lambda: place_bet(a, later, match, "X", 500))
    assert resp.status_code == 503 and took < REQUEST_TIMEOUT_S, (resp.status_code, took)
    switched = time.monotonic()
    topology.sh("sync", "off")
    print(f"[standby down] scripts/cluster sync off took {time.monotonic() - switched:.2f}s")
    # The bet answered 503 was committed locally: its wait ends by betsdb's
    # cancel request or by the switch, whichever lands first; it stands, once.
    poll_until(lambda: bets_db.bet_count(user_id=later.id, match_id=match["id"]) == 2, 10,
               "the bet answered 503 to stand once its wait has ended")
    writer = Api(topology.url, admin_token)
    try:
        for selection_user in (new_user(balance=10_000) for _ in range(3)):
            resp, took = _timed(lambda: place_bet(writer, selection_user, match, "1", 100))
            assert resp.status_code == 201 and took < SYNC_OFF_WRITE_S, (resp.status_code, resp.text[:200], took)
    finally:
        writer.close()
    assert topology.pg_role(standby) == "down"
    assert topology.sync_waiters(primary) == [], "a commit still waits for the standby"
    ledger_audit(topology, db, bets_db, "with sync off:")

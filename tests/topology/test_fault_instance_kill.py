"""kill -9 of one betsdb instance under load through HAProxy: HAProxy
stops sending it requests within its check interval (inter 500ms, fall 2);
meanwhile a request that cannot connect is retried on another instance
(retry-on conn-failure), so only the requests in flight on the dead
instance fail (HAProxy answers 502). No acknowledged bet is lost."""

from cluster_checks import acked_bets_in_db, no_duplicates, reads_were_current, replays_agree
from cluster_load import count_ops
from topo_faults import failed, failure_window, ledger_audit, unexpected_answers

import bet_support

WARM_UP_S = 30
# fall 2 x inter 500ms, plus a check's own time and a loaded machine.
DETECTION_S = 3.0
VICTIM = 2


def test_kill_9_of_an_instance_costs_only_its_requests_in_flight(topology, load, new_user, db, bets_db):
    bettors = [new_user(balance=10**9) for _ in range(3)]
    carter = new_user(balance=10**9)
    run = load()
    for user in bettors:
        run.bettor(user)
    run.carter(carter)
    run.match_maker()
    run.wait_for(lambda a: count_ops(a, "bet") >= 20 and count_ops(a, "checkout") >= 1, WARM_UP_S,
                 "the load to warm up")

    killed = run.at(topology.kill_instance(VICTIM))
    down = bet_support.poll_until(
        lambda: topology.server_states()[f"betsdb{VICTIM}"].startswith("DOWN") and run.now(),
        10, f"HAProxy to mark betsdb{VICTIM} down")
    run.wait_for(lambda a: count_ops(a, "bet", after=down) >= 20 and run.now() >= down + 2, 30,
                 "the load to go on without the victim")
    attempts = run.stop()

    summary, bad = failure_window(attempts, killed)
    print(f"\n[instance kill] betsdb{VICTIM} killed at +{killed:.2f}s; HAProxy marked it DOWN "
          f"{down - killed:.2f}s later; {summary}")
    assert down - killed <= DETECTION_S, f"HAProxy took {down - killed:.2f}s to mark the dead instance down"
    # Only requests in flight on the victim may fail: none that started
    # once HAProxy had it out of rotation (those before are retried on a
    # connection failure).
    late = [a for a in bad if a.started > down]
    assert not late, f"requests failed after HAProxy routed around the dead instance: {late[:10]}"
    assert not unexpected_answers(attempts), unexpected_answers(attempts)[:10]
    assert any(a.op == "bet" and a.status == 201 and a.started > down for a in attempts)

    # A key whose request died with the victim may stay "in progress" (its
    # record's 60 s): allowed only for a key that met such a failure.
    died = {a.key for a in bad if a.key and a.started <= down}
    stuck = [k for _, k in run.keys_unresolved if k not in died]
    assert not stuck, f"keys unresolved that never met the dead instance: {stuck}"
    print(f"[instance kill] keys still in progress after their request died with the instance: "
          f"{len(run.keys_unresolved)}")
    reads_were_current(run)
    acked_bets_in_db(run, db, bets_db)
    no_duplicates(run, db, bets_db, [u.id for u in bettors + [carter]])
    replays_agree(run)
    ledger_audit(topology, db, bets_db, "after an instance crash:")

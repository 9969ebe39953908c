"""kill -9 of the PostgreSQL primary under load, then `scripts/cluster
pg-promote` (pg_ctl promote of the synchronous standby): every instance's
multi-host URL (target_session_attrs=read-write) finds the new primary by
itself, with no restart. Commits were synchronous, so every acknowledged
bet is on the promoted standby; the ledger audit (`betsdb check`) passes.
Afterwards the fixture rebuilds the old primary as a standby (scripts/cluster
up: pg_rewind) and turns synchronous replication back on: the runbook."""

import time

from cluster_checks import acked_bets_in_db, every_key_resolved, no_duplicates, reads_were_current, replays_agree
from cluster_load import count_ops
from topo_faults import failure_window, ledger_audit, unexpected_answers

WARM_UP_S = 30
# From the promotion to the first bet placed after it.
RESUME_S = 10.0
# No answer may take longer than betsdb's request timeout.
MAX_ANSWER_S = 10.0


def test_primary_crash_then_promotion_resumes_writes_without_restarting_betsdb(
        topology, load, new_user, db, bets_db):
    pids = [topology.instance_pid(i) for i in range(1, topology.instances + 1)]
    (primary, primary_dir), (standby, _) = topology.pg_nodes()
    bettors = [new_user(balance=10**9) for _ in range(3)]
    carter = new_user(balance=10**9)
    run = load()
    for user in bettors:
        run.bettor(user)
    run.carter(carter)
    run.match_maker()
    run.wait_for(lambda a: count_ops(a, "bet") >= 20 and count_ops(a, "checkout") >= 1, WARM_UP_S,
                 "the load to warm up")

    killed = run.at(topology.kill_pg(primary_dir))
    promote_started = time.monotonic()
    topology.sh("pg-promote")
    promoted = run.now()
    assert topology.pg_role(standby) == "primary"

    def resumed(attempts):
        return [a for a in attempts if a.op == "bet" and a.status == 201 and a.started >= promoted]

    run.wait_for(lambda a: resumed(a), 30, "a bet to be placed on the new primary")
    resumed_at = min(a.ended for a in resumed(run.snapshot()))
    run.wait_for(lambda a: count_ops(a, "bet", after=resumed_at) >= 20 and count_ops(a, "checkout", after=resumed_at) >= 1,
                 30, "the load to go on")
    attempts = run.stop()

    summary, bad = failure_window(attempts, killed)
    print(f"\n[pg failover] primary :{primary} killed at +{killed:.2f}s; pg-promote of :{standby} took "
          f"{promoted - run.at(promote_started):.2f}s, done at +{promoted - killed:.2f}s; "
          f"first bet placed on it at +{resumed_at - killed:.2f}s; {summary}")
    slow = [a for a in attempts if a.took > MAX_ANSWER_S]
    assert not slow, f"answers slower than the request timeout: {slow[:10]}"
    assert resumed_at - promoted <= RESUME_S, f"writes resumed {resumed_at - promoted:.2f}s after the promotion"
    late = [a for a in bad if a.started > resumed_at + 1.0]
    assert not late, f"requests still failing once writes had resumed: {late[:10]}"
    assert not unexpected_answers(attempts), unexpected_answers(attempts)[:10]
    assert [topology.instance_pid(i) for i in range(1, topology.instances + 1)] == pids
    for url in topology.instance_urls:
        assert topology.ready(url), f"{url} not ready on the new primary"

    every_key_resolved(run)
    reads_were_current(run)
    acked_bets_in_db(run, db, bets_db)
    no_duplicates(run, db, bets_db, [u.id for u in bettors + [carter]])
    replays_agree(run)
    ledger_audit(topology, db, bets_db, "after a failover:")

"""What the topology fault tests measure and check, on top of tests/cluster's
load (cluster_load.Load: bettors with Idempotency-Keys retried until a final
answer, carters, a match maker, each checking read-your-writes) and checks
(cluster_checks)."""

import cluster_load

# A worker retries one key this long before it gives up (tests/cluster: 30 s).
# A key whose request died with an instance stays "in progress" for the
# record's 60 s; waiting that out would only make the test longer.
cluster_load.RETRY_S = 12

# Final answers that are not failures: the load's keyed retries meet these
# when a first try's answer was lost (docs/api.md, Idempotency).
EXPECTED_REFUSALS = {(409, "bet_in_progress"), (409, "checkout_in_progress"), (409, "duplicate_bet"),
                     (422, "cart_empty")}


def failed(attempt):
    """A request the client saw fail: no answer, or a 5xx."""
    return attempt.error is not None or attempt.status >= 500


def unexpected_answers(attempts):
    """Answers that are neither success, a failure, nor an expected refusal."""
    return [a for a in attempts if not failed(a) and a.status >= 400
            and (a.status, a.code) not in EXPECTED_REFUSALS]


def failure_window(attempts, origin):
    """'N failed requests from +a to +b s' relative to `origin` (load clock)."""
    bad = [a for a in attempts if failed(a)]
    if not bad:
        return "no failed request", bad
    first, last = min(a.started for a in bad), max(a.ended for a in bad)
    kinds = {}
    for a in bad:
        what = a.error.split(":")[0] if a.error else str(a.status)
        kinds[f"{a.op} {what}"] = kinds.get(f"{a.op} {what}", 0) + 1
    return (f"{len(bad)} failed requests of {len(attempts)}, from +{first - origin:.2f}s to "
            f"+{last - origin:.2f}s (a window of {last - first:.2f}s): {kinds}"), bad


def ledger_audit(topology, db, bets_db, context):
    """The SQL invariant, and `betsdb check` through the multi-host URL."""
    bets_db.expect_invariant(context)
    rc, out = topology.check_cli()
    assert rc == 0, f"{context} betsdb check: exit {rc}\n{out}"

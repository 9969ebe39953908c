"""What every cluster failure test proves after its load has stopped:
nothing acknowledged is lost or doubled in PostgreSQL, the ledger holds,
read-your-writes held, carts kept their acknowledged items, and no request
ended otherwise than the test allows."""

import os
import re
import statistics
import subprocess

from api_support import Api, expect_json
from cluster_load import replay
from bet_support import required_env
from fault_support import expect_money_consistent

CHECK_TIMEOUT_S = 120


def acked_bets_in_db(load, db, bets_db):
    """Every acknowledged bet is a row of its user, match, selection and stake."""
    acked = {a.bet_id: a for a in load.acked}
    assert len(acked) == len(load.acked), "one bet id acknowledged twice (two answers for one bet)"
    if not acked:
        return
    rows = db.query(f"SELECT id, user_id, match_id, selection, stake, status FROM {bets_db.bets_table} "
                    f"WHERE id = ANY(%s)", (list(acked),))
    found = {row[0]: row for row in rows}
    lost = sorted(set(acked) - set(found))
    assert not lost, f"acknowledged bets missing from PostgreSQL: {[acked[i] for i in lost][:20]}"
    for bet_id, a in acked.items():
        _, user_id, match_id, selection, stake, status = found[bet_id]
        assert (user_id, match_id, selection, stake) == (a.user_id, a.match_id, a.selection, a.stake), \
            (a, found[bet_id])
        assert status != "void", (a, found[bet_id])


def replays_agree(load, excused=lambda replay: False):
    """Every acknowledged key, sent again, gets its first answer back (bets
    and checkouts), unless excused(replay) (a crash may lose a record: the
    retry then meets the database's guard). Returns the excused replays."""
    replays = replay(load)
    differ = [r for r in replays if not r[6]]
    unexcused = [r[:2] + r[3:] for r in differ if not excused(r)]
    assert not unexcused, f"retries of answered keys that did not get their answer back: {unexcused[:10]}"
    assert replays or not load.keyed
    return [r for r in differ]


def no_duplicates(load, db, bets_db, user_ids):
    """At most one live bet per (user, match, selection) of the load's users,
    and every key's 201 answers agree (a replay is the first answer)."""
    dups = db.query(
        f"SELECT user_id, match_id, selection, count(*) FROM {bets_db.bets_table} "
        f"WHERE status <> 'void' AND type = 'single' AND user_id = ANY(%s) "
        f"GROUP BY user_id, match_id, selection "
        f"HAVING count(*) > 1", (list(user_ids),))
    assert dups == [], f"duplicated bets: {dups[:20]}"
    disagree = {key: answers for key, answers in load.answers_by_key.items() if len(set(answers)) > 1}
    assert not disagree, f"keys answered with different bets: {disagree}"


def ledger_consistent(db, bets_db, context):
    """The SQL invariant, and `betsdb check` on the test database (exit 0)."""
    expect_money_consistent(db, bets_db, context)
    exe = f"/proc/{required_env('BETSDB_TEST_SERVER_PID')}/exe"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BETSDB_")}
    env["BETSDB_DATABASE_URL"] = required_env("BETSDB_TEST_DATABASE_URL")
    result = subprocess.run(["betsdb", "check"], executable=exe, env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=CHECK_TIMEOUT_S)
    assert result.returncode == 0, f"betsdb check: exit {result.returncode}\n{result.stdout}\n{result.stderr}"


def carts_kept(load, base_url, admin_token, users, lost_allowed=lambda item: False):
    """Every acknowledged item that no acknowledged checkout placed is still
    in its user's cart. Returns the items lost that lost_allowed(item) let
    pass (item: (user_id, item_id, match_id, selection, acknowledged at))."""
    client = Api(base_url, admin_token)
    try:
        carts = {u.id: {i["item_id"] for i in expect_json(client.get(f"/v1/users/{u.id}/cart", token=u.token),
                                                          200)["items"]}
                 for u in users}
    finally:
        client.close()
    lost = [item for item in load.acked_items
            if (item[0], item[1]) not in load.checked_out and item[1] not in carts.get(item[0], set())]
    unexplained = [item for item in lost if not lost_allowed(item)]
    assert not unexplained, f"acknowledged cart items lost: {unexplained}"
    return lost


def reads_were_current(load, lost_allowed=lambda item: False):
    """No read missed an acknowledged write, except reads that missed only
    cart items lost_allowed(item) excuses (a crash's lost writes)."""
    broken = [v for v in load.ryw_violations
              if not v["items"] or not all(lost_allowed(item) for item in v["items"])]
    assert not broken, f"read-your-writes broken: {broken[:10]}"


def every_key_resolved(load):
    assert not load.keys_unresolved, f"keys still failing after the retry bound: {load.keys_unresolved}"


def unexpected(attempts, allowed):
    """Attempts whose (status, code) allowed[op] does not list; an exception
    (a timeout, a reset) is always unexpected. allowed[op]: a set of statuses
    or of (status, code) pairs."""
    bad = []
    for a in attempts:
        ok = allowed.get(a.op, set())
        if a.error is not None or not (a.status in ok or (a.status, a.code) in ok):
            bad.append(a)
    return bad


def latency(attempts):
    """'n=.. p50=..ms max=..ms' of some attempts."""
    took = sorted(a.took for a in attempts)
    if not took:
        return "n=0"
    p99 = took[min(len(took) - 1, int(len(took) * 0.99))]
    return (f"n={len(took)} p50={statistics.median(took) * 1000:.0f}ms p99={p99 * 1000:.0f}ms "
            f"max={took[-1] * 1000:.0f}ms")


def server_log_mentions(pattern):
    """Lines of the suite server's log matching `pattern` (a regex)."""
    path = required_env("BETSDB_TEST_SERVER_LOG")
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", errors="replace")
    return [line for line in text.splitlines() if re.search(pattern, line)]


def redirect_counts(samples):
    """{kind: total} of the cluster client's redirect counters in /metrics
    (read by prefix: the counter's exact name and extra labels may vary)."""
    out = {}
    for (name, labels), value in samples.items():
        if name.startswith("betsdb_redis_cluster_redirect"):
            kind = dict(labels).get("kind", "?")
            out[kind] = out.get(kind, 0) + value
    return out

"""The summary from kept totals (docs/architecture.md, "The summary's totals";
migration 010): exact under concurrent placements, accumulators, settlements,
cash-outs and folds, read without a scan of the bets, and checked against a
full recount by `betsdb check`.
"""

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest

from api_support import Api, expect_json, expect_status
from bet_support import create_user, settle
from cache_support import Truth, get_json
from test_cli import betsdb, show

MAX_STAKE = 100_000_000  # API.md: a stake is at most 1,000,000.00
WORKERS = 8
BETS_PER_WORKER = 12


@pytest.fixture
def truth(db, bets_db):
    return Truth(db, bets_db)


def _table(db, name):
    return db.users_table.replace("users", name)


def _fold(db):
    """Folds now, waiting for a fold the server may be running."""
    return db.scalar("SELECT fold_bet_total_changes(true)")


def _unfolded(db):
    return db.scalar(f"SELECT count(*) FROM {_table(db, 'bet_total_changes')}")


@contextlib.contextmanager
def _folds_held(db):
    """Holds the fold's advisory lock, so the server's own folds skip their
    turns and every change made meanwhile stays unfolded."""
    lock = psycopg2.connect(db.conn.dsn)
    try:
        with lock.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended("
                        "'betsdb.fold_bet_total_changes.' || current_schema(), 0))")
        yield
    finally:
        lock.rollback()
        lock.close()


def _settle_with_own_client(base_url, admin_token, match_id, result):
    client = Api(base_url, admin_token)
    try:
        return settle(client, admin_token, match_id, result)
    finally:
        client.close()


def test_the_summary_equals_a_recount_after_concurrent_bets_settlements_cash_outs_and_folds(
        api, base_url, admin_token, db, new_match, truth):
    """Everything that changes a bet's count or status, at once, on the same
    matches, while the totals are folded over and over: the summary (and the
    totals behind it) still equal a count of the bets."""
    matches = [new_match() for _ in range(4)]
    bettors = [create_user(api, admin_token, 1_000_000) for _ in range(WORKERS)]
    errors = []
    done = threading.Event()

    def bet_and_cash_out(index):
        client = Api(base_url, admin_token)
        try:
            user = bettors[index]
            for i in range(BETS_PER_WORKER):
                match = matches[(index + i) % 2]  # two matches take every single
                if i % 4 == 3:
                    legs = [{"match_id": matches[2]["id"], "selection": "1"},
                            {"match_id": matches[3]["id"], "selection": ["1", "X", "2"][i % 3]}]
                    body = {"user_id": user.id, "stake": 100 + i, "legs": legs}
                else:
                    body = {"user_id": user.id, "match_id": match["id"],
                            "selection": ["1", "X", "2"][i % 3], "stake": 100 + i}
                resp = client.post("/v1/bets", json=body, token=user.token)
                # The same selection twice is a duplicate, and a settled match
                # is closed: refusals by design, which must change no total.
                if resp.status_code in (409, 422):
                    continue
                bet = expect_json(resp, 201)
                if i % 4 == 3 and i % 8 == 7:
                    quote = client.post(f"/v1/bets/{bet['id']}/cash-out/quote", token=user.token)
                    if quote.status_code == 201:
                        client.post(f"/v1/bets/{bet['id']}/cash-out",
                                    json={"quote_id": quote.json()["quote_id"]}, token=user.token)
        except Exception as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)
        finally:
            client.close()

    def fold_repeatedly():
        conn = psycopg2.connect(db.conn.dsn)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while not done.is_set():
                    cur.execute("SELECT fold_bet_total_changes(false)")
        except Exception as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)
        finally:
            conn.close()

    folder = threading.Thread(target=fold_repeatedly)
    folder.start()
    try:
        with ThreadPoolExecutor(max_workers=WORKERS + 1) as pool:
            bets = [pool.submit(bet_and_cash_out, i) for i in range(WORKERS)]
            # One match settled while bets on it and on the others go on.
            settled = pool.submit(_settle_with_own_client, base_url, admin_token, matches[1]["id"], "X")
            for f in bets:
                f.result()
            expect_status(settled.result(), 200)
        expect_status(settle(api, admin_token, matches[2]["id"], "1"), 200)
        expect_status(settle(api, admin_token, matches[0]["id"], "void"), 200)
    finally:
        done.set()
        folder.join()
    assert not errors, errors

    assert get_json(api, "/v1/bets/summary", token=admin_token) == truth.summary()
    _fold(db)
    assert _unfolded(db) == 0
    assert get_json(api, "/v1/bets/summary", token=admin_token) == truth.summary()
    result = betsdb("check")
    assert result.returncode == 0, show(result)
    assert "summary totals consistent" in result.stdout, show(result)


def test_a_summary_miss_reads_no_bet(api, admin_token, db, new_user, new_match, truth):
    """With the bets table locked against every reader, a cold summary still
    answers, and right: it is computed from the totals alone."""
    bettor = new_user(balance=10_000)
    match = new_match()
    expect_status(api.post("/v1/bets", json={"user_id": bettor.id, "match_id": match["id"],
                                            "selection": "2", "stake": 700}, token=bettor.token), 201)
    expected = truth.summary()  # the write above made the cached summary cold
    lock = psycopg2.connect(db.conn.dsn)
    try:
        with lock.cursor() as cur:
            cur.execute("SET lock_timeout = '10s'")
            cur.execute(f"LOCK TABLE {_table(db, 'bets')} IN ACCESS EXCLUSIVE MODE")
        assert get_json(api, "/v1/bets/summary", token=admin_token) == expected
    finally:
        lock.rollback()
        lock.close()


def test_unfolded_changes_count_at_once_and_in_the_top_matches(api, admin_token, db, new_user,
                                                               new_match, truth):
    """A bet counts in the summary from its commit, before any fold: the top
    matches mix folded totals with changes not folded yet."""
    _fold(db)
    # Enough to enter the top ten, where the new match can only be if the
    # summary counts what is not folded yet.
    top = get_json(api, "/v1/bets/summary", token=admin_token)["top_matches"]
    needed = top[9]["stake"] + 1 if len(top) == 10 else 1
    # One bet stakes at most MAX_STAKE: as many as it takes, three selections a bettor.
    stakes = [MAX_STAKE] * (needed // MAX_STAKE) + ([needed % MAX_STAKE] if needed % MAX_STAKE else [])
    bettors = [new_user(balance=3 * MAX_STAKE) for _ in range((len(stakes) + 2) // 3)]
    match = new_match()
    with _folds_held(db):
        for i, stake in enumerate(stakes):
            bettor = bettors[i // 3]
            expect_status(api.post("/v1/bets", json={"user_id": bettor.id, "match_id": match["id"],
                                                    "selection": ["1", "X", "2"][i % 3], "stake": stake},
                                   token=bettor.token), 201)
        assert _unfolded(db) >= 1
        summary = get_json(api, "/v1/bets/summary", token=admin_token)
        assert summary == truth.summary()
        assert {"match_id": match["id"], "bets": len(stakes), "stake": needed} in summary["top_matches"]


def test_check_names_a_match_whose_kept_totals_differ(api, db, new_user, new_match):
    bettor = new_user(balance=5_000)
    match = new_match()
    expect_status(api.post("/v1/bets", json={"user_id": bettor.id, "match_id": match["id"],
                                            "selection": "1", "stake": 1_000}, token=bettor.token), 201)
    _fold(db)
    table = _table(db, "match_bet_totals")
    db.query(f"UPDATE {table} SET stake = stake + 1 WHERE match_id = %s RETURNING match_id", (match["id"],))
    try:
        result = betsdb("check")
        assert result.returncode == 1, show(result)
        assert f"match {match['id']}: the summary's kept totals differ" in result.stdout, show(result)
        assert "summary totals INCONSISTENT: 0 of" in result.stdout, show(result)
    finally:
        db.query(f"UPDATE {table} SET stake = stake - 1 WHERE match_id = %s RETURNING match_id",
                 (match["id"],))
    totals = _table(db, "bet_totals")
    db.query(f"UPDATE {totals} SET bets = bets + 1 WHERE type = 'single' AND selection = '1' "
             "AND status = 'pending' RETURNING bets")
    try:
        result = betsdb("check")
        assert result.returncode == 1, show(result)
        assert "summary totals INCONSISTENT: 1 of" in result.stdout, show(result)
    finally:
        db.query(f"UPDATE {totals} SET bets = bets - 1 WHERE type = 'single' AND selection = '1' "
                 "AND status = 'pending' RETURNING bets")
    result = betsdb("check")
    assert result.returncode == 0, show(result)
    assert "summary totals consistent" in result.stdout, show(result)


@pytest.mark.parametrize("status", [None, "pending", "won", "cashed_out"])
def test_the_admin_list_total_comes_from_the_totals_and_is_exact(api, admin_token, db, bets_db, new_user,
                                                                 new_match, status):
    """GET /v1/bets with no filter but the status takes its total from the
    kept totals: exact before a fold (changes held unfolded) and after one."""
    bettor = new_user(balance=10_000)
    match = new_match()
    params = {"limit": 1} | ({"status": status} if status else {})
    where, args = ("WHERE status = %s", (status,)) if status else ("", ())

    def total():
        return get_json(api, "/v1/bets", token=admin_token, params=params)["total"]

    def counted():
        return db.scalar(f"SELECT count(*) FROM {bets_db.bets_table} {where}", args)

    with _folds_held(db):
        expect_status(api.post("/v1/bets", json={"user_id": bettor.id, "match_id": match["id"],
                                                "selection": "X", "stake": 300}, token=bettor.token), 201)
        assert _unfolded(db) >= 1
        assert total() == counted()
    _fold(db)
    assert total() == counted()


def test_a_filtered_admin_list_still_counts_its_bets(api, admin_token, new_user, new_match):
    """A match filter also matches accumulators' legs: not a kept total."""
    bettor = new_user(balance=10_000)
    legs = [new_match(), new_match()]
    expect_status(api.post("/v1/bets", json={"user_id": bettor.id, "match_id": legs[0]["id"],
                                            "selection": "1", "stake": 100}, token=bettor.token), 201)
    expect_status(api.post("/v1/bets", json={
        "user_id": bettor.id, "stake": 100,
        "legs": [{"match_id": m["id"], "selection": "2"} for m in legs]}, token=bettor.token), 201)
    body = get_json(api, "/v1/bets", token=admin_token, params={"match_id": legs[0]["id"]})
    assert body["total"] == 2 and len(body["items"]) == 2
    body = get_json(api, "/v1/bets", token=admin_token, params={"match_id": legs[1]["id"], "status": "pending"})
    assert body["total"] == 1 and len(body["items"]) == 1

"""Soak test (issue 6): a bounded run (BETSDB_SOAK_SECONDS, default 120 s) of
mixed load from several clients against a betsdb of its own (the binary under
test, on the suite's database and Redis). Afterwards:

- no 5xx, no dropped connection, only the 4xx answers the contract names for
  what the clients did;
- every user's balance equals the sum of their ledger, no balance below zero,
  no bet duplicated (SQL), every bet the API reported exists exactly once,
  every idempotent retry got the first answer, every settled bet has exactly
  the payout or refund it should;
- RSS (sampled from /proc/PID/status) levelled off after a warm-up instead of
  growing without bound; the server exits 0 on SIGTERM with no sanitizer (or
  LeakSanitizer) report.

Run with scripts/test --long (pytest tests/long); tests/api does not collect it.
"""

import os
import random
import threading
import time
import uuid

import pytest

from api_support import Api, expect_json, future_date, unique_email, unique_team
from bet_support import required_env
from fault_support import Load, ServerProcess, expect_money_consistent, summarize

SOAK_S = float(os.environ.get("BETSDB_SOAK_SECONDS", "120"))
BETTORS = 4
START_BALANCE = 50_000_000
INITIAL_MATCHES = 20
RSS_SAMPLE_S = 2.0
# RSS may grow while caches, pools and allocator arenas warm up (the first
# 30% of the run); from the middle of the run to its end it must level off.
WARMUP_FRACTION = 0.3
RSS_GROWTH_FACTOR = 1.15
RSS_GROWTH_SLACK_KB = 24 * 1024
# A smaller ASan quarantine, so that freed memory held for use-after-free
# detection (256 MB by default) does not read as growth.
ASAN_QUARANTINE = "quarantine_size_mb=16"

OK = {200, 201, 204}
ALLOWED_CODES = {
    "bet": {"duplicate_bet", "bet_in_progress", "match_closed", "insufficient_funds"},
    "bet_replay": {"duplicate_bet", "bet_in_progress", "match_closed", "insufficient_funds"},
    "cart_add": {"duplicate_item", "match_closed", "cart_full"},
    "checkout": {"cart_empty", "match_closed", "duplicate_bet", "insufficient_funds", "checkout_in_progress"},
    "cart_clear": set(),
    "my_bets": set(), "transactions": set(), "matches": set(), "me": set(), "match": set(),
    "create_match": set(), "settle": set(), "deposit": set(), "change_odds": {"match_closed"},
    "all_bets": set(), "summary": set(), "health": set(),
}


class Soak:
    def __init__(self, api, admin_token):
        self.admin = admin_token
        self.bettors = [expect_json(api.post("/v1/users", token=admin_token, json={
            "email": unique_email(), "name": f"Soak {i}", "balance": START_BALANCE}), 201) for i in range(BETTORS)]
        self.lock = threading.Lock()
        self.open_matches = [self.new_match(api) for _ in range(INITIAL_MATCHES)]
        self.placed = {}        # bet id -> user id, from every 201 (bets and checkouts)
        self.replay_mismatches = []
        self.rngs = [random.Random(1000 + i) for i in range(BETTORS + 2)]

    def new_match(self, api):
        return expect_json(api.post("/v1/matches", token=self.admin, json={
            "team_1": unique_team("Soak"), "team_2": unique_team("Soak"), "date": future_date(),
            "odds": {"1": 1.85, "X": 3.40, "2": 4.20}}), 201)

    def some_match(self, rng):
        with self.lock:
            return rng.choice(self.open_matches) if self.open_matches else None

    def record_bets(self, bets):
        with self.lock:
            for bet in bets:
                assert bet["id"] not in self.placed, f"bet {bet['id']} reported twice"
                self.placed[bet["id"]] = bet["user_id"]

    # ---------------------------------------------------------------- steps

    def step(self, client, worker, i):
        if worker < BETTORS:
            return self.bettor(client, worker)
        if worker == BETTORS:
            return self.operator(client)
        return self.reader(client)

    def bettor(self, client, worker):
        rng = self.rngs[worker]
        user = self.bettors[worker]
        uid, token = user["id"], user["token"]
        k = rng.random()
        if k < 0.35:
            match = self.some_match(rng)
            if match is None:
                return "bet", None
            body = {"user_id": uid, "match_id": match["id"], "selection": rng.choice("1X2"),
                    "stake": rng.randint(1, 500)}
            key = f"soak-{uuid.uuid4()}" if rng.random() < 0.3 else None
            headers = {"Idempotency-Key": key} if key else None
            resp = client.post("/v1/bets", json=body, token=token, headers=headers)
            if resp.status_code == 201:
                self.record_bets([resp.json()])
            if key is None:
                return "bet", resp
            again = client.post("/v1/bets", json=body, token=token, headers=headers)
            if resp.status_code != 409 and (again.status_code, again.content) != (resp.status_code, resp.content):
                with self.lock:
                    self.replay_mismatches.append((resp.status_code, resp.text[:200], again.status_code,
                                                   again.text[:200]))
            return "bet_replay", again
        if k < 0.45:
            match = self.some_match(rng)
            if match is None:
                return "cart_add", None
            return "cart_add", client.post(f"/v1/users/{uid}/cart/items", token=token, json={
                "match_id": match["id"], "selection": rng.choice("1X2"), "stake": rng.randint(1, 300)})
        if k < 0.50:
            resp = client.post(f"/v1/users/{uid}/cart/checkout", token=token,
                               headers={"Idempotency-Key": f"soak-{uuid.uuid4()}"})
            if resp.status_code == 201:
                self.record_bets(resp.json()["bets"])
            elif resp.status_code in (409, 422) and resp.json().get("code") in ("match_closed", "duplicate_bet"):
                client.delete(f"/v1/users/{uid}/cart", token=token)  # start a fresh cart
            return "checkout", resp
        if k < 0.52:
            return "cart_clear", client.delete(f"/v1/users/{uid}/cart", token=token)
        if k < 0.67:
            params = {"limit": rng.choice([5, 20, 100]), "sort": rng.choice(["-created_at", "stake", "-stake"])}
            if rng.random() < 0.5:
                params["status"] = rng.choice(["pending", "won", "lost", "void"])
            return "my_bets", client.get(f"/v1/users/{uid}/bets", params=params, token=token)
        if k < 0.77:
            return "transactions", client.get(f"/v1/users/{uid}/transactions", params={"limit": 50}, token=token)
        if k < 0.92:
            return "matches", client.get("/v1/matches", params={"status": "open", "limit": 50})
        return "me", client.get(f"/v1/users/{uid}", token=token)

    def operator(self, client):
        rng = self.rngs[BETTORS]
        k = rng.random()
        if k < 0.15:
            match = self.new_match(client)
            with self.lock:
                self.open_matches.append(match)
            return "create_match", None
        if k < 0.25:
            with self.lock:
                if len(self.open_matches) <= 5:
                    return "settle", None
                match = self.open_matches.pop(rng.randrange(len(self.open_matches)))
            return "settle", client.post(f"/v1/matches/{match['id']}/result", token=self.admin,
                                         json={"result": rng.choice(["1", "X", "2", "void"])})
        if k < 0.35:
            user = rng.choice(self.bettors)
            return "deposit", client.post(f"/v1/users/{user['id']}/deposits", token=self.admin,
                                          json={"amount": rng.randint(1, 10_000)})
        if k < 0.50:
            match = self.some_match(rng)
            if match is None:
                return "change_odds", None
            return "change_odds", client.patch(f"/v1/matches/{match['id']}", token=self.admin,
                                               json={"odds": {rng.choice("1X2"): rng.choice([1.5, 2.25, 3.1])}})
        if k < 0.75:
            return "all_bets", client.get("/v1/bets", params={"limit": 50, "sort": "-stake"}, token=self.admin)
        return "summary", client.get("/v1/bets/summary", token=self.admin)

    def reader(self, client):
        rng = self.rngs[BETTORS + 1]
        k = rng.random()
        if k < 0.5:
            match = self.some_match(rng)
            if match is not None and rng.random() < 0.5:
                return "matches", client.get("/v1/matches", params={"team": match["team_1"]})
            return "matches", client.get("/v1/matches", params={"sort": "-date", "limit": 20,
                                                                "offset": rng.randint(0, 40)})
        if k < 0.9:
            match = self.some_match(rng)
            if match is None:
                return "match", None
            return "match", client.get(f"/v1/matches/{match['id']}")
        return "health", client.get("/healthz")


def _settlement_mismatches(db, bets_table):
    """Settled bets whose payout/refund rows are not exactly what their status says."""
    return db.query(
        f"""
        SELECT b.id, b.status, b.stake, b.potential_payout,
               count(l.*) FILTER (WHERE l.kind = 'payout'), coalesce(sum(l.amount) FILTER (WHERE l.kind = 'payout'), 0),
               count(l.*) FILTER (WHERE l.kind = 'refund'), coalesce(sum(l.amount) FILTER (WHERE l.kind = 'refund'), 0)
          FROM {bets_table} b
          LEFT JOIN {db.ledger_table} l ON l.bet_id = b.id
         GROUP BY b.id, b.status, b.stake, b.potential_payout
        HAVING (b.status = 'won' AND (count(l.*) FILTER (WHERE l.kind = 'payout') <> 1
                                      OR coalesce(sum(l.amount) FILTER (WHERE l.kind = 'payout'), 0) <> b.potential_payout))
            OR (b.status = 'void' AND (count(l.*) FILTER (WHERE l.kind = 'refund') <> 1
                                       OR coalesce(sum(l.amount) FILTER (WHERE l.kind = 'refund'), 0) <> b.stake))
            OR (b.status IN ('lost', 'pending') AND count(l.*) FILTER (WHERE l.kind IN ('payout', 'refund')) <> 0)
        """)


@pytest.mark.long
def test_soak_mixed_load(tmp_path, admin_token, db, bets_db):
    asan = os.environ.get("ASAN_OPTIONS", "")
    server = ServerProcess(tmp_path, name="betsdb-soak", admin_token=admin_token,
                           database_url=required_env("BETSDB_TEST_DATABASE_URL"),
                           redis_url=required_env("BETSDB_TEST_REDIS_URL"),
                           extra_env={"ASAN_OPTIONS": f"{asan}:{ASAN_QUARANTINE}" if asan else ASAN_QUARANTINE})
    try:
        api = Api(server.base_url, admin_token)
        soak = Soak(api, admin_token)
        rss = []
        done = threading.Event()

        def sample():
            start = time.monotonic()
            while not done.is_set():
                rss.append((time.monotonic() - start, server.rss_kb()))
                done.wait(RSS_SAMPLE_S)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        load = Load(server.base_url, admin_token, BETTORS + 2, soak.step)
        try:
            deadline = time.monotonic() + SOAK_S
            while time.monotonic() < deadline:
                assert not load.crashes, load.crashes[0]
                assert server.proc.poll() is None, f"the server died:\n{server.log()}"
                time.sleep(1)  # the soak's duration, not a wait for a condition
        finally:
            outcomes = load.stop()
            done.set()
            sampler.join()

        # Answers: no 5xx, no dropped connection, only the expected refusals.
        bad = [o for o in outcomes
               if o.error is not None or (o.status not in OK and o.code not in ALLOWED_CODES.get(o.op, set()))]
        assert not bad, f"{len(bad)} unexpected answers, e.g. {bad[:10]}; all: {summarize(outcomes)}"
        assert len(outcomes) > 100 * SOAK_S / 60, f"only {len(outcomes)} requests: {summarize(outcomes)}"
        assert not soak.replay_mismatches, soak.replay_mismatches[:5]

        # Money and bets.
        expect_money_consistent(db, bets_db, "after the soak:")
        mismatched = _settlement_mismatches(db, bets_db.bets_table)
        assert mismatched == [], f"settled bets without their exact payout/refund: {mismatched[:10]}"
        for user in soak.bettors:
            in_db = {r[0] for r in db.query(f"SELECT id FROM {bets_db.bets_table} WHERE user_id = %s", (user["id"],))}
            reported = {bet_id for bet_id, uid in soak.placed.items() if uid == user["id"]}
            assert in_db == reported, (user["id"], sorted(in_db ^ reported))
            assert db.balance(user["id"]) >= 0

        # Memory levelled off.
        assert len(rss) >= 10, rss
        mid = [kb for t, kb in rss if WARMUP_FRACTION * SOAK_S <= t < 0.5 * SOAK_S]
        end = [kb for t, kb in rss if t >= 0.8 * SOAK_S]
        assert mid and end, rss
        limit = max(mid) * RSS_GROWTH_FACTOR + RSS_GROWTH_SLACK_KB
        assert max(end) <= limit, (f"RSS grew from {max(mid)} kB (mid-run) to {max(end)} kB (end), "
                                   f"limit {limit:.0f} kB; samples (s, kB): {rss}")
        api.close()
        server.stop()
    finally:
        server.kill()

"""Drives the writes of the promtool conformance check (check.sh) while wrk
drives the reads, so that every metric family /metrics has moves and carries
the label values real traffic gives it: bets placed, cart checkouts, a
cash-out, a settlement, a trading refusal (a suspended match), and 4xx
answers (404, 401, 422, 409) in the request counters and latency histograms.

Usage: exercise.py BASE_URL ADMIN_TOKEN SECONDS
Runs rounds until SECONDS have passed (bounded: each round is a dozen
requests on one keep-alive connection, at most MAX_ROUNDS rounds), then prints
one line "exercise: R rounds, statuses {...}" and exits 0, or 1 if no write
succeeded at all (the scrapes would then prove little).

Stdlib only: it runs from a clean clone before any pip package is installed.
Every user and match is new (uuid names), like the API suite's, so it may run
against a server other tests are using.
"""

import http.client
import json
import sys
import time
import urllib.parse
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

MAX_ROUNDS = 200
MATCHES = 6  # each round bets on three (match, selection) pairs; 6 x 3 pairs per user are distinct


class Client:
    def __init__(self, base_url):
        url = urllib.parse.urlsplit(base_url)
        self.host, self.port = url.hostname, url.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        self.statuses = Counter()

    def call(self, method, path, body=None, token=None, idempotent=False):
        headers = {}
        if token:
            headers["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if idempotent:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        try:
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException):
            # The server closed the keep-alive connection: one retry on a new one.
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
        self.statuses[resp.status] += 1
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, None


def main():
    base_url, admin, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    deadline = time.monotonic() + seconds
    c = Client(base_url)
    date = (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    matches = []
    for _ in range(MATCHES):
        status, body = c.call("POST", "/v1/matches", {
            "team_1": "Prom Home " + uuid.uuid4().hex[:16],
            "team_2": "Prom Away " + uuid.uuid4().hex[:16],
            "date": date, "odds": {"1": 2.10, "X": 3.25, "2": 3.60}}, token=admin)
        if status != 201:
            print(f"exercise: cannot create a match ({status} {body})")
            return 1
        matches.append(body["id"])

    rounds = 0
    while rounds < MAX_ROUNDS and time.monotonic() < deadline:
        status, user = c.call("POST", "/v1/users", {
            "email": f"prom-{uuid.uuid4().hex}@example.com", "name": "Prom Load",
            "balance": 100000}, token=admin)
        if status != 201:
            break
        uid, token = user["id"], user["token"]
        m = [matches[(rounds + i) % MATCHES] for i in range(3)]
        # A single bet, then a quote and a cash-out of it (betsdb_cash_outs_total).
        status, bet = c.call("POST", "/v1/bets", {
            "user_id": uid, "match_id": m[0], "selection": "1", "stake": 500},
            token=token, idempotent=True)
        if status == 201:
            status, quote = c.call("POST", f"/v1/bets/{bet['id']}/cash-out/quote", token=token)
            if status == 201:
                c.call("POST", f"/v1/bets/{bet['id']}/cash-out",
                       {"quote_id": quote["quote_id"]}, token=token, idempotent=True)
        # The same bet again: 409 duplicate_bet, a 4xx in the request counters.
        c.call("POST", "/v1/bets", {"user_id": uid, "match_id": m[0], "selection": "1",
                                    "stake": 500}, token=token)
        # A cart of two items, checked out (betsdb_checkouts_total{outcome="success"}).
        c.call("POST", f"/v1/users/{uid}/cart/items",
               {"match_id": m[1], "selection": "X", "stake": 300}, token=token)
        c.call("POST", f"/v1/users/{uid}/cart/items",
               {"match_id": m[2], "selection": "2", "stake": 200}, token=token)
        c.call("POST", f"/v1/users/{uid}/cart/checkout", {}, token=token, idempotent=True)
        # Cached reads of the user's bets (betsdb_cache_events_total).
        c.call("GET", f"/v1/users/{uid}/bets", token=token)
        # 4xx of three kinds: 404, 401, 422.
        c.call("GET", "/v1/matches/999999999999")
        c.call("GET", f"/v1/users/{uid}/bets", token="not-a-valid-token")
        c.call("POST", "/v1/bets", {"user_id": uid, "stake": "lots"}, token=token)
        if rounds % 5 == 0:
            # A trading refusal: a bet on a suspended match
            # (betsdb_bet_rejections_total{reason="match_suspended"}).
            c.call("POST", f"/v1/matches/{m[1]}/suspend", token=admin)
            c.call("POST", "/v1/bets", {"user_id": uid, "match_id": m[1], "selection": "2",
                                        "stake": 100}, token=token)
            c.call("POST", f"/v1/matches/{m[1]}/resume", token=admin)
        rounds += 1

    # One settlement (betsdb_settlements_total); the other matches stay open.
    c.call("POST", f"/v1/matches/{matches[-1]}/result", {"result": "1"}, token=admin)
    tally = dict(sorted(c.statuses.items()))
    print(f"exercise: {rounds} rounds, statuses {tally}")
    written = sum(n for s, n in c.statuses.items() if 200 <= s < 300)
    return 0 if rounds > 0 and written > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

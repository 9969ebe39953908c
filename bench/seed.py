#!/usr/bin/env python3
"""Seeds a fresh betsdb through its HTTP API for the benchmark.

Creates users with balances (admin sign-up with "balance"), open matches in
three disjoint sets (seed: for the existing bets; place: for the `place`
scenario; cart: for the `cart` scenario, so no scenario's bet can collide
with another's) and existing bets for the first `--bettors` users.

Writes into --out:
  users.txt          "id token" per line, every user
  bettors.txt        "id token" of the users that have seeded bets
  matches_seed.txt, matches_place.txt, matches_cart.txt, matches_hot.txt   one id per line
  matches.json       the body of GET /v1/matches?status=open&limit=20
  seed.json          what was created, and which routes exist yet

Standard library only. A route that answers 404 not_found (not written yet)
is recorded as unavailable instead of failing the seeding; anything else
unexpected is an error (exit 1).
"""
import argparse
import http.client
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

BALANCE = 1_000_000_000  # cents per user: far more than any run can stake
STAKE = 100
SELECTIONS = ("1", "X", "2")
FIRST_DATE = datetime(2031, 1, 1, 12, 0, tzinfo=timezone.utc)  # well in the future: open


class Api:
    """One keep-alive HTTP connection per thread."""

    def __init__(self, base):
        host_port = base.split("://", 1)[1].rstrip("/")
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)
        self.local = threading.local()

    def _conn(self):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.local.conn = conn
        return conn

    def call(self, method, path, token=None, body=None):
        headers = {}
        if token:
            headers["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):  # one retry on a dropped keep-alive connection
            conn = self._conn()
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt:
                    raise
        self.local.raw = raw
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        return resp.status, payload


def route_missing(status, payload):
    return status == 405 or (status == 404 and isinstance(payload, dict) and payload.get("code") == "not_found")


def parallel(workers, fn, items):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--api", required=True, help="base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--admin-token", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--bettors", type=int, default=200, help="users that get existing bets")
    ap.add_argument("--bets-per-bettor", type=int, default=20)
    ap.add_argument("--seed-matches", type=int, default=20)
    ap.add_argument("--place-matches", type=int, default=100)
    ap.add_argument("--cart-matches", type=int, default=100)
    ap.add_argument("--hot-matches", type=int, default=1,
                    help="matches with stake and liability limits for place_hot")
    ap.add_argument("--workers", type=int, default=16)
    args = ap.parse_args()
    if args.bets_per_bettor > 3 * args.seed_matches:
        ap.error("--bets-per-bettor can be at most 3 x --seed-matches (one bet per match and selection)")

    api = Api(args.api)
    t0 = time.monotonic()

    def make_match(i):
        date = (FIRST_DATE + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"team_1": f"Bench Home {i}", "team_2": f"Bench Away {i}", "date": date,
                "odds": {"1": 2.10, "X": 3.25, "2": 3.60}}
        status, payload = api.call("POST", "/v1/matches", args.admin_token, body)
        if status != 201:
            raise SystemExit(f"seed: POST /v1/matches -> {status} {payload}")
        return payload["id"]

    n_matches = args.seed_matches + args.place_matches + args.cart_matches
    match_ids = parallel(args.workers, make_match, range(n_matches))
    seed_matches = match_ids[:args.seed_matches]
    place_matches = match_ids[args.seed_matches:args.seed_matches + args.place_matches]
    cart_matches = match_ids[args.seed_matches + args.place_matches:]

    def make_hot_match(i):
        # Limits set, high enough that no bench bet is refused: every
        # placement runs the liability check on the match's one exposure row.
        date = (FIRST_DATE + timedelta(hours=n_matches + i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"team_1": f"Bench Final Home {i}", "team_2": f"Bench Final Away {i}", "date": date,
                "odds": {"1": 2.10, "X": 3.25, "2": 3.60},
                "max_stake": 100_000_000, "max_liability": 1_000_000_000_000}
        status, payload = api.call("POST", "/v1/matches", args.admin_token, body)
        if status != 201:
            raise SystemExit(f"seed: POST /v1/matches (hot) -> {status} {payload}")
        return payload["id"]

    hot_matches = parallel(args.workers, make_hot_match, range(args.hot_matches))

    def make_user(i):
        body = {"email": f"bench-{i}@example.com", "name": f"Bench {i}", "balance": BALANCE}
        status, payload = api.call("POST", "/v1/users", args.admin_token, body)
        if status != 201:
            raise SystemExit(f"seed: POST /v1/users -> {status} {payload}")
        return payload["id"], payload["token"]

    users = parallel(args.workers, make_user, range(args.users))
    t_users = time.monotonic()

    bettors = users[:args.bettors]
    bets_available = True
    placed = 0
    status, payload = api.call("POST", "/v1/bets", bettors[0][1], {})
    if route_missing(status, payload):
        bets_available = False
    else:
        def place_all(user):
            uid, token = user
            done = 0
            for j in range(args.bets_per_bettor):
                body = {"user_id": uid, "match_id": seed_matches[j % len(seed_matches)],
                        "selection": SELECTIONS[j // len(seed_matches)], "stake": STAKE}
                status, payload = api.call("POST", "/v1/bets", token, body)
                if status != 201:
                    raise SystemExit(f"seed: POST /v1/bets -> {status} {payload}")
                done += 1
            return done

        placed = sum(parallel(args.workers, place_all, bettors))
    t_bets = time.monotonic()

    status, matches_body = api.call("GET", "/v1/matches?status=open&limit=20")
    if status != 200:
        raise SystemExit(f"seed: GET /v1/matches -> {status} {matches_body}")

    out = args.out
    with open(f"{out}/users.txt", "w") as f:
        f.writelines(f"{uid} {token}\n" for uid, token in users)
    with open(f"{out}/bettors.txt", "w") as f:
        f.writelines(f"{uid} {token}\n" for uid, token in bettors)
    for name, ids in (("seed", seed_matches), ("place", place_matches), ("cart", cart_matches),
                      ("hot", hot_matches)):
        with open(f"{out}/matches_{name}.txt", "w") as f:
            f.writelines(f"{i}\n" for i in ids)
    with open(f"{out}/matches.json", "wb") as f:
        f.write(api.local.raw)  # the exact bytes: the nginx ceiling serves this file
    seed = {
        "users": len(users), "bettors": len(bettors), "bets": placed,
        "matches": {"seed": len(seed_matches), "place": len(place_matches), "cart": len(cart_matches),
                    "hot": len(hot_matches)},
        "bets_available": bets_available,
        "seconds": {"users": round(t_users - t0, 2), "bets": round(t_bets - t_users, 2),
                    "total": round(time.monotonic() - t0, 2)},
    }
    with open(f"{out}/seed.json", "w") as f:
        json.dump(seed, f, indent=2)
    print(json.dumps(seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())

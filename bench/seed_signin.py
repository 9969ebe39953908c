#!/usr/bin/env python3
"""Seeds the users of the signin scenario through the API and checks that
one of them can sign in.

  seed_signin.py --api URL --users N --prefix P --out FILE

Creates N users by anonymous sign-up (POST /v1/users with "password", as a
bettor signs up; the server must run with BETSDB_SIGNUP_RATE_LIMIT=0), each
with its own password, and writes "email password" per line into FILE. Then
signs the first one in (POST /v1/sessions) and prints one JSON line:
{"users", "seconds", "signin_status", "signin_code"}. Exit 1 when a sign-up
fails (the status and body are printed). Standard library only.
"""
import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from seed import Api


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--api", required=True)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--prefix", default="signin", help="emails are PREFIX-I@example.com")
    ap.add_argument("--out", required=True)
    # Sign-ups hash on the server's password threads too: more workers than
    # those only queue.
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()

    api = Api(args.api)
    t0 = time.monotonic()

    def make_user(i):
        email = f"{args.prefix}-{i}@example.com"
        password = f"bench-pw-{i:05d}-{args.prefix}"
        status, payload = api.call("POST", "/v1/users",
                                   body={"email": email, "name": f"Sign-in {i}", "password": password})
        if status != 201:
            raise SystemExit(f"seed_signin: POST /v1/users -> {status} {payload}"
                             + (" (is BETSDB_SIGNUP_RATE_LIMIT=0 set?)" if status == 429 else ""))
        return email, password

    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        users = list(pool.map(make_user, range(args.users)))
    seconds = round(time.monotonic() - t0, 2)
    with open(args.out, "w") as f:
        f.writelines(f"{email} {password}\n" for email, password in users)
    email, password = users[0]
    status, payload = api.call("POST", "/v1/sessions", body={"email": email, "password": password})
    code = payload.get("code", "") if isinstance(payload, dict) else ""
    print(json.dumps({"users": len(users), "seconds": seconds, "signin_status": status, "signin_code": code}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

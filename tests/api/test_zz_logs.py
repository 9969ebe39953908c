"""No secrets or tokens in logs (issue 6). The file name sorts last so that
the shared server's log holds the whole suite's traffic when it is read.

- The suite's server log (BETSDB_TEST_SERVER_LOG): neither the admin token
  nor any user or session token (every 43-character word whose SHA-256 is a
  stored token hash, see docs/operations.md), nor a password, appears in it.
- A server with everything going wrong (Redis down, passwords in both URLs,
  logging at trace level) logs neither the passwords nor any token.
"""

import hashlib
import os
import re
import uuid

import pytest

from api_support import Api, expect_json, expect_problem, future_date, unique_email, unique_team
from bet_support import free_port, required_env
from fault_support import ServerProcess

TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]{43,}")


def _read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", errors="replace")


# Sent at sign-up and sign-in by _traffic (issue 22): never logged.
PASSWORD = f"log-pw-{uuid.uuid4().hex}"


def _traffic(api, admin_token):
    """Requests carrying tokens and passwords, on success and error paths.
    Returns the user tokens used (sign-up and session tokens)."""
    owner = expect_json(api.post("/v1/users", token=admin_token, json={
        "email": unique_email(), "name": "Log", "balance": 10_000, "password": PASSWORD}), 201)
    other = expect_json(api.post("/v1/users", json={"email": unique_email(), "name": "Log 2"}), 201)
    match = expect_json(api.post("/v1/matches", token=admin_token, json={
        "team_1": unique_team(), "team_2": unique_team(), "date": future_date(), "odds": {"1": 2.0}}), 201)
    uid, token = owner["id"], owner["token"]
    calls = [
        ("GET", f"/v1/users/{uid}", token, None, None),
        ("GET", f"/v1/users/{uid}", other["token"], None, None),
        ("GET", f"/v1/users/{uid}", token + "x", None, None),
        ("GET", f"/v1/users/{uid}/transactions?limit=0", token, None, None),
        ("POST", f"/v1/users/{uid}/deposits", admin_token, {"amount": 5}, None),
        ("POST", f"/v1/users/{uid}/deposits", admin_token, {"amount": -5}, None),
        ("POST", f"/v1/users/{uid}/deposits", token, {"amount": 5}, None),
        ("POST", "/v1/bets", token, {"user_id": uid, "match_id": match["id"], "selection": "1", "stake": 10},
         f"key-{uuid.uuid4()}"),
        ("POST", "/v1/bets", token, {"user_id": uid, "match_id": match["id"], "selection": "1", "stake": 10}, None),
        ("POST", f"/v1/users/{uid}/cart/items", token, {"match_id": match["id"], "selection": "1", "stake": 10},
         None),
        ("POST", f"/v1/users/{uid}/cart/checkout", token, None, f"key-{uuid.uuid4()}"),
        ("GET", "/v1/nowhere", admin_token, None, None),
        ("DELETE", "/v1/matches", admin_token, None, None),
        ("GET", "/v1/bets?sort=nope", admin_token, None, None),
        ("GET", "/v1/bets/summary", admin_token, None, None),
    ]
    for method, path, tok, body, key in calls:
        headers = {"Idempotency-Key": key} if key else None
        kw = {"json": body} if body is not None else {}
        resp = api.request(method, path, token=tok, headers=headers, **kw)
        assert resp.status_code < 500 or resp.status_code == 503, resp.text
    tokens = [token, other["token"]]
    # Sessions: a wrong password, the right one, a revocation.
    for password in (PASSWORD + "x", PASSWORD):
        resp = api.post("/v1/sessions", json={"email": owner["email"], "password": password})
        assert resp.status_code in (201, 401, 503), resp.text
        if resp.status_code == 201:
            tokens.append(resp.json()["token"])
            resp = api.delete("/v1/sessions/current", token=tokens[-1])
            assert resp.status_code in (204, 503), resp.text
    return tokens


def _leaked_tokens(text, token_hashes):
    """Every 43-character window of base64url text whose SHA-256 is a stored token hash."""
    leaked = set()
    for run in TOKEN_CHARS.findall(text):
        for i in range(len(run) - 42):
            word = run[i:i + 43]
            if hashlib.sha256(word.encode()).digest() in token_hashes:
                leaked.add(word)
    return leaked


def test_the_server_log_holds_no_tokens(api, admin_token, db):
    path = os.environ.get("BETSDB_TEST_SERVER_LOG")
    if not path:
        pytest.fail("BETSDB_TEST_SERVER_LOG is not set (scripts/test sets it to the server's log file)",
                    pytrace=False)
    if not os.path.isfile(path):
        pytest.fail(f"BETSDB_TEST_SERVER_LOG={path} does not exist", pytrace=False)
    tokens = _traffic(api, admin_token)
    text = _read(path)
    assert "listening" in text, f"{path} does not look like the server's log"
    assert admin_token not in text, "the admin token is in the server log"
    for token in tokens:
        assert token not in text, "a user token is in the server log"
    assert PASSWORD not in text, "a password is in the server log"
    # Sign-up tokens' hashes are in users, signed-in sessions' in sessions (issue 22).
    sessions = db._find_table({"token_hash", "user_id", "expires_at"}, "sessions")
    hashes = {bytes(h) for (h,) in db.query(f"SELECT token_hash FROM {db.users_table} "
                                             f"UNION ALL SELECT token_hash FROM {sessions}")}
    assert hashes, "no token hashes found: wrong database?"
    leaked = _leaked_tokens(text, hashes)
    assert not leaked, f"{len(leaked)} user tokens are in the server log"


def test_a_failing_server_logs_no_passwords_or_tokens(tmp_path, admin_token):
    """Redis unreachable, passwords in both URLs, trace logging: errors get
    logged, secrets do not."""
    redis_secret = f"redis-pw-{uuid.uuid4().hex}"
    pg_secret = f"pg-pw-{uuid.uuid4().hex}"
    database_url = required_env("BETSDB_TEST_DATABASE_URL")
    # Trust authentication ignores the password; the URL still carries it.
    assert database_url.startswith("postgresql://postgres@"), database_url
    database_url = database_url.replace("postgresql://postgres@", f"postgresql://postgres:{pg_secret}@", 1)
    redis_url = f"redis://:{redis_secret}@127.0.0.1:{free_port()}/0"  # nothing listens there
    server = ServerProcess(tmp_path, name="betsdb-secrets", admin_token=admin_token,
                           database_url=database_url, redis_url=redis_url, log_level="trace")
    try:
        api = Api(server.base_url, admin_token)
        tokens = _traffic(api, admin_token)
        expect_problem(api.get("/readyz"), 503, "service_unavailable")
        api.close()
        server.stop()
        text = server.log(tail=None)
        assert text.strip(), "the server logged nothing at all"
        for secret, what in ((redis_secret, "the Redis password"), (pg_secret, "the PostgreSQL password"),
                             (admin_token, "the admin token")):
            assert secret not in text, f"{what} is in the log:\n{text[-3000:]}"
        for token in tokens:
            assert token not in text, "a user token is in the log"
        assert PASSWORD not in text, "a password is in the log"
    finally:
        server.kill()

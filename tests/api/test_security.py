"""Security (issue 6; API.md: Conventions/Auth, docs/operations.md: schema).

- Tokens: 256 bits of randomness (43 base64url characters), stored only as a
  hash (users.token_hash, SHA-256 per docs/operations.md), nowhere else in
  the database or in Redis keys.
- Every route, walked with no token, malformed and unknown tokens, a
  truncated or extended real token, another user's token, the owner's token
  and the admin token: 401/403 exactly as the contract says, and the refused
  requests change nothing.
- SQL only through parameters: injection strings through every text field,
  filter, path segment and header are either refused (4xx) or stored and read
  back byte for byte; LIKE wildcards are not wildcards; nothing sleeps, nothing
  is dropped.

Secrets in logs are checked by test_zz_logs.py (it must run last).
"""

import base64
import hashlib
import re
import time
import uuid

import pytest

import redis_keys
from api_support import (
    Api,
    describe,
    expect_json,
    expect_problem,
    future_date,
    unique_email,
    unique_team,
)
from fault_support import nothing_changes

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
MISSING_ITEM = 999_999


def b64url_decode(token):
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


# --------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------

SIGN_UPS = 24


def test_tokens_are_256_random_bits_in_base64url(api):
    tokens = []
    for _ in range(SIGN_UPS):
        body = expect_json(api.post("/v1/users", json={"email": unique_email(), "name": "Tok"}), 201)
        token = body["token"]
        assert isinstance(token, str) and TOKEN_RE.match(token), f"not 43 base64url chars: {token!r}"
        raw = b64url_decode(token)
        assert len(raw) == 32, token
        # Canonical encoding: the last character carries only 2 data bits.
        assert base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == token
        tokens.append(raw)
    assert len(set(tokens)) == SIGN_UPS, "two sign-ups got the same token"
    # 24 x 256 = 6144 bits: a fair source gives 50% ones (sd 0.64%); a
    # counter, a timestamp or a short seed would be far off.
    bits = "".join(f"{byte:08b}" for raw in tokens for byte in raw)
    ones = bits.count("1") / len(bits)
    assert 0.45 < ones < 0.55, f"token bits are {ones:.1%} ones"
    # No shared prefixes or suffixes (sequential or time-based tokens share them).
    assert len({raw[:4] for raw in tokens}) == SIGN_UPS
    assert len({raw[-4:] for raw in tokens}) == SIGN_UPS


def test_tokens_are_stored_only_as_sha256(api, db):
    body = expect_json(api.post("/v1/users", json={"email": unique_email(), "name": "Hash"}), 201)
    token = body["token"]
    (stored,) = db.query(f"SELECT token_hash FROM {db.users_table} WHERE id = %s", (body["id"],))[0]
    stored = bytes(stored)
    assert len(stored) == 32, stored
    assert stored != token.encode() and stored != b64url_decode(token), "the token itself is stored"
    assert stored == hashlib.sha256(token.encode()).digest(), "token_hash is not SHA-256(token)"
    # The token is nowhere else in the database, in any text or binary column.
    columns = db.query(
        """
        SELECT table_schema, table_name, column_name, data_type
          FROM information_schema.columns
         WHERE table_schema = ANY (current_schemas(false))
           AND data_type IN ('text', 'character varying', 'character', 'bytea', 'json', 'jsonb')
        """)
    assert columns, "no text columns found: wrong database?"
    raw = b64url_decode(token)
    for schema, table, column, kind in columns:
        ref = f'"{schema}"."{table}"."{column}"'
        col = f'"{column}"'
        if kind == "bytea":
            hits = db.scalar(
                f'SELECT count(*) FROM "{schema}"."{table}" WHERE position(%s::bytea in {col}) > 0 '
                f"OR position(%s::bytea in {col}) > 0", (token.encode(), raw))
        else:
            hits = db.scalar(f'SELECT count(*) FROM "{schema}"."{table}" WHERE strpos({col}::text, %s) > 0',
                             (token,))
        assert hits == 0, f"the token is stored in {ref}"


def test_tokens_are_not_redis_keys(api, redis, new_match):
    body = expect_json(api.post("/v1/users", json={"email": unique_email(), "name": "Redis"}), 201)
    token = body["token"]
    match = new_match()
    expect_json(api.post(f"/v1/users/{body['id']}/cart/items", token=token,
                         json={"match_id": match["id"], "selection": "1", "stake": 100}), 201)
    expect_problem(api.post("/v1/bets", token=token, headers={"Idempotency-Key": f"k-{uuid.uuid4()}"},
                            json={"user_id": body["id"], "match_id": match["id"], "selection": "1",
                                  "stake": 100}), 422, "insufficient_funds")
    assert redis_keys.scan_keys(redis, f"*{redis_keys.glob_escape(token)}*") == set()
    digest_hex = hashlib.sha256(token.encode()).hexdigest()
    assert redis_keys.scan_keys(redis, f"*{digest_hex}*") == set()


def test_user_token_is_not_returned_after_sign_up(api, admin_token, new_user):
    user = new_user()
    for token in (user.token, admin_token):
        resp = api.get(f"/v1/users/{user.id}", token=token)
        expect_json(resp, 200)
        assert user.token not in resp.text and "token" not in resp.json()


# --------------------------------------------------------------------------
# The route walk: 401/403 exactly as the contract says
# --------------------------------------------------------------------------

class Walk:
    pass


@pytest.fixture(scope="module")
def walk(base_url, admin_token, _server_is_up):
    """An owner (with a bet, an empty cart and money), another user, an open match."""
    api = Api(base_url, admin_token)
    w = Walk()
    w.admin = admin_token
    w.owner = expect_json(api.post("/v1/users", token=admin_token,
                                   json={"email": unique_email(), "name": "Owner", "balance": 100_000}), 201)
    w.other = expect_json(api.post("/v1/users", json={"email": unique_email(), "name": "Other"}), 201)
    w.match = expect_json(api.post("/v1/matches", token=admin_token, json={
        "team_1": unique_team("Home"), "team_2": unique_team("Away"), "date": future_date(),
        "odds": {"1": 2.0, "X": 3.0, "2": 4.0}}), 201)
    w.bet = expect_json(api.post("/v1/bets", token=w.owner["token"], json={
        "user_id": w.owner["id"], "match_id": w.match["id"], "selection": "1", "stake": 100}), 201)
    api.close()
    return w


# Who may call a route (API.md):
#   public  - anyone, even without a token (but a bad token is 401)
#   reader  - owner or admin ("another user's" resource is 403)
#   admin   - admin only
#   bettor  - the user named in the body (admin: 403)
#   cart    - the owner only (admin: 403)
class Route:
    def __init__(self, name, method, path, access, body=None, probe=None, authorized=200):
        """body: a valid body (what refused callers send, so that only auth can
        refuse it); probe: what authorized callers send instead - a body the
        route refuses after auth (so the walk changes nothing), with the
        status that proves auth passed."""
        self.name, self.method, self.path, self.access = name, method, path, access
        self.body, self.probe, self.authorized = body, probe, authorized

    def __repr__(self):
        return self.name


def _valid_match(w):
    return {"team_1": unique_team(), "team_2": unique_team(), "date": future_date(), "odds": {"1": 2.0}}


def _bet(w):
    return {"user_id": w.owner["id"], "match_id": w.match["id"], "selection": "2", "stake": 100}


ROUTES = [
    Route("list_matches", "GET", "/v1/matches", "public"),
    Route("get_match", "GET", "/v1/matches/{match}", "public"),
    Route("sign_up", "POST", "/v1/users", "public",
          body=lambda w: {"email": unique_email(), "name": "Walk"},
          probe=lambda w: {"email": "not-an-address", "name": "Walk"}, authorized=422),
    Route("list_users", "GET", "/v1/users", "admin"),
    Route("get_user", "GET", "/v1/users/{owner}", "reader"),
    Route("transactions", "GET", "/v1/users/{owner}/transactions", "reader"),
    Route("user_bets", "GET", "/v1/users/{owner}/bets", "reader"),
    Route("get_bet", "GET", "/v1/bets/{bet}", "reader"),
    Route("deposit", "POST", "/v1/users/{owner}/deposits", "admin",
          body=lambda w: {"amount": 100}, probe=lambda w: {"amount": 0}, authorized=422),
    Route("create_match", "POST", "/v1/matches", "admin",
          body=_valid_match, probe=lambda w: {"team_1": "", "team_2": "", "date": "", "odds": {}}, authorized=422),
    Route("change_odds", "PATCH", "/v1/matches/{match}", "admin",
          body=lambda w: {"odds": {"1": 2.5}}, probe=lambda w: {"odds": {"1": 0.5}}, authorized=422),
    Route("settle", "POST", "/v1/matches/{match}/result", "admin",
          body=lambda w: {"result": "void"}, probe=lambda w: {"result": "maybe"}, authorized=422),
    Route("all_bets", "GET", "/v1/bets", "admin"),
    Route("summary", "GET", "/v1/bets/summary", "admin"),
    Route("place_bet", "POST", "/v1/bets", "bettor",
          body=_bet, probe=lambda w: dict(_bet(w), stake=0), authorized=422),
    Route("get_cart", "GET", "/v1/users/{owner}/cart", "cart"),
    Route("clear_cart", "DELETE", "/v1/users/{owner}/cart", "cart", authorized=204),
    Route("add_cart_item", "POST", "/v1/users/{owner}/cart/items", "cart",
          body=lambda w: {"match_id": w.match["id"], "selection": "2", "stake": 100},
          probe=lambda w: {"match_id": w.match["id"], "selection": "2", "stake": 0}, authorized=422),
    Route("change_cart_item", "PATCH", "/v1/users/{owner}/cart/items/{item}", "cart",
          body=lambda w: {"stake": 200}, probe=lambda w: {"stake": 200}, authorized=404),
    Route("remove_cart_item", "DELETE", "/v1/users/{owner}/cart/items/{item}", "cart", authorized=404),
    Route("checkout", "POST", "/v1/users/{owner}/cart/checkout", "cart", authorized=422),
]

# Credentials other than real ones: each must be 401 on every route, public ones included.
BAD_CREDENTIALS = {
    "malformed-basic": lambda w: "Basic dXNlcjpwYXNz",
    "malformed-no-token": lambda w: "Bearer",
    "malformed-two-words": lambda w: "Bearer a b",
    "unknown": lambda w: "Bearer " + base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode().rstrip("="),
    "truncated-user-token": lambda w: "Bearer " + w.owner["token"][:-1],
    "extended-user-token": lambda w: "Bearer " + w.owner["token"] + "A",
    "user-token-lowercased": lambda w: "Bearer " + w.owner["token"].lower(),
    "admin-token-truncated": lambda w: "Bearer " + w.admin[:-1],
    "admin-token-swapped-case": lambda w: "Bearer " + w.admin.swapcase(),
    "admin-token-as-basic": lambda w: "Basic " + base64.b64encode(w.admin.encode()).decode(),
    "admin-token-without-scheme": lambda w: w.admin,
    "token-twice": lambda w: f"Bearer {w.owner['token']}, Bearer {w.owner['token']}",
}


def expected_status(route, who):
    """The contract's answer for a caller `who` in none/other/owner/admin."""
    if who == "none":
        return route.authorized if route.access == "public" else 401
    allowed = {
        "public": {"other", "owner", "admin"},
        "reader": {"owner", "admin"},
        "admin": {"admin"},
        "bettor": {"owner"},
        "cart": {"owner"},
    }[route.access]
    return route.authorized if who in allowed else 403


@pytest.mark.parametrize("route", ROUTES, ids=repr)
def test_route_walk_401_403_exactly_as_the_contract_says(api, walk, db, bets_db, redis, route):
    w = walk
    path = route.path.format(owner=w.owner["id"], match=w.match["id"], bet=w.bet["id"], item=MISSING_ITEM)
    failures = []

    def call(authorization, body):
        headers = {"Authorization": authorization} if authorization is not None else None
        kw = {"headers": headers}
        if body is not None:
            kw["json"] = body
        return api.request(route.method, path, **kw)

    def expect(resp, status, who):
        try:
            if status >= 400:
                problem = expect_problem(resp, status)
                want = {401: "unauthorized", 403: "forbidden"}.get(status)
                if want:
                    assert problem["code"] == want, describe(resp)
            else:
                assert resp.status_code == status, describe(resp)
        except (AssertionError, ValueError) as exc:
            failures.append(f"[{who}] {str(exc).splitlines()[0][:400]}")

    tokens = {"other": w.other["token"], "owner": w.owner["token"], "admin": w.admin}
    with nothing_changes(db, bets_db, redis, redis_keys.cart_keys(w.owner['id'])):
        # Refused callers send a valid body: only auth may refuse it.
        valid = route.body(w) if route.body else None
        probe = route.probe(w) if route.probe else valid
        for who in ("none", "other", "owner", "admin"):
            want = expected_status(route, who)
            authorization = None if who == "none" else f"Bearer {tokens[who]}"
            body = probe if want == route.authorized else valid
            expect(call(authorization, body), want, who)
        for name, credential in BAD_CREDENTIALS.items():
            expect(call(credential(w), valid), 401, name)
        assert not failures, f"{route.method} {route.path}:\n" + "\n".join(failures)


def test_a_user_cannot_place_a_bet_for_another_user(api, walk, bets_db):
    w = walk
    before = bets_db.bet_count(user_id=w.owner["id"])
    body = {"user_id": w.owner["id"], "match_id": w.match["id"], "selection": "X", "stake": 100}
    expect_problem(api.post("/v1/bets", json=body, token=w.other["token"]), 403, "forbidden")
    assert bets_db.bet_count(user_id=w.owner["id"]) == before


def test_another_users_bet_is_403_and_a_missing_one_404(api, walk):
    w = walk
    expect_problem(api.get(f"/v1/bets/{w.bet['id']}", token=w.other["token"]), 403, "forbidden")
    expect_problem(api.get("/v1/bets/2000000000", token=w.other["token"]), 404, "bet_not_found")


def test_admin_may_read_everything(api, walk):
    w = walk
    for path in (f"/v1/users/{w.owner['id']}", f"/v1/users/{w.owner['id']}/transactions",
                 f"/v1/users/{w.owner['id']}/bets", f"/v1/bets/{w.bet['id']}", "/v1/bets", "/v1/bets/summary"):
        expect_json(api.get(path, token=w.admin), 200)


# --------------------------------------------------------------------------
# SQL injection: every text field and filter
# --------------------------------------------------------------------------

INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE users; --",
    "\"; DROP TABLE matches; --",
    "1); DELETE FROM bets; --",
    "' UNION SELECT token_hash FROM users --",
    "x'; SELECT pg_sleep(3); --",
    "' || pg_sleep(3) || '",
    "$1",
    "%' OR 1=1 --",
    "Robert'); DROP TABLE students;--",
    "\\'; TRUNCATE ledger; --",
    "\u2019 OR \u20181\u2019=\u20181",
    "';COPY users TO PROGRAM 'touch /tmp/pwned';--",
    "\\x27 OR 1=1",
    "%_%",
]
# A statement that would sleep must not: each request is far quicker than the sleep.
SLEEP_S = 3


def _table_counts(db, bets_db):
    return {t: db.scalar(f"SELECT count(*) FROM {t}")
            for t in (db.users_table, db.matches_table, db.ledger_table, bets_db.bets_table)}


def _timed(fn):
    start = time.monotonic()
    resp = fn()
    took = time.monotonic() - start
    assert took < SLEEP_S - 0.5, f"{took:.1f}s: did something sleep? {describe(resp)}"
    return resp


def test_injection_in_names_is_stored_verbatim(api, admin_token, db, bets_db):
    before = _table_counts(db, bets_db)
    for text in INJECTIONS:
        user = expect_json(_timed(lambda: api.post("/v1/users", json={"email": unique_email(), "name": text})), 201)
        assert user["name"] == text
        back = expect_json(api.get(f"/v1/users/{user['id']}", token=admin_token), 200)
        assert back["name"] == text
        (stored,) = db.query(f"SELECT name FROM {db.users_table} WHERE id = %s", (user["id"],))[0]
        assert stored == text
    after = _table_counts(db, bets_db)
    assert after[db.users_table] == before[db.users_table] + len(INJECTIONS)
    for table in (db.matches_table, db.ledger_table, bets_db.bets_table):
        assert after[table] >= before[table], f"rows vanished from {table}"
    bets_db.expect_invariant()


def test_injection_in_team_names_is_stored_verbatim_and_filtered_exactly(api, admin_token, db, bets_db):
    before = _table_counts(db, bets_db)
    for text in INJECTIONS:
        team_1 = f"{text} {uuid.uuid4().hex[:6]}"
        body = {"team_1": team_1, "team_2": text, "date": future_date(), "odds": {"1": 2.0}}
        match = expect_json(_timed(lambda: api.post("/v1/matches", json=body, token=admin_token)), 201)
        assert (match["team_1"], match["team_2"]) == (team_1, text)
        assert expect_json(api.get(f"/v1/matches/{match['id']}"), 200)["team_1"] == team_1
        listed = expect_json(_timed(lambda: api.get("/v1/matches", params={"team": team_1, "limit": 100})), 200)
        assert [m["id"] for m in listed["items"]] == [match["id"]], (team_1, listed)
        # The injection string as a filter finds only teams spelled exactly so.
        listed = expect_json(_timed(lambda: api.get("/v1/matches", params={"team": text, "limit": 100})), 200)
        for item in listed["items"]:
            assert text.lower() in (item["team_1"].lower(), item["team_2"].lower()), (text, item)
        assert match["id"] in [m["id"] for m in listed["items"]] or listed["total"] > 100
    after = _table_counts(db, bets_db)
    assert after[db.matches_table] == before[db.matches_table] + len(INJECTIONS)
    assert after[db.users_table] >= before[db.users_table]


def test_like_wildcards_in_the_team_filter_match_nothing_extra(api, new_match):
    prefix = uuid.uuid4().hex[:10]
    match = new_match(team_1=f"{prefix}ab")
    for team in (f"{prefix}_b", f"{prefix}%", f"{prefix}a_", "%", "_", f"%{prefix[2:]}ab", f"{prefix}a%"):
        listed = expect_json(api.get("/v1/matches", params={"team": team, "limit": 100}), 200)
        ids = [m["id"] for m in listed["items"]]
        assert match["id"] not in ids, f"team={team!r} matched {match['team_1']!r} like a pattern"
        for item in listed["items"]:
            assert team.lower() in (item["team_1"].lower(), item["team_2"].lower()), (team, item)
    listed = expect_json(api.get("/v1/matches", params={"team": f"{prefix}AB"}), 200)
    assert [m["id"] for m in listed["items"]] == [match["id"]]


def test_injection_in_emails_is_data(api, db):
    local = f"o'brien+{uuid.uuid4().hex[:8]}"
    email = f"{local}@example.com"
    user = expect_json(_timed(lambda: api.post("/v1/users", json={"email": email, "name": "Quote"})), 201)
    assert user["email"] == email
    # The uniqueness check, case-insensitive, sees the same address.
    expect_problem(api.post("/v1/users", json={"email": email.upper(), "name": "Quote"}), 409, "email_taken")
    for text in INJECTIONS:
        address = f"{text}{uuid.uuid4().hex[:8]}@example.com"
        resp = _timed(lambda: api.post("/v1/users", json={"email": address, "name": "X"}))
        if resp.status_code == 201:
            assert resp.json()["email"] == address.lower().strip()
            assert db.users_with_email(address) == 1
        else:
            expect_problem(resp, 422, "validation_failed")
    assert db.users_with_email(email) == 1


def test_injection_in_enum_fields_is_422(api, walk, admin_token, db, bets_db, redis):
    w = walk
    with nothing_changes(db, bets_db, redis, redis_keys.cart_keys(w.owner['id'])):
        for text in INJECTIONS:
            cases = [
                ("POST", "/v1/bets", w.owner["token"],
                 {"user_id": w.owner["id"], "match_id": w.match["id"], "selection": text, "stake": 100}, "selection"),
                ("POST", f"/v1/users/{w.owner['id']}/cart/items", w.owner["token"],
                 {"match_id": w.match["id"], "selection": text, "stake": 100}, "selection"),
                ("POST", f"/v1/matches/{w.match['id']}/result", admin_token, {"result": text}, "result"),
                ("POST", "/v1/matches", admin_token,
                 {"team_1": unique_team(), "team_2": unique_team(), "date": text, "odds": {"1": 2.0}}, "date"),
                ("POST", "/v1/matches", admin_token,
                 {"team_1": unique_team(), "team_2": unique_team(), "date": future_date(), "odds": {text: 2.0}},
                 "odds"),
                ("PATCH", f"/v1/matches/{w.match['id']}", admin_token, {"odds": {text: 2.0}}, "odds"),
                ("POST", "/v1/users", None, {"email": unique_email(), "name": "X", text: 1}, text),
            ]
            for method, path, token, body, field in cases:
                resp = _timed(lambda: api.request(method, path, json=body, token=token))
                problem = expect_problem(resp, 422, "validation_failed")
                fields = [e["field"] for e in problem["errors"]]
                assert any(f == field or f.startswith(field + ".") for f in fields), (field, describe(resp))


LIST_FILTERS = {
    "/v1/matches": ["status", "from", "to", "sort", "limit", "offset"],
    "/v1/bets": ["match_id", "status", "selection", "min_stake", "max_stake", "sort", "limit", "offset"],
}


def test_injection_in_filters_is_400(api, walk, admin_token):
    w = walk
    user_bets = f"/v1/users/{w.owner['id']}/bets"
    targets = [("/v1/matches", None, LIST_FILTERS["/v1/matches"]),
               ("/v1/bets", admin_token, LIST_FILTERS["/v1/bets"]),
               (user_bets, w.owner["token"], LIST_FILTERS["/v1/bets"]),
               (f"/v1/users/{w.owner['id']}/transactions", w.owner["token"], ["limit", "offset"])]
    failures = []
    for path, token, names in targets:
        for name in names:
            for text in INJECTIONS:
                resp = _timed(lambda: api.get(path, params={name: text}, token=token))
                try:
                    expect_problem(resp, 400, "invalid_parameter")
                except (AssertionError, ValueError) as exc:
                    failures.append(str(exc).splitlines()[0][:300])
    assert not failures, "\n".join(failures[:30])


def test_injection_in_path_segments_is_404(api, admin_token):
    for text in ("1 OR 1=1", "1;DROP TABLE users", "1'--", "1 UNION SELECT 1"):
        encoded = text.replace(" ", "%20").replace("'", "%27").replace(";", "%3B")
        for pattern in ("/v1/users/{}", "/v1/matches/{}", "/v1/bets/{}", "/v1/users/{}/transactions"):
            resp = api.raw_request("GET", pattern.format(encoded), headers={"Authorization": f"Bearer {admin_token}"})
            expect_problem(resp, 404, "not_found")


def test_injection_in_headers_is_harmless(api, walk, new_match, bets_db, db):
    w = walk
    match = new_match()
    # Idempotency keys are printable ASCII: quotes and semicolons included.
    for i, key in enumerate(["';DROP/**/TABLE/**/bets;--", "'OR'1'='1", "\\';SELECT/**/pg_sleep(3);--"]):
        body = {"user_id": w.owner["id"], "match_id": match["id"], "selection": "12X"[i], "stake": 10}
        first = _timed(lambda: api.post("/v1/bets", json=body, token=w.owner["token"],
                                        headers={"Idempotency-Key": key}))
        expect_json(first, 201)
        again = _timed(lambda: api.post("/v1/bets", json=body, token=w.owner["token"],
                                        headers={"Idempotency-Key": key}))
        assert (again.status_code, again.json()) == (201, first.json())
    assert bets_db.bet_count(user_id=w.owner["id"], match_id=match["id"]) == 3
    # An injection as the bearer token is just an unknown token.
    for text in INJECTIONS:
        if all(0x20 <= ord(c) < 0x7f for c in text):
            resp = _timed(lambda: api.get(f"/v1/users/{w.owner['id']}", headers={"Authorization": f"Bearer {text}"}))
            expect_problem(resp, 401, "unauthorized")
    resp = _timed(lambda: api.get("/v1/matches", headers={"X-Request-Id": "'; DROP TABLE users; --"}))
    expect_json(resp, 200)
    bets_db.expect_invariant()

"""Passwords and sessions (API.md Part 2, "Accounts and access"; the issue 22
design for what the contract leaves open).

- POST /v1/users takes an optional password (8..128 code points), stored only
  as an Argon2id hash and never returned.
- POST /v1/sessions: a 30-day session for a bettor; unknown e-mail, wrong
  password and a user without a password get the same 401 invalid_credentials
  in about the same time; 10 failures for one e-mail within 15 minutes lock
  that e-mail (429 + Retry-After), even for the right password.
- DELETE /v1/sessions/current revokes the token it is called with, at once,
  on every shard of an instance and on every instance (no sleeps, no retries
  below: the first request after the 204 must already be refused).
- An expired session is refused.
"""

import hashlib
import statistics
import time
import uuid

import psycopg2
import pytest

from account_support import (
    SIGN_IN_FAILURES,
    SIGN_IN_WINDOW_S,
    expect_forbidden,
    expect_session,
    expect_unauthorized,
    find_table,
    new_password,
    retry_after,
    session_of,
    sign_in,
    sign_up,
)
from api_support import (
    USER_KEYS,
    describe,
    expect_json,
    expect_problem,
    expect_validation_failed,
    unique_email,
)
from bet_support import parallel_map, required_env
from fault_support import ServerProcess
from shard_support import FRESH_CONNECTIONS, on_fresh_connections


def get_user(api, account, token):
    return api.get(f"/v1/users/{account.id}", token=token)


def expect_works(api, account, token):
    body = expect_json(get_user(api, account, token), 200)
    assert body["id"] == account.id
    return body


def expect_invalid_credentials(resp):
    return expect_problem(resp, 401, "invalid_credentials")


def expect_locked(resp):
    """429 too_many_requests with a Retry-After inside the 15-minute window
    that has just started (the tests run in seconds, not minutes)."""
    expect_problem(resp, 429, "too_many_requests")
    return retry_after(resp, SIGN_IN_WINDOW_S - 120, SIGN_IN_WINDOW_S)


@pytest.fixture(scope="module")
def second_instance(tmp_path_factory, admin_token, _server_is_up):
    """Another betsdb (two shards) on the suite's database and Redis."""
    server = ServerProcess(tmp_path_factory.mktemp("sessions"), name="betsdb-sessions",
                           database_url=required_env("BETSDB_TEST_DATABASE_URL"), admin_token=admin_token,
                           extra_env={"BETSDB_THREADS": "2"})
    yield server
    try:
        server.stop()
    finally:
        server.kill()


# ==========================================================================
# Passwords on sign-up
# ==========================================================================

def test_a_password_is_accepted_at_sign_up_and_never_returned(api, admin_token):
    password = new_password()
    email = unique_email()
    resp = api.post("/v1/users", json={"email": email, "name": "Pat", "password": password})
    body = expect_json(resp, 201)
    assert set(body) == USER_KEYS | {"token"}, describe(resp)
    assert body["email"] == email and body["balance"] == 0
    assert password not in resp.text
    for token in (body["token"], admin_token):
        read = api.get(f"/v1/users/{body['id']}", token=token)
        assert set(expect_json(read, 200)) == USER_KEYS, describe(read)
        assert password not in read.text and "$argon2" not in read.text


@pytest.mark.parametrize("password", [
    "a" * 8,
    "p" * 128,
    "é" * 8,            # 8 code points, 16 bytes
    "😀" * 128,         # 128 code points, 512 bytes
    "  spaces inside and around  ",
    "日本語のパスワード",
], ids=["8-ascii", "128-ascii", "8-two-byte", "128-four-byte", "spaces", "cjk"])
def test_a_password_of_8_to_128_code_points_is_accepted_and_signs_in(api, password):
    account = sign_up(api, password=password)
    session_of(api, account)
    # The whole password counts: one character changed, or trimmed, fails.
    changed = password[:-1] + ("b" if password[-1] != "b" else "c")
    expect_invalid_credentials(sign_in(api, account.email, changed))
    if password.strip() != password:
        expect_invalid_credentials(sign_in(api, account.email, password.strip()))


@pytest.mark.parametrize("password", [
    "a" * 7,
    "é" * 7,            # 14 bytes, but 7 code points
    "😀" * 7,           # 28 bytes, but 7 code points
    "p" * 129,
    "😀" * 129,
    "",
    12345678,
    ["password"],
    {"password": "password"},
    True,
], ids=["7-ascii", "7-two-byte", "7-four-byte", "129-ascii", "129-four-byte", "empty", "number", "array",
        "object", "bool"])
def test_a_bad_password_is_422_naming_the_field_and_creates_nothing(api, db, password):
    email = unique_email()
    resp = api.post("/v1/users", json={"email": email, "name": "Pat", "password": password})
    expect_validation_failed(resp, "password")
    assert db.users_with_email(email) == 0


def test_the_password_is_stored_only_as_an_argon2id_hash(api, db):
    password = new_password()
    account = sign_up(api, password=password)
    plain = expect_json(api.post("/v1/users", json={"email": unique_email(), "name": "No Pw"}), 201)
    rows = dict(db.query(f"SELECT id, password_hash FROM {db.users_table} WHERE id IN (%s, %s)",
                         (account.id, plain["id"])))
    stored = rows[account.id]
    assert isinstance(stored, str) and stored.startswith("$argon2id$"), stored
    assert password not in stored
    assert rows[plain["id"]] is None, "a user without a password has a password hash"
    # The password is nowhere in the database, in any text column.
    columns = db.query(
        """
        SELECT table_schema, table_name, column_name
          FROM information_schema.columns
         WHERE table_schema = ANY (current_schemas(false))
           AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
        """)
    assert columns
    for schema, table, column in columns:
        hits = db.scalar(f'SELECT count(*) FROM "{schema}"."{table}" WHERE strpos("{column}"::text, %s) > 0',
                         (password,))
        assert hits == 0, f'the password is stored in "{schema}"."{table}"."{column}"'


# ==========================================================================
# Signing in
# ==========================================================================

def test_sign_in_gives_a_30_day_user_session_that_works_like_the_sign_up_token(api, new_user):
    account = sign_up(api)
    other = new_user()
    body = expect_session(sign_in(api, account.email, account.password), role="user", user_id=account.id)
    token = body["token"]
    assert token != account.token
    expect_works(api, account, token)
    expect_json(api.get(f"/v1/users/{account.id}/transactions", token=token), 200)
    expect_forbidden(api.get(f"/v1/users/{other.id}", token=token))
    expect_works(api, account, account.token)


def test_every_sign_in_is_a_new_session(api):
    account = sign_up(api)
    tokens = {session_of(api, account) for _ in range(3)}
    assert len(tokens) == 3
    for token in tokens:
        expect_works(api, account, token)


def test_the_email_is_normalised_like_at_sign_up(api):
    account = sign_up(api)
    resp = sign_in(api, f"  {account.email.upper()} \t", account.password)
    expect_session(resp, role="user", user_id=account.id)


def test_a_session_token_is_stored_only_as_its_sha256(api, db):
    account = sign_up(api)
    token = session_of(api, account)
    sessions = find_table(db, {"token_hash", "user_id", "expires_at", "revoked_at"}, "sessions")
    rows = db.query(f"SELECT user_id, expires_at > now() + interval '29 days', revoked_at IS NULL "
                    f"FROM {sessions} WHERE token_hash = %s",
                    (psycopg2.Binary(hashlib.sha256(token.encode()).digest()),))
    assert rows == [(account.id, True, True)], rows
    # The token itself is in no text column.
    columns = db.query(
        """
        SELECT table_schema, table_name, column_name
          FROM information_schema.columns
         WHERE table_schema = ANY (current_schemas(false))
           AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
        """)
    for schema, table, column in columns:
        hits = db.scalar(f'SELECT count(*) FROM "{schema}"."{table}" WHERE strpos("{column}"::text, %s) > 0',
                         (token,))
        assert hits == 0, f'the session token is stored in "{schema}"."{table}"."{column}"'


def test_unknown_email_wrong_password_and_no_password_get_the_same_answer(api, new_user):
    account = sign_up(api)
    passwordless = new_user()
    other = sign_up(api)
    answers = {
        "unknown email": sign_in(api, unique_email("nobody"), account.password),
        "wrong password": sign_in(api, account.email, account.password + "!"),
        "password in the wrong case": sign_in(api, account.email, account.password.upper()),
        "another user's password": sign_in(api, account.email, other.password),
        "user without a password": sign_in(api, passwordless.email, account.password),
    }
    first = None
    for what, resp in answers.items():
        expect_invalid_credentials(resp)
        assert "Retry-After" not in resp.headers, f"{what}: {describe(resp)}"
        if first is None:
            first = resp
        assert resp.content == first.content, f"{what}: {resp.text!r} != {first.text!r}"
        assert resp.headers["Content-Type"] == first.headers["Content-Type"], what


TIMING_TRIES = 8
TIMING_FACTOR = 3


def test_failed_sign_ins_take_about_the_same_time_whatever_the_reason(api, new_user):
    """Medians of 8 tries each within a factor of 3: an unknown e-mail
    answered without verifying a (dummy) hash would be ~100x faster."""
    account = sign_up(api)
    passwordless = new_user()
    cases = {
        "unknown email": lambda i: sign_in(api, unique_email("nobody"), account.password),
        "wrong password": lambda i: sign_in(api, account.email, f"{account.password}-{i}"),
        "user without a password": lambda i: sign_in(api, passwordless.email, account.password),
    }
    expect_works(api, account, account.token)  # the connection is open before timing
    times = {what: [] for what in cases}
    for i in range(TIMING_TRIES):  # interleaved: load on the machine hits every case alike
        for what, call in cases.items():
            started = time.perf_counter()
            resp = call(i)
            times[what].append(time.perf_counter() - started)
            expect_invalid_credentials(resp)
    medians = {what: statistics.median(values) for what, values in times.items()}
    assert max(medians.values()) <= TIMING_FACTOR * min(medians.values()), \
        {what: f"{m * 1000:.1f} ms" for what, m in medians.items()}


@pytest.mark.parametrize("body", [
    {"email": "x@example.com"},
    {"password": "long enough password"},
    {},
    {"email": 5, "password": "long enough password"},
    {"email": "x@example.com", "password": None},
    {"email": "x@example.com", "password": ["long enough password"]},
    {"email": "x@example.com", "password": "long enough password", "remember": True},
], ids=["no-password", "no-email", "empty", "email-number", "password-null", "password-array", "unknown-field"])
def test_a_malformed_sign_in_is_422(api, body):
    expect_validation_failed(api.post("/v1/sessions", json=body))


def test_malformed_sign_ins_are_not_failures(api):
    account = sign_up(api)
    for _ in range(SIGN_IN_FAILURES + 2):
        expect_validation_failed(api.post("/v1/sessions", json={"email": account.email, "password": 12345678}),
                                 "password")
        expect_validation_failed(api.post("/v1/sessions", json={"email": account.email}), "password")
    expect_session(sign_in(api, account.email, account.password), role="user", user_id=account.id)


# ==========================================================================
# The sign-in limit: 10 failures per e-mail within 15 minutes
# ==========================================================================

def test_after_10_failures_the_email_is_locked_even_for_the_right_password(api):
    account = sign_up(api)
    for i in range(SIGN_IN_FAILURES):
        expect_invalid_credentials(sign_in(api, account.email, f"wrong-{i}-{account.password}"))
    expect_locked(sign_in(api, account.email, "still wrong, and now locked"))
    locked = sign_in(api, account.email, account.password)
    expect_locked(locked)
    # Existing tokens are not affected: only signing in is.
    expect_works(api, account, account.token)


def test_a_locked_email_leaves_other_emails_alone(api):
    locked, other = sign_up(api), sign_up(api)
    for i in range(SIGN_IN_FAILURES):
        expect_invalid_credentials(sign_in(api, locked.email, f"wrong-{i}"))
    expect_locked(sign_in(api, locked.email, locked.password))
    expect_session(sign_in(api, other.email, other.password), role="user", user_id=other.id)
    expect_invalid_credentials(sign_in(api, unique_email("nobody"), "whatever password"))


def test_the_limit_counts_the_normalised_email(api):
    account = sign_up(api)
    spellings = [account.email, account.email.upper(), f"  {account.email} "]
    for i in range(SIGN_IN_FAILURES):
        expect_invalid_credentials(sign_in(api, spellings[i % len(spellings)], f"wrong-{i}"))
    expect_locked(sign_in(api, account.email, account.password))


def test_an_unknown_email_is_locked_too(api):
    """Otherwise the lock would tell which e-mails have accounts."""
    email = unique_email("nobody")
    for i in range(SIGN_IN_FAILURES):
        expect_invalid_credentials(sign_in(api, email, f"wrong-{i}"))
    expect_locked(sign_in(api, email, "wrong again"))


@pytest.mark.concurrency
def test_wrong_passwords_sent_side_by_side_get_no_more_checks_than_the_limit(api, base_url, admin_token):
    """A password check takes tens of milliseconds: attempts sent together
    must not all pass a count read before any of them was counted."""
    account = sign_up(api)
    attempts = 3 * SIGN_IN_FAILURES
    answers = parallel_map(base_url, admin_token,
                           lambda client, i: sign_in(client, account.email, f"wrong-{i}-{account.password}"),
                           range(attempts), workers=attempts)
    statuses = [r.status_code for r in answers]
    assert statuses.count(401) == SIGN_IN_FAILURES, statuses
    assert statuses.count(429) == attempts - SIGN_IN_FAILURES, statuses
    for resp in answers:
        if resp.status_code == 429:
            expect_locked(resp)
        else:
            expect_invalid_credentials(resp)
    expect_locked(sign_in(api, account.email, account.password))


def test_successes_are_not_counted_as_failures(api):
    """Each attempt is counted before its check and uncounted when it
    succeeds: any number of sign-ins in a row succeed."""
    account = sign_up(api)
    for _ in range(SIGN_IN_FAILURES + 2):
        session_of(api, account)
    for i in range(SIGN_IN_FAILURES):
        expect_invalid_credentials(sign_in(api, account.email, f"wrong-{i}"))
    expect_locked(sign_in(api, account.email, account.password))


def test_a_success_does_not_reset_the_count(api):
    account = sign_up(api)
    half = SIGN_IN_FAILURES // 2
    for i in range(half):
        expect_invalid_credentials(sign_in(api, account.email, f"wrong-{i}"))
    session_of(api, account)
    for i in range(SIGN_IN_FAILURES - half):
        expect_invalid_credentials(sign_in(api, account.email, f"wrong-again-{i}"))
    expect_locked(sign_in(api, account.email, account.password))


# ==========================================================================
# Revocation: DELETE /v1/sessions/current
# ==========================================================================

def revoke(api, token):
    return api.delete("/v1/sessions/current", token=token)


def expect_revoked(resp):
    assert resp.status_code == 204, describe(resp)
    assert resp.content == b"", describe(resp)


def test_a_revoked_session_is_refused_and_the_users_other_tokens_still_work(api):
    account = sign_up(api)
    token, kept = session_of(api, account), session_of(api, account)
    expect_works(api, account, token)
    expect_revoked(revoke(api, token))
    expect_unauthorized(get_user(api, account, token))
    # A bad token is 401 even on public routes.
    expect_unauthorized(api.get("/v1/matches", token=token))
    # Revoking twice: the token is no longer valid.
    expect_unauthorized(revoke(api, token))
    expect_works(api, account, kept)
    expect_works(api, account, account.token)


def test_a_sign_up_token_can_be_revoked(api):
    account = sign_up(api)
    session = session_of(api, account)
    expect_revoked(revoke(api, account.token))
    expect_unauthorized(get_user(api, account, account.token))
    expect_unauthorized(revoke(api, account.token))
    expect_works(api, account, session)


def test_a_sign_up_token_of_a_user_without_password_can_be_revoked(api, new_user):
    user = new_user()
    expect_json(api.get(f"/v1/users/{user.id}", token=user.token), 200)
    expect_revoked(revoke(api, user.token))
    expect_unauthorized(api.get(f"/v1/users/{user.id}", token=user.token))


def test_an_operator_session_can_be_revoked(api, new_operator, new_user):
    support = new_operator("support")
    user = new_user()
    expect_json(api.get(f"/v1/users/{user.id}", token=support.token), 200)
    expect_revoked(revoke(api, support.token))
    expect_unauthorized(api.get(f"/v1/users/{user.id}", token=support.token))
    # Signing in again gives a new, working session.
    again = expect_session(sign_in(api, support.email, support.password), role="support",
                           operator_id=support.id)["token"]
    expect_json(api.get(f"/v1/users/{user.id}", token=again), 200)


def test_the_admin_token_cannot_be_revoked(api, admin_token):
    expect_forbidden(revoke(api, admin_token))
    expect_json(api.get("/v1/bets/summary", token=admin_token), 200)


def test_revoking_needs_a_valid_token(api):
    expect_unauthorized(revoke(api, None))
    expect_unauthorized(revoke(api, "A" * 43))
    expect_unauthorized(api.delete("/v1/sessions/current", headers={"Authorization": "Basic dXNlcjpwYXNz"}))


def warm(base_url, admin_token, account, token):
    """Uses the token on fresh connections, so every shard has verified (and
    may cache) it."""
    bodies = on_fresh_connections(base_url, admin_token, lambda c: expect_works(c, account, token))
    assert len(bodies) == FRESH_CONNECTIONS


def expect_refused_everywhere(base_url, admin_token, account, token):
    """The token is refused on fresh connections (every shard), at the first try."""
    on_fresh_connections(base_url, admin_token, lambda c: expect_unauthorized(get_user(c, account, token)))


@pytest.mark.concurrency
def test_a_revoked_token_is_refused_at_once_by_every_shard(second_instance, admin_token):
    server = second_instance
    client = server.api(admin_token)
    try:
        account = sign_up(client)
        token, kept = session_of(client, account), session_of(client, account)
        warm(server.base_url, admin_token, account, token)
        warm(server.base_url, admin_token, account, account.token)
        expect_revoked(revoke(client, token))
        expect_refused_everywhere(server.base_url, admin_token, account, token)
        # The same connection as the revocation, too.
        expect_unauthorized(get_user(client, account, token))
        warm(server.base_url, admin_token, account, kept)
        # A sign-up token, cached on every shard, likewise.
        expect_revoked(revoke(client, account.token))
        expect_refused_everywhere(server.base_url, admin_token, account, account.token)
    finally:
        client.close()


@pytest.mark.concurrency
@pytest.mark.parametrize("direction", ["suite-then-second", "second-then-suite"])
def test_a_revoked_token_is_refused_at_once_by_another_instance(api, base_url, admin_token, second_instance,
                                                                 direction):
    instances = [(api, base_url), (second_instance.api(admin_token), second_instance.base_url)]
    if direction == "second-then-suite":
        instances.reverse()
    (revoker, revoker_url), (other, other_url) = instances
    try:
        account = sign_up(revoker)
        token = session_of(revoker, account)
        # Both instances have verified the token on every shard before it is revoked.
        warm(other_url, admin_token, account, token)
        warm(revoker_url, admin_token, account, token)
        expect_revoked(revoke(revoker, token))
        expect_refused_everywhere(other_url, admin_token, account, token)
        expect_refused_everywhere(revoker_url, admin_token, account, token)
        expect_unauthorized(revoke(other, token))
        # The user's sign-up token was not touched.
        warm(other_url, admin_token, account, account.token)
    finally:
        for client, _ in instances:
            if client is not api:
                client.close()


def read_answers(client, paths, token):
    return {path: client.get(path, token=token).status_code for path in paths}


@pytest.mark.concurrency
def test_read_routes_refuse_a_token_revoked_elsewhere_with_401_before_any_other_answer(
        api, base_url, admin_token, second_instance, new_user, new_operator):
    """Every shard remembers the tokens when they are revoked through another
    instance: each read route refuses them with 401, which comes before the
    route's own 403 (a revoked token learns nothing of what it may not read)."""
    account = sign_up(api)
    token = session_of(api, account)
    other = new_user()
    support = new_operator("support")
    reads = {
        f"/v1/users/{account.id}": 200,
        f"/v1/users/{account.id}/bets": 200,
        f"/v1/users/{account.id}/transactions": 200,
        f"/v1/users/{other.id}": 403,  # another user's
        f"/v1/users/{other.id}/bets": 403,
        "/v1/bets": 403,  # staff's
        "/v1/users": 403,
        "/v1/bets/summary": 403,  # an admin's
    }
    staff_reads = {"/v1/bets": 200, "/v1/users": 200, f"/v1/users/{other.id}/bets": 200,
                   "/v1/bets/summary": 403}
    # Every shard of the suite's server answers with the tokens remembered.
    assert on_fresh_connections(base_url, admin_token, lambda c: read_answers(c, reads, token)) == \
        [reads] * FRESH_CONNECTIONS
    assert on_fresh_connections(base_url, admin_token, lambda c: read_answers(c, staff_reads, support.token)) == \
        [staff_reads] * FRESH_CONNECTIONS
    # Revoked through the other instance: the suite's server hears of it only
    # from the revocation marks in Redis.
    client = second_instance.api(admin_token)
    try:
        expect_revoked(revoke(client, token))
        expect_revoked(revoke(client, support.token))
    finally:
        client.close()
    for path in reads:
        for resp in on_fresh_connections(base_url, admin_token, lambda c, p=path: c.get(p, token=token)):
            expect_unauthorized(resp)
    for path in staff_reads:
        for resp in on_fresh_connections(base_url, admin_token, lambda c, p=path: c.get(p, token=support.token)):
            expect_unauthorized(resp)
    # The user's sign-up token was not touched.
    assert read_answers(api, reads, account.token) == reads


def test_an_expired_session_is_refused(api, db, admin_token, second_instance):
    account = sign_up(api)
    token, kept = session_of(api, account), session_of(api, account)
    sessions = find_table(db, {"token_hash", "user_id", "expires_at"}, "sessions")
    digest = hashlib.sha256(token.encode()).digest()
    updated = db.query(f"UPDATE {sessions} SET expires_at = now() - interval '1 minute' "
                       f"WHERE token_hash = %s RETURNING user_id", (psycopg2.Binary(digest),))
    assert updated == [(account.id,)], "the session's row was not found by the SHA-256 of its token"
    # An instance that has never seen the token: it must read the expiry.
    expect_refused_everywhere(second_instance.base_url, admin_token, account, token)
    warm(second_instance.base_url, admin_token, account, kept)
    warm(second_instance.base_url, admin_token, account, account.token)



@pytest.mark.parametrize("shape", ["no at sign", "no domain", "too long"])
def test_a_string_that_is_not_an_address_fails_as_an_unknown_email_and_counts(api, shape):
    """api.md: 422 only for a missing or non-string field; an email no
    account has, an unusable one included, is 401 invalid_credentials and
    counts toward the lock-out."""
    tag = uuid.uuid4().hex
    email = {"no at sign": f"nobody-{tag}", "no domain": f"nobody-{tag}@",
             "too long": "x" * 300 + f"{tag}@example.com"}[shape]
    for i in range(SIGN_IN_FAILURES):
        expect_invalid_credentials(sign_in(api, email, f"wrong password {i}"))
    expect_locked(sign_in(api, email, "wrong password again"))

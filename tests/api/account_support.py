"""Helpers for the accounts-and-access tests (API.md Part 2, "Accounts and
access"; the server's decisions where the contract is silent are in the
issue 22 design: sessions of 30 days, the sign-in and sign-up limits, the
operator roles and the audit's actions).

Passwords, sessions and operators are made here; every test still makes its
own accounts (uuid e-mails), so nothing depends on what the database holds.
"""

import datetime as dt
import random
import re
import uuid

from requests.adapters import HTTPAdapter

from api_support import describe, expect_json, expect_problem, expect_timestamp, is_positive_int, unique_email

SESSION_DAYS = 30
# The sign-in limit: 10 failures for one e-mail within 15 minutes.
SIGN_IN_FAILURES = 10
SIGN_IN_WINDOW_S = 15 * 60

ROLES = ("admin", "trader", "support")
OPERATOR_KEYS = {"id", "email", "role", "created_at", "disabled_at"}
USER_SESSION_KEYS = {"token", "user_id", "role", "expires_at"}
OPERATOR_SESSION_KEYS = {"token", "operator_id", "role", "expires_at"}
AUDIT_ITEM_KEYS = {"id", "at", "actor", "action", "target", "request_id", "details"}
AUDIT_ACTIONS = ("match.create", "match.update", "match.suspend", "match.resume", "match.settle",
                 "user.create", "user.deposit", "operator.create", "operator.update",
                 "operator.password")

# docs/operations.md: a token is 256 random bits in base64url, no padding.
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_password():
    """A password of 35 ASCII characters, unique per call."""
    return f"pw-{uuid.uuid4().hex}"


def request_id():
    """A value for X-Request-Id that no other request of the suite sends."""
    return f"rid-{uuid.uuid4().hex}"


def parse_time(value):
    expect_timestamp(value)
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def sign_in(api, email, password, **kw):
    return api.post("/v1/sessions", json={"email": email, "password": password}, **kw)


def expect_session(resp, *, role, user_id=None, operator_id=None):
    """A 201 session answer of the design's shape; returns the body."""
    body = expect_json(resp, 201)
    if role == "user":
        assert set(body) == USER_SESSION_KEYS, describe(resp)
        assert body["user_id"] == user_id, describe(resp)
    else:
        assert set(body) == OPERATOR_SESSION_KEYS, describe(resp)
        assert body["operator_id"] == operator_id, describe(resp)
    assert body["role"] == role, describe(resp)
    assert isinstance(body["token"], str) and TOKEN_RE.match(body["token"]), describe(resp)
    now = dt.datetime.now(dt.timezone.utc)
    expires = parse_time(body["expires_at"])
    expected = now + dt.timedelta(days=SESSION_DAYS)
    assert abs((expires - expected).total_seconds()) < 300, \
        f"expires_at {body['expires_at']} is not now + {SESSION_DAYS} days: {describe(resp)}"
    return body


class Account:
    """A bettor with a password: id, email, password, token (the sign-up token)."""

    def __init__(self, body, password):
        self.id = body["id"]
        self.email = body["email"]
        self.token = body["token"]
        self.password = password
        self.body = body

    def __repr__(self):
        return f"Account(id={self.id}, email={self.email!r})"


def sign_up(api, *, password=None, admin_token=None, balance=None, name="Pat Word", email=None):
    """POST /v1/users with a password; 201 expected. Returns an Account."""
    password = password or new_password()
    body = {"email": email or unique_email(), "name": name, "password": password}
    if balance is not None:
        body["balance"] = balance
    resp = api.post("/v1/users", json=body, token=admin_token if balance is not None else None)
    return Account(expect_json(resp, 201), password)


def sign_ins_until_refused(client, email, password, attempts=6):
    """Up to `attempts` sign-ins one after another, for a race against a change
    that stops them (a disable, a new password); the tokens they got. Each
    refusal counts as a failed sign-in, and ten lock the email out: one a
    connection is enough."""
    tokens = []
    for _ in range(attempts):
        resp = sign_in(client, email, password)
        if resp.status_code != 201:
            expect_problem(resp, 401, "invalid_credentials")
            break
        tokens.append(resp.json()["token"])
    return tokens


def session_of(api, account):
    """Signs the account in; returns the session token."""
    return expect_session(sign_in(api, account.email, account.password), role="user",
                          user_id=account.id)["token"]


class Operator:
    """An operator created by `by` and signed in: id, email, role, password, token."""

    def __init__(self, body, password, token):
        self.id = body["id"]
        self.email = body["email"]
        self.role = body["role"]
        self.password = password
        self.token = token
        self.body = body

    @property
    def actor(self):
        return f"operator:{self.id}"

    def __repr__(self):
        return f"Operator(id={self.id}, role={self.role!r})"


def expect_operator(resp, *, email, role):
    body = expect_json(resp, 201)
    assert set(body) == OPERATOR_KEYS, describe(resp)
    assert is_positive_int(body["id"]), describe(resp)
    assert body["email"] == email, describe(resp)
    assert body["role"] == role, describe(resp)
    expect_timestamp(body["created_at"])
    assert body["disabled_at"] is None, describe(resp)
    return body


def create_operator(api, by_token, role, *, email=None, password=None, headers=None):
    """POST /v1/operators (201 expected) and a sign-in; returns an Operator."""
    email = email or unique_email(f"op-{role}")
    password = password or new_password()
    resp = api.post("/v1/operators", json={"email": email, "password": password, "role": role},
                    token=by_token, headers=headers)
    body = expect_operator(resp, email=email, role=role)
    session = expect_session(sign_in(api, email, password), role=role, operator_id=body["id"])
    return Operator(body, password, session["token"])


def expect_unauthorized(resp):
    return expect_problem(resp, 401, "unauthorized")


def expect_forbidden(resp):
    return expect_problem(resp, 403, "forbidden")


def retry_after(resp, low, high):
    """The Retry-After header: an integer number of seconds in [low, high]."""
    value = resp.headers.get("Retry-After")
    assert value is not None, f"no Retry-After: {describe(resp)}"
    assert value.isdigit(), f"Retry-After {value!r} is not delta-seconds: {describe(resp)}"
    seconds = int(value)
    assert low <= seconds <= high, f"Retry-After {seconds} not in {low}..{high}: {describe(resp)}"
    return seconds


def find_table(db, columns, what):
    """The table holding these columns (the schema is the server's business)."""
    return db._find_table(set(columns), what)


class SourceAddressAdapter(HTTPAdapter):
    """Connects from a given local address."""

    def __init__(self, address):
        self.address = address
        super().__init__()

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        pool_kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)


def new_address():
    """A loopback address no other test (or recent run) uses."""
    return "127.{}.{}.{}".format(random.randint(1, 254), random.randint(0, 255), random.randint(1, 254))

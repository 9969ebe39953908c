"""Shared helpers for the black-box API tests (imported by the test modules).

Everything here is written against /work/shared/API.md, not against the
server's code: the tests must keep passing for any server that honours the
contract.
"""

import datetime as dt
import http.client
import json
import re
import types
import urllib.parse
import uuid
from decimal import Decimal

import requests

# A hung server must fail a test, not hang the whole suite.
REQUEST_TIMEOUT_S = 15

# "Bodies over 64 KiB: 413 payload_too_large."
MAX_BODY_BYTES = 64 * 1024

# RFC 3339 UTC as the contract writes it ("2026-12-01T19:45:00Z"); fractional
# seconds are tolerated for server-made timestamps such as created_at.
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "code", "detail"}

USER_KEYS = {"id", "email", "name", "balance", "created_at"}
MATCH_KEYS = {"id", "team_1", "team_2", "date", "competition", "odds", "status", "result", "created_at",
              "odds_version", "max_stake", "max_liability"}
TRANSACTION_KEYS = {"id", "kind", "amount", "bet_id", "balance_after", "created_at"}
PAGE_KEYS = {"items", "total", "limit", "offset"}

_UNSET = object()


class Api:
    """A thin wrapper around requests.Session that speaks the contract's dialect.

    `json=` is serialised here (compactly) so tests control the exact bytes;
    `body=` sends raw text/bytes (for "2.10" vs 2.1, malformed JSON, bad UTF-8).
    Both default to Content-Type application/json unless `content_type` is given
    (None means: send no Content-Type header at all).
    """

    def __init__(self, base_url, admin_token):
        self.base_url = base_url.rstrip("/")
        self.admin_token = admin_token
        self.session = requests.Session()

    def close(self):
        self.session.close()

    def request(self, method, path, *, json=_UNSET, body=None, token=None,
                params=None, headers=None, content_type=_UNSET):
        all_headers = {}
        data = None
        if json is not _UNSET:
            data = _dumps(json).encode("utf-8")
        elif body is not None:
            data = body.encode("utf-8") if isinstance(body, str) else body
        if data is not None:
            ct = "application/json" if content_type is _UNSET else content_type
            if ct is not None:
                all_headers["Content-Type"] = ct
        elif content_type not in (_UNSET, None):
            all_headers["Content-Type"] = content_type
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        if headers:
            all_headers.update(headers)
        req = requests.Request(method, self.base_url + path, data=data,
                               params=params, headers=all_headers)
        prepared = self.session.prepare_request(req)
        if params is None:
            # Send the target verbatim: requests would "fix" %ZZ into %25ZZ.
            prepared.url = self.base_url + path
        if data is None and method in ("POST", "PUT", "PATCH"):
            # requests adds "Content-Length: 0" already; make sure no default
            # Content-Type sneaks in for a body-less request.
            prepared.headers.pop("Content-Type", None)
        if content_type is None:
            prepared.headers.pop("Content-Type", None)
        return self.session.send(prepared, timeout=REQUEST_TIMEOUT_S)

    def raw_request(self, method, target, headers=None):
        """Sends `target` byte for byte (urllib3 would re-encode "%ZZ" as "%25ZZ")."""
        parts = urllib.parse.urlsplit(self.base_url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT_S)
        try:
            conn.putrequest(method, target, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            conn.endheaders()
            resp = conn.getresponse()
            return RawResponse(method, self.base_url + target, resp.status, resp.getheaders(), resp.read())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


class RawResponse:
    """The parts of requests.Response that the expect_* helpers use."""

    def __init__(self, method, url, status, headers, content):
        self.request = types.SimpleNamespace(method=method, url=url)
        self.status_code = status
        self.headers = requests.structures.CaseInsensitiveDict(headers)
        self.content = content
        self.text = content.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.content)


def _dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------
# Unique test data. Every test makes its own users and matches so that tests
# are independent of each other and of whatever the database already holds.
# --------------------------------------------------------------------------

def unique_email(prefix="user"):
    return f"{prefix}-{uuid.uuid4().hex}@example.com"


def unique_team(prefix="Team"):
    return f"{prefix} {uuid.uuid4().hex[:20]}"


def rfc3339(when):
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def future_date(days=30, seconds=0):
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    return rfc3339(now + dt.timedelta(days=days, seconds=seconds))


def past_date(days=30):
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    return rfc3339(now - dt.timedelta(days=days))


# --------------------------------------------------------------------------
# Assertions
# --------------------------------------------------------------------------

def describe(resp):
    return f"{resp.request.method} {resp.request.url} -> {resp.status_code} {resp.text[:500]!r}"


def expect_status(resp, status):
    assert resp.status_code == status, describe(resp)


def expect_json(resp, status):
    """Asserts the status and an application/json body; returns the body."""
    expect_status(resp, status)
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == "application/json", describe(resp)
    return resp.json()


def json_decimal(resp):
    """The body with every non-integer number as an exact Decimal (odds checks)."""
    return json.loads(resp.content, parse_float=Decimal)


def expect_problem(resp, status, code=None):
    """Asserts an RFC 9457 problem with the given status (and code); returns it."""
    assert resp.status_code == status, describe(resp)
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == PROBLEM_CONTENT_TYPE, describe(resp)
    problem = resp.json()
    assert isinstance(problem, dict), describe(resp)
    missing = PROBLEM_KEYS - problem.keys()
    assert not missing, f"problem lacks {missing}: {describe(resp)}"
    assert problem["status"] == status, describe(resp)
    assert isinstance(problem["type"], str) and problem["type"], describe(resp)
    assert isinstance(problem["title"], str) and problem["title"], describe(resp)
    assert isinstance(problem["detail"], str), describe(resp)
    assert isinstance(problem["code"], str) and problem["code"], describe(resp)
    if code is not None:
        assert problem["code"] == code, describe(resp)
    return problem


def expect_validation_failed(resp, field=None):
    """422 validation_failed whose errors[] (if `field`) names that field."""
    problem = expect_problem(resp, 422, "validation_failed")
    errors = problem.get("errors")
    assert isinstance(errors, list) and errors, f"no errors[]: {describe(resp)}"
    for err in errors:
        assert isinstance(err, dict), describe(resp)
        assert isinstance(err.get("field"), str), describe(resp)
        assert isinstance(err.get("message"), str), describe(resp)
    if field is not None:
        fields = [err["field"] for err in errors]
        assert any(_names_field(f, field) for f in fields), \
            f"expected field {field!r} in {fields}: {describe(resp)}"
    return problem


def _names_field(reported, field):
    """"odds" is named by "odds" and by a path into it ("odds.X", "odds[X]", "odds/X")."""
    return reported == field or reported.startswith((field + ".", field + "[", field + "/"))


def expect_client_error(resp):
    """Any 4xx with a problem body: for inputs whose exact code the contract leaves open."""
    assert 400 <= resp.status_code < 500, describe(resp)
    expect_problem(resp, resp.status_code)


def is_positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def expect_timestamp(value):
    assert isinstance(value, str) and RFC3339_UTC.match(value), f"not RFC 3339 UTC: {value!r}"


def expect_page(body, *, total, limit, offset):
    assert set(body.keys()) == PAGE_KEYS, body
    assert isinstance(body["items"], list), body
    assert body["total"] == total, body
    assert body["limit"] == limit, body
    assert body["offset"] == offset, body

"""Bad input on every route (issue 6, API.md: Conventions).

Every route that takes a body gets malformed JSON, values of the wrong type,
nulls, arrays where objects belong, unknown fields, numbers out of range, odd
Unicode, the wrong content type and oversized bodies; every route gets unknown
query parameters and wrong methods; every list gets invalid paging, sort and
filter values; every id-bearing path gets ids that are not positive integers.
Each answer must be the contract's 4xx with a problem+json body - never a 5xx
- and a batch of rejected requests must leave the database (and the cart in
Redis) exactly as it was.

The tests of one route and one kind of bad input collect every mismatch and
report them together, so one run shows the whole picture.
"""

import json
import socket
import uuid

import pytest

import redis_keys
from api_support import (
    MAX_BODY_BYTES,
    Api,
    describe,
    expect_json,
    expect_problem,
    expect_validation_failed,
    future_date,
    unique_email,
    unique_team,
)
from account_support import find_table
from fault_support import nothing_changes, read_http_response

MISSING_ID = 2_000_000_000
MAX_STAKE = 100_000_000
MAX_DEPOSIT = 10**12

# Stands for a raw JSON literal in a body (see raw_body): lets a test send
# 1e30 or 2**63 exactly as written, which json.dumps would not.
RAW = "\u0000RAW\u0000"


def raw_body(body, literal):
    """JSON text of `body` with the RAW placeholder replaced by `literal`."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    placeholder = json.dumps(RAW)
    assert placeholder in text, body
    return text.replace(placeholder, literal)


def replace_field(body, field, value):
    """A copy of body with body[field] (or body["odds"][sel] for "odds.sel") = value."""
    out = json.loads(json.dumps(body))
    if "." in field:
        outer, inner = field.split(".", 1)
        out[outer][inner] = value
    else:
        out[field] = value
    return out


def check(failures, resp, status, code=None, field=None):
    """Like expect_problem/expect_validation_failed, but collects the failure."""
    try:
        if status == 422 and code == "validation_failed":
            expect_validation_failed(resp, field)
        else:
            expect_problem(resp, status, code)
    except (AssertionError, ValueError) as exc:
        failures.append(str(exc).split("\n")[0][:600])


def report(failures, what):
    assert not failures, f"{len(failures)} wrong answers to {what}:\n" + "\n".join(failures[:40])


# --------------------------------------------------------------------------
# The data the bad requests aim at (created once per module, never changed)
# --------------------------------------------------------------------------

class World:
    pass


@pytest.fixture(scope="module")
def world(base_url, admin_token, _server_is_up):
    api = Api(base_url, admin_token)
    w = World()
    w.admin = admin_token

    def user(balance=None):
        body = {"email": unique_email(), "name": "Bad Input"}
        if balance is not None:
            body["balance"] = balance
        return expect_json(api.post("/v1/users", json=body, token=admin_token if balance else None), 201)

    def match():
        body = {"team_1": unique_team("Home"), "team_2": unique_team("Away"), "date": future_date(),
                "odds": {"1": 2.10, "X": 3.25, "2": 3.60}}
        return expect_json(api.post("/v1/matches", json=body, token=admin_token), 201)

    w.owner = user(balance=1_000_000)
    w.other = user()
    w.match = match()
    w.settle_match = match()
    w.bet = expect_json(api.post("/v1/bets", token=w.owner["token"], json={
        "user_id": w.owner["id"], "match_id": w.match["id"], "selection": "1", "stake": 100}), 201)
    w.item = expect_json(api.post(f"/v1/users/{w.owner['id']}/cart/items", token=w.owner["token"], json={
        "match_id": w.match["id"], "selection": "X", "stake": 100}), 201)
    api.close()
    return w


@pytest.fixture
def client(base_url, admin_token, _server_is_up):
    c = Api(base_url, admin_token)
    yield c
    c.close()


@pytest.fixture
def unchanged(db, bets_db, redis, world):
    """unchanged() -> context manager: the tables and the owner's cart stay the same."""
    return lambda: nothing_changes(db, bets_db, redis, redis_keys.cart_keys(world.owner['id']))


# --------------------------------------------------------------------------
# Routes with a body
# --------------------------------------------------------------------------

class BodyRoute:
    """A route taking a JSON body: how to call it as the right caller with a
    valid body (that the tests only ever send mutated), and its fields.
    Field kinds: text, money, id, odds (an object of odds), odds_value."""

    def __init__(self, name, method, path, caller, body, fields, required=None, body_optional=False):
        self.name, self.method, self.path, self.caller = name, method, path, caller
        self.body, self.fields = body, fields
        self.required = list(fields) if required is None else required
        self.body_optional = body_optional

    def __repr__(self):
        return self.name

    def target(self, w):
        return self.path.format(owner=w.owner["id"], match=w.match["id"], settle=w.settle_match["id"],
                                item=w.item["item_id"])

    def token(self, w):
        return {"anyone": None, "admin": w.admin, "owner": w.owner["token"]}[self.caller]

    def send(self, api, w, *, json_body=None, raw=None, content_type="application/json", query=""):
        kw = {"token": self.token(w), "content_type": content_type}
        if raw is not None:
            kw["body"] = raw
        elif json_body is not None:
            kw["json"] = json_body
        return api.request(self.method, self.target(w) + query, **kw)


def _match_body(w):
    return {"team_1": unique_team("Home"), "team_2": unique_team("Away"), "date": future_date(),
            "odds": {"1": 2.10, "X": 3.25}}


BODY_ROUTES = [
    BodyRoute("sign_up", "POST", "/v1/users", "anyone",
              lambda w: {"email": unique_email(), "name": "Ann"}, {"email": "text", "name": "text"}),
    BodyRoute("deposit", "POST", "/v1/users/{owner}/deposits", "admin",
              lambda w: {"amount": 100}, {"amount": "money"}),
    BodyRoute("create_match", "POST", "/v1/matches", "admin", _match_body,
              {"team_1": "text", "team_2": "text", "date": "text", "odds": "odds", "odds.1": "odds_value",
               "competition": "text"},
              required=["team_1", "team_2", "date", "odds"]),
    BodyRoute("change_odds", "PATCH", "/v1/matches/{match}", "admin",
              lambda w: {"odds": {"1": 2.20}}, {"odds": "odds", "odds.1": "odds_value", "competition": "text"},
              required=[]),
    BodyRoute("settle", "POST", "/v1/matches/{settle}/result", "admin",
              lambda w: {"result": "1"}, {"result": "text"}),
    BodyRoute("place_bet", "POST", "/v1/bets", "owner",
              lambda w: {"user_id": w.owner["id"], "match_id": w.match["id"], "selection": "2", "stake": 100},
              {"user_id": "id", "match_id": "id", "selection": "text", "stake": "money"}),
    BodyRoute("add_cart_item", "POST", "/v1/users/{owner}/cart/items", "owner",
              lambda w: {"match_id": w.match["id"], "selection": "2", "stake": 100},
              {"match_id": "id", "selection": "text", "stake": "money"}),
    BodyRoute("change_cart_item", "PATCH", "/v1/users/{owner}/cart/items/{item}", "owner",
              lambda w: {"stake": 250, "selection": "2"}, {"stake": "money", "selection": "text"}, required=[]),
    BodyRoute("checkout", "POST", "/v1/users/{owner}/cart/checkout", "owner",
              lambda w: {}, {}, required=[], body_optional=True),
    # A generous limit: were it ever sent unmutated, it would refuse nothing.
    BodyRoute("change_limits", "PUT", "/v1/users/{owner}/limits", "owner",
              lambda w: {"deposit": {"month": 10**12}}, {}, required=[]),
]
ROUTES_WITH_FIELDS = [r for r in BODY_ROUTES if r.fields]
# Fields where null is a value: a match's competition (null: none, or cleared by PATCH).
NULLABLE_FIELDS = {"competition"}
ROUTES_WITH_REQUIRED = [r for r in BODY_ROUTES if r.required]

MALFORMED_JSON = [
    "{", "}", "{\"a\":}", "{'email':'a@b.co'}", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[1,]", "{}}", "{}{}",
    "{} x", "nul", "tru", "\"unterminated", "{\"a\":\"\\x41\"}", "{\"a\":01}", "{\"a\":.5}", "{\"a\":+1}",
    "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":-}", "{\"a\":1e}", "/* comment */{}", "{\"a\":1}//",
    "\u00a0{}", "{\"a\":\"tab\tinside\"}", "{\"a\":\"line\nbreak\"}",
]
NON_OBJECT_JSON = ["[]", "[{}]", "null", "\"text\"", "42", "true", "1.5"]

WRONG_TYPES = {
    "text": [1, 1.5, True, False, [], ["x"], {}, {"x": "y"}],
    "money": ["100", "1e2", 100.0, 1.5, True, [], [100], {}, {"amount": 100}],
    "id": ["1", 1.0, True, [], [1], {}, {"id": 1}],
    "odds": ["2.10", 2.1, True, [], [2.1], ["1", 2.1]],
    "odds_value": ["2.10", True, [], {}, {"value": 2.1}],
}

OUT_OF_RANGE = {
    "money": ["0", "-1", "-100", "0.5", "10.5", "100.0", "1e30", "-1e30", str(2**63), str(2**63 - 1),
              str(2**64), str(-(2**63)), str(-(2**63) - 1), "1" + "0" * 30],
    "id": ["0", "-1", "1.5", "1.0", "1e30", str(2**63), str(2**64), str(-(2**63) - 1), "-0"],
    "odds_value": ["1", "1.00", "0", "-2.5", "1000.01", "1001", "2.105", "2.1000001", "1e30", "1e-30",
                   str(2**63), "-0"],
}
# Per-field out-of-range money beyond the common list.
MONEY_ABOVE_MAX = {"stake": str(MAX_STAKE + 1), "amount": str(MAX_DEPOSIT + 1)}

BAD_TEXT = {
    "email": ["", "   ", "nope", "a@", "@b.co", "a b@c.co", "a@@b.co", "x" * 250 + "@b.co", "a\u0000b@c.co"],
    "name": ["", "   ", "n" * 101, "\u00e9" * 101],
    "team_1": ["", "   ", "t" * 101],
    "team_2": ["", "   ", "t" * 101],
    "competition": ["", "   ", "c" * 101, "\u00e9" * 101, "Cup\u0000A", "Cup\nA", "Cup\u007fA"],
    "date": ["", "tomorrow", "2026-12-01", "2026-12-01T19:45:00", "2026-12-01 19:45:00Z",
             "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-12-01T25:00:00Z", "2026-12-01T19:45:00ZZ",
             "\uff12\uff10\uff12\uff16-12-01T19:45:00Z", "2026-12-01T19:45:00Z\u0000"],
    "selection": ["", "x", "3", "0", "12", "1 ", " 1", "\uff38", "X\u0000", "1\u0301", "home", "null"],
    "result": ["", "VOID", "Void", "draw", "3", "x", "1 ", "void\u0000", "won"],
}


@pytest.mark.parametrize("route", BODY_ROUTES, ids=repr)
def test_malformed_json_is_400_invalid_json(client, world, unchanged, route):
    failures = []
    with unchanged():
        for raw in MALFORMED_JSON:
            check(failures, route.send(client, world, raw=raw), 400, "invalid_json")
        if not route.body_optional:
            check(failures, route.send(client, world, raw=""), 400, "invalid_json")
        report(failures, f"malformed JSON on {route.name}")


@pytest.mark.parametrize("route", BODY_ROUTES, ids=repr)
def test_json_that_is_not_an_object_is_422(client, world, unchanged, route):
    failures = []
    with unchanged():
        for raw in NON_OBJECT_JSON + [json.dumps([route.body(world)])]:
            check(failures, route.send(client, world, raw=raw), 422, "validation_failed")
        report(failures, f"non-object JSON on {route.name}")


@pytest.mark.parametrize("route", ROUTES_WITH_FIELDS, ids=repr)
def test_wrong_types_are_422_naming_the_field(client, world, unchanged, route):
    failures = []
    with unchanged():
        for field, kind in route.fields.items():
            for value in WRONG_TYPES[kind]:
                body = replace_field(route.body(world), field, value)
                check(failures, route.send(client, world, json_body=body), 422, "validation_failed",
                      field.split(".")[0])
        report(failures, f"wrong types on {route.name}")


@pytest.mark.parametrize("route", ROUTES_WITH_FIELDS, ids=repr)
def test_null_fields_are_422_naming_the_field(client, world, unchanged, route):
    failures = []
    fields = [f for f in route.fields if "." not in f and f not in NULLABLE_FIELDS]
    if route.name == "create_match":
        fields.append("odds.1")  # null withdraws a selection only in PATCH
    with unchanged():
        for field in fields:
            body = replace_field(route.body(world), field, None)
            check(failures, route.send(client, world, json_body=body), 422, "validation_failed",
                  field.split(".")[0])
        # Everything null at once: still one 422, listing the fields.
        body = {f: None for f in route.fields if "." not in f}
        check(failures, route.send(client, world, json_body=body), 422, "validation_failed")
        report(failures, f"null fields on {route.name}")


@pytest.mark.parametrize("route", ROUTES_WITH_REQUIRED, ids=repr)
def test_missing_required_fields_are_422_naming_the_field(client, world, unchanged, route):
    failures = []
    with unchanged():
        for field in route.required:
            body = route.body(world)
            del body[field]
            check(failures, route.send(client, world, json_body=body), 422, "validation_failed", field)
        resp = route.send(client, world, json_body={})
        check(failures, resp, 422, "validation_failed")
        if resp.status_code == 422:
            named = {e.get("field") for e in resp.json().get("errors", [])}
            missing = [f for f in route.required if f not in named]
            if missing:
                failures.append(f"{{}} on {route.name}: errors[] does not name {missing}: {describe(resp)}")
        report(failures, f"missing fields on {route.name}")


@pytest.mark.parametrize("route", BODY_ROUTES, ids=repr)
def test_unknown_fields_are_422_naming_the_field(client, world, unchanged, route):
    failures = []
    unknown = ["unknown", "Stake", "user_Id", "amount ", "", "__proto__", "constructor", "id", "balance_",
               "status", "token", "\u0000", "\U0001F600"]
    with unchanged():
        for name in unknown:
            body = route.body(world)
            if name in body:
                continue
            body[name] = 1
            check(failures, route.send(client, world, json_body=body), 422, "validation_failed", name)
        if "odds" in route.fields:
            body = route.body(world)
            body["odds"]["3"] = 2.5
            check(failures, route.send(client, world, json_body=body), 422, "validation_failed", "odds")
            body = route.body(world)
            body["odds"]["x"] = 2.5  # selections are case-sensitive: "X", not "x"
            check(failures, route.send(client, world, json_body=body), 422, "validation_failed", "odds")
        report(failures, f"unknown fields on {route.name}")


def test_duplicate_keys_are_rejected(client, world, unchanged):
    """{"stake": 1, "stake": 100000000}: which one wins is a guess; a money API must not guess."""
    failures = []
    bet = ('{"user_id":%d,"match_id":%d,"selection":"2","stake":1,"stake":100}'
           % (world.owner["id"], world.match["id"]))
    with unchanged():
        resp = client.post("/v1/bets", body=bet, token=world.owner["token"])
        if resp.status_code not in (400, 422):
            failures.append(describe(resp))
        else:
            check(failures, resp, resp.status_code)
        report(failures, "duplicate keys")


@pytest.mark.parametrize("route", [r for r in BODY_ROUTES if set(r.fields.values()) & set(OUT_OF_RANGE)],
                         ids=repr)
def test_numbers_out_of_range_are_422_naming_the_field(client, world, unchanged, route):
    failures = []
    with unchanged():
        for field, kind in route.fields.items():
            literals = list(OUT_OF_RANGE.get(kind, []))
            if field in MONEY_ABOVE_MAX:
                literals.append(MONEY_ABOVE_MAX[field])
            for literal in literals:
                raw = raw_body(replace_field(route.body(world), field, RAW), literal)
                check(failures, route.send(client, world, raw=raw), 422, "validation_failed",
                      field.split(".")[0])
        report(failures, f"out-of-range numbers on {route.name}")


@pytest.mark.parametrize("route", ROUTES_WITH_FIELDS, ids=repr)
def test_invalid_text_values_are_422_naming_the_field(client, world, unchanged, route):
    failures = []
    with unchanged():
        for field, kind in route.fields.items():
            for value in BAD_TEXT.get(field, []) if kind == "text" else []:
                body = replace_field(route.body(world), field, value)
                check(failures, route.send(client, world, json_body=body), 422, "validation_failed", field)
        if route.name == "create_match":
            body = route.body(world)
            body["team_2"] = "  " + body["team_1"].upper() + " "
            check(failures, route.send(client, world, json_body=body), 422, "validation_failed", "team_2")
        report(failures, f"invalid text values on {route.name}")


ODD_UNICODE = ["Zo\u00eb", "Jos\u00e9 \u00d1\u00fa\u00f1ez", "\u5317\u4eac\u56fd\u5b89", "\u0395\u03bb\u03bb\u03ac\u03b4\u03b1",
               "\u202eevil", "a\u200bb", "\U0001F44D\U0001F3FD team", "e\u0301", "\U0001F600" * 3,
               "\U0001D56C\U0001D597\U0001D598", "\u0645\u0631\u062d\u0628\u0627", "\ufeffbom", "tab\tin", "\u00e9" * 100]


def test_odd_unicode_names_round_trip_or_422(client, admin_token):
    """Any Unicode name is either stored exactly (and read back the same) or
    refused with 422 - never mangled, never a 5xx."""
    failures = []
    for name in ODD_UNICODE:
        resp = client.post("/v1/users", json={"email": unique_email(), "name": name})
        if resp.status_code == 201:
            user = resp.json()
            back = client.get(f"/v1/users/{user['id']}", token=admin_token)
            if resp.json()["name"] != name or back.status_code != 200 or back.json()["name"] != name:
                failures.append(f"name {name!r} came back as {user['name']!r} / {back.text[:200]!r}")
        else:
            check(failures, resp, 422, "validation_failed", "name")
    report(failures, "odd Unicode names")


def test_odd_unicode_team_names_round_trip_or_422(client, admin_token):
    failures = []
    for name in ODD_UNICODE:
        team = name + " " + uuid.uuid4().hex[:8]
        body = {"team_1": team, "team_2": unique_team(), "date": future_date(), "odds": {"1": 2.0}}
        resp = client.post("/v1/matches", json=body, token=admin_token)
        if resp.status_code == 201:
            match = resp.json()
            back = client.get(f"/v1/matches/{match['id']}")
            listed = client.get("/v1/matches", params={"team": team})
            if match["team_1"] != team or back.json().get("team_1") != team:
                failures.append(f"team {team!r} came back as {match['team_1']!r} / {back.text[:200]!r}")
            elif listed.status_code != 200 or [m["id"] for m in listed.json()["items"]] != [match["id"]]:
                failures.append(f"filter team={team!r} did not find exactly the match: {describe(listed)}")
        else:
            check(failures, resp, 422, "validation_failed", "team_1")
    report(failures, "odd Unicode team names")


def test_name_length_counts_characters_not_bytes(client, db):
    ok = client.post("/v1/users", json={"email": unique_email(), "name": "\u00e9" * 100})
    assert expect_json(ok, 201)["name"] == "\u00e9" * 100
    email = unique_email()
    expect_validation_failed(client.post("/v1/users", json={"email": email, "name": "\u00e9" * 101}), "name")
    assert db.users_with_email(email) == 0


CONTENT_TYPES = [None, "text/plain", "application/x-www-form-urlencoded", "text/json", "application/xml",
                 "application/jsonp", "multipart/form-data; boundary=x", "application/octet-stream",
                 "json", "*/*", "application/*"]


@pytest.mark.parametrize("route", BODY_ROUTES, ids=repr)
def test_wrong_content_type_is_415(client, world, unchanged, route):
    failures = []
    with unchanged():
        for ctype in CONTENT_TYPES:
            raw = json.dumps(route.body(world)) if not route.body_optional else "{}"
            check(failures, route.send(client, world, raw=raw, content_type=ctype), 415, "unsupported_media_type")
        report(failures, f"wrong content types on {route.name}")


def test_json_content_type_parameters_and_case_are_accepted(client):
    for ctype in ("application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8"):
        resp = client.post("/v1/users", json={"email": unique_email(), "name": "Ann"}, content_type=ctype)
        expect_json(resp, 201)


@pytest.mark.parametrize("route", BODY_ROUTES, ids=repr)
def test_oversized_body_is_413(base_url, admin_token, world, unchanged, route):
    failures = []
    with unchanged():
        for size in (MAX_BODY_BYTES + 1, 4 * MAX_BODY_BYTES, 1024 * 1024):
            body = route.body(world)
            body["pad"] = ""
            filler = size - len(json.dumps(body, separators=(",", ":")).encode())
            body["pad"] = "p" * filler
            raw = json.dumps(body, separators=(",", ":"))
            assert len(raw.encode()) == size
            c = Api(base_url, admin_token)  # a server may close after refusing a large body
            try:
                check(failures, route.send(c, world, raw=raw), 413, "payload_too_large")
            finally:
                c.close()
        report(failures, f"oversized bodies on {route.name}")


@pytest.mark.parametrize("route", BODY_ROUTES, ids=repr)
def test_unknown_query_parameter_on_a_write_is_400_and_acts_not(client, world, unchanged, route):
    """API.md: unknown query parameters give 400 invalid_parameter - also on
    POST and PATCH, where silently ignoring "?dry_run=1" would act."""
    failures = []
    with unchanged():
        for query in ("?dry_run=1", "?unknown", "?user_id=1"):
            check(failures, route.send(client, world, json_body=route.body(world), query=query),
                  400, "invalid_parameter")
        report(failures, f"unknown query parameters on {route.name}")


# --------------------------------------------------------------------------
# Query strings: every GET route, and the lists' paging, sort and filters
# --------------------------------------------------------------------------

class GetRoute:
    def __init__(self, name, path, caller, params=()):
        self.name, self.path, self.caller, self.params = name, path, caller, params

    def __repr__(self):
        return self.name

    def target(self, w):
        return self.path.format(owner=w.owner["id"], match=w.match["id"], bet=w.bet["id"])

    def get(self, api, w, query):
        token = {"anyone": None, "admin": w.admin, "owner": w.owner["token"]}[self.caller]
        return api.get(self.target(w) + "?" + query, token=token)


MATCH_PARAMS = ("status", "team", "competition", "q", "from", "to", "sort", "limit", "offset")
USER_LIST_PARAMS = ("q", "limit", "offset")
BET_PARAMS = ("match_id", "status", "selection", "min_stake", "max_stake", "sort", "limit", "offset")
GET_ROUTES = [
    GetRoute("list_matches", "/v1/matches", "anyone", MATCH_PARAMS),
    GetRoute("get_match", "/v1/matches/{match}", "anyone"),
    GetRoute("list_users", "/v1/users", "admin", USER_LIST_PARAMS),
    GetRoute("get_user", "/v1/users/{owner}", "owner"),
    GetRoute("transactions", "/v1/users/{owner}/transactions", "owner", ("limit", "offset")),
    GetRoute("user_bets", "/v1/users/{owner}/bets", "owner", BET_PARAMS),
    GetRoute("get_bet", "/v1/bets/{bet}", "owner"),
    GetRoute("all_bets", "/v1/bets", "admin", BET_PARAMS),
    GetRoute("summary", "/v1/bets/summary", "admin"),
    GetRoute("cart", "/v1/users/{owner}/cart", "owner"),
]
LIST_ROUTES = [r for r in GET_ROUTES if "limit" in r.params]

BAD_LIMIT = ["0", "101", "-1", "abc", "1.5", "", "1e1", "%201", "+1", "0x10", str(2**63), str(2**64), "%00",
             "10%00", "1,2", "%D9%A1"]
BAD_OFFSET = ["-1", "abc", "1.5", "", "1e1", "+1", "0x10", "%00", "1,2"]
BAD_FILTERS = {
    "status": ["", "pending2", "OPEN ", "open,settled", "*", "%25"],
    "sort": ["", "id", "-", "--date", "date,-date", "date%20desc", "random()", "1"],
    "from": ["", "yesterday", "2026-12-01", "2026-13-01T00:00:00Z", "2026-12-01T19:45:00", "0"],
    "to": ["", "tomorrow", "2026-02-30T00:00:00Z", "9999"],
    "match_id": ["", "0", "-1", "abc", "1.5", str(2**63), "1%20OR%201=1"],
    "selection": ["", "x", "3", "home", "1,2"],
    "min_stake": ["", "-1", "abc", "1.5", "1e30", str(2**63), str(MAX_STAKE + 1)],
    "max_stake": ["", "-1", "abc", "1.5", "1e30", str(2**64), str(MAX_STAKE + 1)],
    "q": ["", "a", "%20a%20", "+", "x" * 101, "%C3%A9" * 101, "a%00b", "a%09b", "a%7Fb"],
    "competition": ["", "c" * 101, "%C3%A9" * 101],
}
BAD_STATUS = {"list_matches": ["pending", "won", "closed"], "user_bets": ["open", "settled"],
              "all_bets": ["open", "settled"]}


@pytest.mark.parametrize("route", GET_ROUTES, ids=repr)
def test_unknown_or_repeated_query_parameters_are_400(client, world, route):
    failures = []
    queries = ["bogus=1", "bogus", "LIMIT=1", "limit_=1", "=1", "%00=1", "a%3Db=1", "%C3%A9=1"]
    for query in queries:
        check(failures, route.get(client, world, query), 400, "invalid_parameter")
    for name in route.params:
        value = {"status": "open" if route.name == "list_matches" else "pending", "team": "x",
                 "q": "ab", "competition": "Cup",
                 "from": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "sort": "-created_at"
                 if route.name != "list_matches" else "date", "selection": "1"}.get(name, "1")
        check(failures, route.get(client, world, f"{name}={value}&{name}={value}"), 400, "invalid_parameter")
    report(failures, f"unknown/repeated parameters on {route.name}")


@pytest.mark.parametrize("route", LIST_ROUTES, ids=repr)
def test_invalid_paging_is_400(client, world, route):
    failures = []
    for value in BAD_LIMIT:
        check(failures, route.get(client, world, f"limit={value}"), 400, "invalid_parameter")
    for value in BAD_OFFSET:
        check(failures, route.get(client, world, f"offset={value}"), 400, "invalid_parameter")
    report(failures, f"invalid paging on {route.name}")


@pytest.mark.parametrize("route", LIST_ROUTES, ids=repr)
def test_invalid_sort_and_filters_are_400(client, world, route):
    failures = []
    for name in route.params:
        values = list(BAD_FILTERS.get(name, []))
        if name == "status":
            values += BAD_STATUS[route.name]
        if name == "sort":
            values += ["stake"] if route.name == "list_matches" else ["date", "-date"]
        for value in values:
            check(failures, route.get(client, world, f"{name}={value}"), 400, "invalid_parameter")
    report(failures, f"invalid sort/filter values on {route.name}")


def test_long_query_strings_below_the_header_limit_are_400(client, world):
    failures = []
    check(failures, client.get("/v1/matches?bogus=" + "a" * 10_000), 400, "invalid_parameter")
    check(failures, client.get("/v1/matches?" + "&".join(f"p{i}=1" for i in range(1500))), 400,
          "invalid_parameter")
    check(failures, client.get("/v1/matches?" + "limit=1&" * 1000 + "offset=0"), 400, "invalid_parameter")
    check(failures, client.get(f"/v1/users/{world.owner['id']}/bets?sort=" + "-stake" * 1500,
                               token=world.owner["token"]), 400, "invalid_parameter")
    report(failures, "long query strings")


def _raw_get(base_url, target=None, headers=b"", raw=None):
    """Sends one raw request; returns (status, headers, body) or None if the
    server closed without answering (a reset while we were still sending counts as that)."""
    host, port = base_url.split("//")[1].split(":")
    sock = socket.create_connection((host, int(port)), timeout=15)
    try:
        request = raw if raw is not None else (
            b"GET " + target + b" HTTP/1.1\r\nHost: test\r\n" + headers + b"Connection: close\r\n\r\n")
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return read_http_response(sock)
    finally:
        sock.close()


@pytest.mark.parametrize("size", [20_000, 100_000, 1_000_000], ids=["20KB", "100KB", "1MB"])
@pytest.mark.direct  # raw HTTP bytes: through a proxy they would test the proxy's parser
def test_huge_request_targets_are_4xx_problem(base_url, client, size):
    """Beyond the 16 KiB header limit: a 4xx problem (414/431/400), the server
    unharmed. (Some client may not see the answer if the server stops reading:
    then it must at least close the connection, not hang.)"""
    answer = _raw_get(base_url, b"/v1/matches?team=" + b"a" * size)
    assert answer is not None, "the server closed without an answer"
    status, headers, body = answer
    assert 400 <= status < 500, (status, body[:300])
    assert headers.get("content-type", "").startswith("application/problem+json"), headers
    problem = json.loads(body)
    assert problem["status"] == status and problem["code"], problem
    expect_json(client.get("/healthz"), 200)


@pytest.mark.parametrize("shape", ["one-huge-header", "many-headers"])
@pytest.mark.direct  # raw HTTP bytes: through a proxy they would test the proxy's parser
def test_huge_headers_are_431_problem(base_url, client, shape):
    if shape == "one-huge-header":
        headers = b"X-Filler: " + b"h" * 40_000 + b"\r\n"
    else:
        headers = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"h" * 40) for i in range(2000))
    answer = _raw_get(base_url, b"/v1/matches", headers=headers)
    assert answer is not None, "the server closed without an answer"
    status, hdrs, body = answer
    assert status == 431, (status, body[:300])
    assert hdrs.get("content-type", "").startswith("application/problem+json"), hdrs
    assert json.loads(body)["status"] == 431
    expect_json(client.get("/healthz"), 200)


@pytest.mark.parametrize("raw", [
    b"GET /v1/matches HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"GET /v1/matches HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"GET /v1/matches HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    b"POST /v1/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
    b"zz\r\n{}\r\n0\r\n\r\n",
    b"GET /v1/matches HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /v1/matches\r\nHost: x\r\n\r\n",
    b"GET  /v1/matches HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/matches HTTP/1.1\r\nBad Header: x\r\n\r\n",
    b"GET /v1/matches HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n",
    b"G\xc3\xa9T /v1/matches HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/m\xffatches HTTP/1.1\r\nHost: x\r\n\r\n",
], ids=["cl-not-a-number", "cl-negative", "cl-twice", "bad-chunk", "http-9.9", "no-version",
        "double-space", "space-in-header-name", "nul-in-header", "non-ascii-method", "non-ascii-target"])
@pytest.mark.direct  # raw HTTP bytes: through a proxy they would test the proxy's parser
def test_malformed_http_is_4xx_or_closed_never_5xx(base_url, client, raw):
    """Broken HTTP framing: a 4xx answer or a closed connection, never a 5xx or a hang."""
    answer = _raw_get(base_url, raw=raw)
    if answer is not None:
        status, _, body = answer
        assert 400 <= status < 500, (status, body[:300])
    expect_json(client.get("/healthz"), 200)


@pytest.mark.parametrize("raw", [
    b"GET /v1/matches HTTP/1.1\r\nBad Header: x\r\n\r\n",
    b"GET /v1/matches HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
], ids=["space-in-header-name", "cl-not-a-number"])
@pytest.mark.direct  # raw HTTP bytes: through a proxy they would test the proxy's parser
def test_unparsable_http_is_400_bad_request_problem(base_url, client, raw):
    """What cannot be parsed as HTTP gets a problem with its own code, and an
    X-Request-Id like every answer."""
    answer = _raw_get(base_url, raw=raw)
    assert answer is not None, "the server closed without an answer"
    status, headers, body = answer
    assert status == 400, (status, body[:300])
    assert headers.get("content-type", "").startswith("application/problem+json"), headers
    assert headers.get("x-request-id"), headers
    problem = json.loads(body)
    assert (problem["status"], problem["code"], problem["title"]) == (400, "bad_request", "Bad request"), problem
    expect_json(client.get("/healthz"), 200)


# --------------------------------------------------------------------------
# Unknown routes, wrong methods, ids that are not positive integers
# --------------------------------------------------------------------------

ROUTE_METHODS = {
    "/v1/users": {"GET", "POST"},
    "/v1/users/{id}": {"GET"},
    "/v1/users/{id}/deposits": {"POST"},
    "/v1/users/{id}/transactions": {"GET"},
    "/v1/users/{id}/bets": {"GET"},
    "/v1/users/{id}/cart": {"GET", "DELETE"},
    "/v1/users/{id}/cart/items": {"POST"},
    "/v1/users/{id}/cart/items/{id}": {"PATCH", "DELETE"},
    "/v1/users/{id}/cart/checkout": {"POST"},
    "/v1/matches": {"GET", "POST"},
    "/v1/matches/{id}": {"GET", "PATCH"},
    "/v1/matches/{id}/result": {"POST"},
    "/v1/bets": {"GET", "POST"},
    "/v1/bets/summary": {"GET"},
    "/v1/bets/{id}": {"GET"},
    "/healthz": {"GET"},
    "/readyz": {"GET"},
}
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "PROPFIND", "BREW", "TRACE"]


@pytest.mark.parametrize("pattern", sorted(ROUTE_METHODS))
@pytest.mark.direct  # unknown methods (BREW): a proxy's HTTP parser refuses them itself
def test_wrong_methods_are_405_with_allow(client, world, unchanged, pattern):
    failures = []
    path = pattern.replace("{id}", str(world.owner["id"]), 1).replace("{id}", str(world.item["item_id"]))
    allowed = ROUTE_METHODS[pattern]
    with unchanged():
        for method in METHODS:
            if method in allowed:
                continue
            for token in (None, world.admin, world.owner["token"]):
                resp = client.request(method, path, token=token)
                check(failures, resp, 405, "method_not_allowed")
                if resp.status_code == 405:
                    allow = {m.strip() for m in resp.headers.get("Allow", "").split(",") if m.strip()}
                    if allow != allowed:
                        failures.append(f"{method} {path}: Allow {allow} != {allowed}")
        report(failures, f"wrong methods on {pattern}")


BAD_IDS = ["0", "-1", "abc", "1.5", "1e3", "+1", "0x1", "%201", "1%00", "%D9%A1", "1%2F2", "00", "-0", "%20", "1;1", "1,2"]


@pytest.mark.parametrize("pattern", sorted(p for p in ROUTE_METHODS if "{id}" in p))
def test_ids_that_are_not_positive_integers_match_no_route(client, world, pattern):
    failures = []
    method = sorted(ROUTE_METHODS[pattern])[0]
    slots = pattern.count("{id}")
    for bad in BAD_IDS:
        for slot in range(slots):
            ids = [str(world.owner["id"])] * slots
            ids[slot] = bad
            path = pattern
            for value in ids:
                path = path.replace("{id}", value, 1)
            resp = client.raw_request(method, path, headers={"Authorization": f"Bearer {world.admin}"})
            check(failures, resp, 404, "not_found")
    report(failures, f"non-id path segments on {pattern}")


@pytest.mark.parametrize("pattern", sorted(ROUTE_METHODS))
def test_near_miss_paths_are_404(client, world, pattern):
    failures = []
    path = pattern.replace("{id}", str(world.owner["id"]))
    method = sorted(ROUTE_METHODS[pattern])[0]
    for variant in (path + "/", path + "/x", "/" + path, path.upper(), path + "%2F", path + ".json",
                    path.replace("/v1/", "/v1//")):
        if variant == path:
            continue
        resp = client.raw_request(method, variant, headers={"Authorization": f"Bearer {world.admin}"})
        check(failures, resp, 404, "not_found")
    report(failures, f"near-miss paths of {pattern}")


def test_a_price_with_thousands_of_trailing_zeros_is_taken_at_its_value(api, admin_token, new_match, db):
    """2.2 followed by 16,400 zeros is the price 2.20. Kept in the audit as
    sent, its digits passed PostgreSQL's numeric display scale (16,383) and
    the change failed with a 500; the audit keeps the change as parsed."""
    match = new_match()
    assert match["odds"]["1"] != 2.2
    body = '{"odds":{"1":2.2' + "0" * 16_400 + '}}'
    changed = expect_json(api.patch(f"/v1/matches/{match['id']}", body=body, token=admin_token), 200)
    assert changed["odds"]["1"] == 2.2
    audit_table = find_table(db, {"actor", "action", "target", "request_id", "details"}, "audit")
    (details,) = db.query(f"SELECT details FROM {audit_table} WHERE action = 'match.update' "
                          f"AND target = %s", (f"match:{match['id']}",))[0]
    assert float(details["odds"]["1"]) == 2.2


def test_server_healthy_and_ledger_intact_after_bad_input(client, bets_db):
    expect_json(client.get("/healthz"), 200)
    bets_db.expect_invariant("after the bad-input tests:")

"""The audit (API.md Part 2, "Accounts and access"; the actions, targets and
details of the issue 22 design).

- Every operator write appends exactly one entry: actor ("owner" for the
  admin token, "operator:<id>"), action, target, the request's X-Request-Id
  (sent, or made by the server and echoed), details.
- A write that fails (403, 404, 409, 422) or changes nothing appends nothing.
- GET /v1/audit: owner and admin operators only; paged, newest first,
  filters actor and action.
- Entries cannot be changed or deleted by SQL as the server's database role
  (the test database URL's role): UPDATE, DELETE and TRUNCATE fail.

Entries are found by their request id (each request here sends a unique one),
so other traffic on the server cannot disturb the counts.
"""

import os
from decimal import Decimal

import psycopg2
import pytest

from account_support import (
    AUDIT_ACTIONS,
    AUDIT_ITEM_KEYS,
    expect_forbidden,
    expect_unauthorized,
    find_table,
    new_password,
    parse_time,
    request_id,
)
from api_support import (
    describe,
    expect_json,
    expect_page,
    expect_problem,
    expect_timestamp,
    future_date,
    is_positive_int,
    unique_email,
    unique_team,
)

MISSING_ID = 2_000_000_000
AUDIT_COLUMNS = {"actor", "action", "target", "request_id", "details"}


@pytest.fixture(scope="module")
def audit_table(db):
    return find_table(db, AUDIT_COLUMNS, "audit")


def rows_for(db, audit_table, rid):
    return db.query(f"SELECT actor, action, target, details FROM {audit_table} WHERE request_id = %s", (rid,))


def numbers_as_decimals(value):
    """JSON values with every number as a Decimal, so 2.5 == 2.50 == Decimal('2.5')."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: numbers_as_decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [numbers_as_decimals(v) for v in value]
    raise TypeError(value)


class Actor:
    """Who writes: the owner (admin token) or an operator (signed in)."""

    def __init__(self, name, token):
        self.name, self.token = name, token

    def __repr__(self):
        return self.name


@pytest.fixture(params=["owner", "admin", "trader"])
def writer(request, admin_token, new_operator):
    """The owner, an admin operator and a trader: each may write matches."""
    if request.param == "owner":
        return Actor("owner", admin_token)
    op = new_operator(request.param)
    return Actor(op.actor, op.token)


def write(api, method, path, token, rid, **kw):
    resp = api.request(method, path, token=token, headers={"X-Request-Id": rid}, **kw)
    assert resp.headers.get("X-Request-Id") == rid, describe(resp)
    return resp


def expect_entry(api, db, audit_table, admin_token, rid, *, actor, action, target, details=None):
    """Exactly one entry for the request, as SQL and as GET /v1/audit show it; returns the item."""
    rows = rows_for(db, audit_table, rid)
    assert len(rows) == 1, f"{len(rows)} audit rows for request {rid}: {rows}"
    page = expect_json(api.get("/v1/audit", params={"actor": actor, "action": action, "limit": 100},
                               token=admin_token), 200)
    items = [item for item in page["items"] if item["request_id"] == rid]
    assert len(items) == 1, f"request {rid} in GET /v1/audit: {items} (first page: {page['items'][:3]})"
    item = items[0]
    assert set(item) == AUDIT_ITEM_KEYS, item
    assert is_positive_int(item["id"]), item
    expect_timestamp(item["at"])
    assert item["actor"] == actor, item
    assert item["action"] == action, item
    assert item["target"] == target, item
    assert isinstance(item["details"], dict), item
    if details is not None:
        assert numbers_as_decimals(item["details"]) == numbers_as_decimals(details), item
    return item


def expect_no_entry(db, audit_table, rid):
    rows = rows_for(db, audit_table, rid)
    assert rows == [], f"request {rid} appended {rows}"


def match_body():
    return {"team_1": unique_team("Home"), "team_2": unique_team("Away"), "date": future_date(),
            "odds": {"1": 2.1, "X": 3.25, "2": 3.6}}


def create_match(api, token, rid=None):
    return expect_json(write(api, "POST", "/v1/matches", token, rid or request_id(), json=match_body()), 201)


# ==========================================================================
# One entry per write
# ==========================================================================

def test_match_create(api, db, audit_table, admin_token, writer):
    rid = request_id()
    body = match_body()
    match = expect_json(write(api, "POST", "/v1/matches", writer.token, rid, json=body), 201)
    item = expect_entry(api, db, audit_table, admin_token, rid, actor=writer.name, action="match.create",
                        target=f"match:{match['id']}")
    details = numbers_as_decimals(item["details"])
    for field in ("team_1", "team_2", "date", "odds"):
        assert details.get(field) == numbers_as_decimals(body[field]), item


@pytest.mark.parametrize("change", [
    {"odds": {"1": 2.5}},
    {"odds": {"X": None, "2": 4.0}},
    {"max_stake": 5000},
], ids=["odds", "withdraw", "limit"])
def test_match_update_records_the_change_as_sent(api, db, audit_table, admin_token, writer, change):
    match = create_match(api, admin_token)
    rid = request_id()
    expect_json(write(api, "PATCH", f"/v1/matches/{match['id']}", writer.token, rid, json=change), 200)
    expect_entry(api, db, audit_table, admin_token, rid, actor=writer.name, action="match.update",
                 target=f"match:{match['id']}", details=change)


def test_match_suspend_and_resume(api, db, audit_table, admin_token, writer):
    match = create_match(api, admin_token)
    for action in ("suspend", "resume"):
        rid = request_id()
        expect_json(write(api, "POST", f"/v1/matches/{match['id']}/{action}", writer.token, rid), 200)
        expect_entry(api, db, audit_table, admin_token, rid, actor=writer.name, action=f"match.{action}",
                     target=f"match:{match['id']}", details={})


@pytest.mark.parametrize("result", ["1", "X", "2", "void"])
def test_match_settle(api, db, audit_table, admin_token, writer, result):
    match = create_match(api, admin_token)
    rid = request_id()
    expect_json(write(api, "POST", f"/v1/matches/{match['id']}/result", writer.token, rid,
                      json={"result": result}), 200)
    expect_entry(api, db, audit_table, admin_token, rid, actor=writer.name, action="match.settle",
                 target=f"match:{match['id']}", details={"result": result})


@pytest.mark.parametrize("who", ["owner", "admin"])
@pytest.mark.parametrize("balance", [None, 5000], ids=["no-balance", "balance"])
def test_user_create_by_the_owner_or_an_admin_operator(api, db, audit_table, admin_token, new_operator, who,
                                                       balance):
    if who == "owner":
        actor, token = "owner", admin_token
    else:
        op = new_operator("admin")
        actor, token = op.actor, op.token
    rid = request_id()
    email = unique_email("audited")
    body = {"email": email, "name": "Audited"}
    if balance is not None:
        body["balance"] = balance
    user = expect_json(write(api, "POST", "/v1/users", token, rid, json=body), 201)
    expect_entry(api, db, audit_table, admin_token, rid, actor=actor, action="user.create",
                 target=f"user:{user['id']}", details={"email": email, "balance": balance or 0})


@pytest.mark.parametrize("who", ["anonymous", "user", "trader", "support"])
def test_a_sign_up_by_anyone_else_is_not_audited(api, db, audit_table, new_operator, new_user, who):
    token = {"anonymous": lambda: None, "user": lambda: new_user().token,
             "trader": lambda: new_operator("trader").token, "support": lambda: new_operator("support").token}[who]()
    rid = request_id()
    expect_json(write(api, "POST", "/v1/users", token, rid, json={"email": unique_email(), "name": "Plain"}), 201)
    expect_no_entry(db, audit_table, rid)


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_user_deposit(api, db, audit_table, admin_token, new_operator, new_user, who):
    if who == "owner":
        actor, token = "owner", admin_token
    else:
        op = new_operator("admin")
        actor, token = op.actor, op.token
    user = new_user()
    rid = request_id()
    expect_json(write(api, "POST", f"/v1/users/{user.id}/deposits", token, rid, json={"amount": 2500}), 201)
    expect_entry(api, db, audit_table, admin_token, rid, actor=actor, action="user.deposit",
                 target=f"user:{user.id}", details={"amount": 2500})


@pytest.mark.parametrize("who", ["owner", "admin"])
@pytest.mark.parametrize("role", ["admin", "trader", "support"])
def test_operator_create(api, db, audit_table, admin_token, new_operator, who, role):
    if who == "owner":
        actor, token = "owner", admin_token
    else:
        op = new_operator("admin")
        actor, token = op.actor, op.token
    rid = request_id()
    email = unique_email("audited-op")
    body = {"email": email, "password": new_password(), "role": role}
    created = expect_json(write(api, "POST", "/v1/operators", token, rid, json=body), 201)
    item = expect_entry(api, db, audit_table, admin_token, rid, actor=actor, action="operator.create",
                        target=f"operator:{created['id']}", details={"email": email, "role": role})
    assert body["password"] not in str(item)


def test_without_x_request_id_the_entry_has_the_servers_own(api, db, audit_table, admin_token):
    resp = api.post("/v1/matches", json=match_body(), token=admin_token)
    match = expect_json(resp, 201)
    rid = resp.headers.get("X-Request-Id")
    assert rid, describe(resp)
    expect_entry(api, db, audit_table, admin_token, rid, actor="owner", action="match.create",
                 target=f"match:{match['id']}")


# ==========================================================================
# Nothing for failed writes, nothing for writes that change nothing
# ==========================================================================

def test_failed_writes_append_nothing(api, db, audit_table, admin_token, new_operator, new_user):
    trader = new_operator("trader")
    support = new_operator("support")
    user = new_user()
    match = create_match(api, admin_token)
    settled = create_match(api, admin_token)
    expect_json(api.post(f"/v1/matches/{settled['id']}/result", json={"result": "1"}, token=admin_token), 200)
    taken = unique_email("taken")
    expect_json(api.post("/v1/users", json={"email": taken, "name": "Taken"}), 201)
    duplicate = {k: match[k] for k in ("team_1", "team_2", "date")}
    duplicate["odds"] = {"1": 2.0}
    attempts = [
        # 404: the target is missing (the deposit and the settlement roll back)
        ("POST", f"/v1/users/{MISSING_ID}/deposits", admin_token, {"amount": 100}, 404),
        ("POST", f"/v1/matches/{MISSING_ID}/result", admin_token, {"result": "1"}, 404),
        ("PATCH", f"/v1/matches/{MISSING_ID}", admin_token, {"odds": {"1": 2.0}}, 404),
        ("POST", f"/v1/matches/{MISSING_ID}/suspend", admin_token, None, 404),
        # 409
        ("POST", "/v1/matches", admin_token, duplicate, 409),
        ("POST", f"/v1/matches/{settled['id']}/result", admin_token, {"result": "2"}, 409),
        ("POST", f"/v1/matches/{settled['id']}/suspend", admin_token, None, 409),
        ("POST", "/v1/users", admin_token, {"email": taken, "name": "Again", "balance": 10}, 409),
        ("POST", "/v1/operators", admin_token, {"email": taken, "password": new_password(), "role": "admin"},
         409),
        # 422
        ("POST", "/v1/matches", admin_token, {"team_1": "A", "team_2": "A", "date": future_date(),
                                              "odds": {"1": 2.0}}, 422),
        ("PATCH", f"/v1/matches/{match['id']}", admin_token, {"odds": {"1": 0.5}}, 422),
        ("PATCH", f"/v1/matches/{settled['id']}", admin_token, {"odds": {"1": 2.0}}, (409, 422)),
        ("POST", f"/v1/users/{user.id}/deposits", admin_token, {"amount": 0}, 422),
        ("POST", "/v1/operators", admin_token, {"email": unique_email(), "password": "short", "role": "admin"},
         422),
        # 403: not allowed
        ("POST", f"/v1/users/{user.id}/deposits", trader.token, {"amount": 100}, 403),
        ("POST", "/v1/matches", support.token, match_body(), 403),
        ("POST", "/v1/operators", trader.token, {"email": unique_email(), "password": new_password(),
                                                 "role": "admin"}, 403),
        ("POST", "/v1/users", trader.token, {"email": unique_email(), "name": "Rich", "balance": 10}, 403),
    ]
    for method, path, token, body, status in attempts:
        rid = request_id()
        kw = {"json": body} if body is not None else {}
        resp = write(api, method, path, token, rid, **kw)
        assert resp.status_code in (status if isinstance(status, tuple) else (status,)), describe(resp)
        expect_no_entry(db, audit_table, rid)


def test_writes_that_change_nothing_append_nothing(api, db, audit_table, admin_token):
    match = create_match(api, admin_token)
    mid = match["id"]
    repeats = [
        ("POST", f"/v1/matches/{mid}/resume", None),            # already open
        ("PATCH", f"/v1/matches/{mid}", {"odds": {"1": 2.1}}),  # the same odds again
        ("POST", f"/v1/matches/{mid}/suspend", None),           # this one changes: audited
        ("POST", f"/v1/matches/{mid}/suspend", None),           # already suspended
        ("POST", f"/v1/matches/{mid}/result", {"result": "X"}),  # settles: audited
        ("POST", f"/v1/matches/{mid}/result", {"result": "X"}),  # the same result again
    ]
    counts = []
    for method, path, body in repeats:
        rid = request_id()
        kw = {"json": body} if body is not None else {}
        expect_json(write(api, method, path, admin_token, rid, **kw), 200)
        counts.append(len(rows_for(db, audit_table, rid)))
    assert counts == [0, 0, 1, 0, 1, 0], counts


# ==========================================================================
# GET /v1/audit
# ==========================================================================

def test_listing_filters_pages_and_is_newest_first(api, admin_token, new_operator, new_user):
    op = new_operator("admin")
    user = new_user()
    done = []
    first = create_match(api, op.token)
    done.append(("match.create", f"match:{first['id']}"))
    second = create_match(api, op.token)
    done.append(("match.create", f"match:{second['id']}"))
    expect_json(api.post(f"/v1/matches/{first['id']}/suspend", token=op.token), 200)
    done.append(("match.suspend", f"match:{first['id']}"))
    expect_json(api.post(f"/v1/users/{user.id}/deposits", json={"amount": 10}, token=op.token), 201)
    done.append(("user.deposit", f"user:{user.id}"))
    expect_json(api.post(f"/v1/matches/{first['id']}/resume", token=op.token), 200)
    done.append(("match.resume", f"match:{first['id']}"))

    page = expect_json(api.get("/v1/audit", params={"actor": op.actor}, token=admin_token), 200)
    expect_page(page, total=len(done), limit=20, offset=0)
    assert [(i["action"], i["target"]) for i in page["items"]] == list(reversed(done)), page
    ids = [i["id"] for i in page["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids), ids
    assert all(i["actor"] == op.actor for i in page["items"])
    ats = [parse_time(i["at"]) for i in page["items"]]
    assert ats == sorted(ats, reverse=True), ats

    # Pages of 2 put together are the whole list.
    paged = []
    for offset in (0, 2, 4):
        part = expect_json(api.get("/v1/audit", params={"actor": op.actor, "limit": 2, "offset": offset},
                                   token=admin_token), 200)
        expect_page(part, total=len(done), limit=2, offset=offset)
        paged.extend(part["items"])
    assert paged == page["items"]
    beyond = expect_json(api.get("/v1/audit", params={"actor": op.actor, "offset": 5}, token=admin_token), 200)
    expect_page(beyond, total=len(done), limit=20, offset=5)
    assert beyond["items"] == []

    # actor and action together.
    creates = expect_json(api.get("/v1/audit", params={"actor": op.actor, "action": "match.create"},
                                  token=admin_token), 200)
    expect_page(creates, total=2, limit=20, offset=0)
    assert [i["target"] for i in creates["items"]] == [f"match:{second['id']}", f"match:{first['id']}"]
    # The admin operator reads the audit too.
    mine = expect_json(api.get("/v1/audit", params={"actor": op.actor}, token=op.token), 200)
    assert mine["items"] == page["items"]


@pytest.mark.parametrize("action", AUDIT_ACTIONS)
def test_the_action_filter_keeps_only_that_action(api, admin_token, action):
    page = expect_json(api.get("/v1/audit", params={"action": action, "limit": 100}, token=admin_token), 200)
    assert all(i["action"] == action for i in page["items"]), page["items"][:5]


def test_the_owner_filter(api, admin_token):
    create_match(api, admin_token)
    page = expect_json(api.get("/v1/audit", params={"actor": "owner", "limit": 100}, token=admin_token), 200)
    assert page["items"] and all(i["actor"] == "owner" for i in page["items"]), page["items"][:5]
    assert page["total"] >= len(page["items"])


def test_an_operator_without_entries_has_an_empty_page(api, admin_token, new_operator):
    op = new_operator("support")
    page = expect_json(api.get("/v1/audit", params={"actor": op.actor}, token=admin_token), 200)
    expect_page(page, total=0, limit=20, offset=0)
    page = expect_json(api.get("/v1/audit", params={"actor": f"operator:{MISSING_ID}"}, token=admin_token), 200)
    expect_page(page, total=0, limit=20, offset=0)


def test_the_default_page(api, admin_token):
    create_match(api, admin_token)
    page = expect_json(api.get("/v1/audit", token=admin_token), 200)
    assert page["limit"] == 20 and page["offset"] == 0 and 1 <= len(page["items"]) <= 20, page
    ids = [i["id"] for i in page["items"]]
    assert ids == sorted(ids, reverse=True), ids
    for item in page["items"]:
        assert set(item) == AUDIT_ITEM_KEYS and item["action"] in AUDIT_ACTIONS, item


@pytest.mark.parametrize("query", [
    "limit=0", "limit=101", "limit=abc", "offset=-1", "action=match.delete", "action=", "actor=nobody",
    "actor=operator:abc", "actor=operator:", "actor=Owner", "colour=blue", "limit=5&limit=6",
])
def test_bad_parameters_are_400(api, admin_token, query):
    expect_problem(api.get(f"/v1/audit?{query}", token=admin_token), 400, "invalid_parameter")


def test_only_the_owner_and_admin_operators_read_the_audit(api, admin_token, new_operator, new_user):
    expect_unauthorized(api.get("/v1/audit"))
    expect_unauthorized(api.get("/v1/audit", token="A" * 43))
    expect_forbidden(api.get("/v1/audit", token=new_user().token))
    for role in ("trader", "support"):
        expect_forbidden(api.get("/v1/audit", token=new_operator(role).token))
    expect_json(api.get("/v1/audit", token=new_operator("admin").token), 200)


def test_there_is_no_route_that_changes_the_audit(api, admin_token):
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        resp = api.request(method, "/v1/audit", token=admin_token, json={})
        assert resp.status_code in (404, 405), describe(resp)


# ==========================================================================
# Append-only in the database
# ==========================================================================

@pytest.fixture
def server_role_conn():
    """A connection as the server's database role, in a transaction that is
    always rolled back (should a statement wrongly succeed)."""
    conn = psycopg2.connect(os.environ["BETSDB_TEST_DATABASE_URL"])
    yield conn
    conn.rollback()
    conn.close()


def expect_refused(conn, sql, params=()):
    with pytest.raises(psycopg2.Error) as info:
        with conn.cursor() as cur:
            cur.execute(sql, params)
    conn.rollback()
    code = info.value.pgcode or ""
    # Refused by a trigger (P0001 or a custom code) or by privileges (42501),
    # not because the statement is wrong (42xxx: no such table or column).
    assert not (code.startswith("42") and code != "42501"), f"{code}: {info.value}"
    assert not code.startswith("08"), f"{code}: {info.value}"
    return info.value


def test_audit_rows_cannot_be_updated_deleted_or_truncated(api, db, audit_table, admin_token, server_role_conn):
    rid = request_id()
    create_match(api, admin_token, rid)
    (before,) = rows_for(db, audit_table, rid)
    conn = server_role_conn
    expect_refused(conn, f"UPDATE {audit_table} SET action = 'match.resume' WHERE request_id = %s", (rid,))
    expect_refused(conn, f"UPDATE {audit_table} SET details = '{{}}'::jsonb")
    expect_refused(conn, f"DELETE FROM {audit_table} WHERE request_id = %s", (rid,))
    expect_refused(conn, f"DELETE FROM {audit_table}")
    expect_refused(conn, f"TRUNCATE {audit_table}")
    expect_refused(conn, f"TRUNCATE {audit_table} CASCADE")
    assert rows_for(db, audit_table, rid) == [before]

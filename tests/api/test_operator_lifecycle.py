"""Operators over their lifetime (docs/api.md, "Operators"): an admin lists
them, changes an operator's role and disables or enables it.

- GET /v1/operators (the owner or an admin operator): every operator, newest
  first, paged; disabled_at is null for an enabled one.
- PATCH /v1/operators/{id} {"role"?, "disabled"?} -> 200 the operator. A new
  role or a disable ends every session of the operator at once, on every
  shard (its tokens get 401 on their next use); a disabled operator cannot
  sign in (401 invalid_credentials, as a wrong password); enabling it again
  lets it sign in. Audited as operator.update.
- Bad input is 422 validation_failed (or 400 for a malformed id and query)
  and changes nothing; an unknown id is 404 operator_not_found; a trader,
  a support operator and a user are 403, no token 401.
- A disable that races sign-ins of the operator leaves no session behind.
"""

import concurrent.futures
import uuid

import pytest

from account_support import (
    expect_forbidden,
    expect_session,
    expect_unauthorized,
    new_password,
    request_id,
    sign_in,
    sign_ins_until_refused,
    sign_up,
    OPERATOR_KEYS,
)
from api_support import Api, describe, expect_json, expect_problem, expect_timestamp, expect_validation_failed

MISSING_ID = 9_000_000_000


def patch(api, op_id, body, token, **kw):
    return api.patch(f"/v1/operators/{op_id}", json=body, token=token, **kw)


def expect_operator_answer(resp, op, *, role, disabled):
    body = expect_json(resp, 200)
    assert set(body) == OPERATOR_KEYS, describe(resp)
    assert body["id"] == op.id and body["email"] == op.email, describe(resp)
    assert body["role"] == role, describe(resp)
    if disabled:
        expect_timestamp(body["disabled_at"])
    else:
        assert body["disabled_at"] is None, describe(resp)
    return body


def can_read_the_audit(api, token):
    """A call every admin may make and nobody else: 200, 403 or 401 tell the role apart."""
    return api.get("/v1/audit", params={"limit": 1}, token=token)


def acts_as_trader(api, token):
    """A trader's call on a match that does not exist: 404 for a trader, 401 for an ended session."""
    return api.get(f"/v1/matches/{MISSING_ID}/exposure", token=token)


def expect_trader(api, token):
    expect_problem(acts_as_trader(api, token), 404, "match_not_found")


def stored_role(db, op_id):
    return db.scalar("SELECT role FROM operators WHERE id = %s", (op_id,))


# ==========================================================================
# Listing
# ==========================================================================

def test_an_admin_lists_every_operator_newest_first(api, admin_token, new_operator):
    admin = new_operator("admin")
    made = [new_operator(role) for role in ("trader", "support")]
    seen = {}
    offset = 0
    while True:
        page = expect_json(api.get("/v1/operators", params={"limit": 100, "offset": offset},
                                   token=admin.token), 200)
        for item in page["items"]:
            assert set(item) == OPERATOR_KEYS, item
            seen[item["id"]] = item
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            break
    for op in made + [admin]:
        assert seen[op.id]["email"] == op.email and seen[op.id]["role"] == op.role, seen.get(op.id)
        assert seen[op.id]["disabled_at"] is None
    ids = list(seen)
    assert ids == sorted(ids, reverse=True), "not newest first"
    assert "password" not in str(seen) and "password_hash" not in str(seen)


def test_the_default_page_and_a_small_one(api, admin_token, new_operator):
    new_operator("support")
    new_operator("support")
    default = expect_json(api.get("/v1/operators", token=admin_token), 200)
    assert default["limit"] == 20 and default["offset"] == 0 and default["total"] >= 2, default
    one = expect_json(api.get("/v1/operators", params={"limit": 1, "offset": 1}, token=admin_token), 200)
    assert len(one["items"]) == 1 and one["items"][0] == default["items"][1], (one, default["items"][:2])
    past = expect_json(api.get("/v1/operators", params={"offset": 10**9}, token=admin_token), 200)
    assert past["items"] == [] and past["total"] == default["total"], past


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "role=admin", "limit=abc"])
def test_a_bad_listing_query_is_400(api, admin_token, query):
    expect_problem(api.get(f"/v1/operators?{query}", token=admin_token), 400, "invalid_parameter")


# ==========================================================================
# Who may
# ==========================================================================

@pytest.mark.parametrize("role", ["trader", "support"])
def test_only_admins_list_or_change_operators(api, admin_token, new_operator, role):
    caller = new_operator(role)
    target = new_operator("support")
    expect_forbidden(api.get("/v1/operators", token=caller.token))
    expect_forbidden(patch(api, target.id, {"disabled": True}, caller.token))
    expect_session(sign_in(api, target.email, target.password), role="support", operator_id=target.id)


def test_a_user_is_403_and_no_token_401(api, admin_token, new_operator):
    target = new_operator("support")
    bettor = sign_up(api)
    expect_forbidden(api.get("/v1/operators", token=bettor.token))
    expect_forbidden(patch(api, target.id, {"disabled": True}, bettor.token))
    expect_unauthorized(api.get("/v1/operators"))
    expect_unauthorized(patch(api, target.id, {"disabled": True}, None))
    expect_json(can_read_the_audit(api, admin_token), 200)
    expect_forbidden(can_read_the_audit(api, target.token))


# ==========================================================================
# A new role
# ==========================================================================

@pytest.mark.parametrize("by", ["owner", "admin"])
def test_a_new_role_ends_the_sessions_and_the_next_sign_in_has_it(api, admin_token, new_operator, by):
    token = admin_token if by == "owner" else new_operator("admin").token
    op = new_operator("admin")
    second = expect_session(sign_in(api, op.email, op.password), role="admin", operator_id=op.id)["token"]
    expect_json(can_read_the_audit(api, op.token), 200)  # remembered by the server as an admin's

    expect_operator_answer(patch(api, op.id, {"role": "support"}, token), op, role="support", disabled=False)

    # At once, whichever token and however often the server saw it before.
    for old in (op.token, second):
        expect_unauthorized(can_read_the_audit(api, old))
    again = expect_session(sign_in(api, op.email, op.password), role="support", operator_id=op.id)
    expect_forbidden(can_read_the_audit(api, again["token"]))
    expect_json(api.get("/v1/users", params={"limit": 1}, token=again["token"]), 200)


def test_a_role_change_is_audited_with_what_was_before(api, db, admin_token, new_operator):
    op = new_operator("trader")
    rid = request_id()
    resp = patch(api, op.id, {"role": "admin"}, admin_token, headers={"X-Request-Id": rid})
    expect_operator_answer(resp, op, role="admin", disabled=False)
    page = expect_json(api.get("/v1/audit", params={"action": "operator.update", "limit": 100},
                               token=admin_token), 200)
    entries = [i for i in page["items"] if i["request_id"] == rid]
    assert len(entries) == 1, page["items"][:3]
    entry = entries[0]
    assert entry["actor"] == "owner" and entry["target"] == f"operator:{op.id}", entry
    assert entry["details"] == {"role": "admin", "role_before": "trader", "disabled": False,
                                "disabled_before": False}, entry


# ==========================================================================
# Disabling and enabling
# ==========================================================================

def test_a_disabled_operator_loses_its_sessions_and_cannot_sign_in(api, admin_token, new_operator):
    op = new_operator("trader")
    expect_trader(api, op.token)  # a trader's call, remembered by the server

    first = expect_operator_answer(patch(api, op.id, {"disabled": True}, admin_token), op,
                                   role="trader", disabled=True)

    expect_unauthorized(acts_as_trader(api, op.token))
    expect_problem(sign_in(api, op.email, op.password), 401, "invalid_credentials")
    # The same answer as a wrong password: nothing tells a disabled account apart.
    expect_problem(sign_in(api, op.email, new_password()), 401, "invalid_credentials")
    # Disabled again: it keeps the moment of the first disable.
    again = expect_operator_answer(patch(api, op.id, {"disabled": True}, admin_token), op,
                                   role="trader", disabled=True)
    assert again["disabled_at"] == first["disabled_at"], (first, again)
    # Newest first: it is on the first page unless 100 operators came since.
    listed = expect_json(api.get("/v1/operators", params={"limit": 100}, token=admin_token), 200)
    found = [i for i in listed["items"] if i["id"] == op.id]
    assert found and found[0]["disabled_at"] == first["disabled_at"], found

    expect_operator_answer(patch(api, op.id, {"disabled": False}, admin_token), op, role="trader", disabled=False)
    back = expect_session(sign_in(api, op.email, op.password), role="trader", operator_id=op.id)
    expect_trader(api, back["token"])
    # The old token stays ended.
    expect_unauthorized(acts_as_trader(api, op.token))


def test_a_disable_and_a_role_in_one_change(api, admin_token, new_operator):
    op = new_operator("admin")
    expect_operator_answer(patch(api, op.id, {"role": "support", "disabled": True}, admin_token), op,
                           role="support", disabled=True)
    expect_unauthorized(can_read_the_audit(api, op.token))
    expect_problem(sign_in(api, op.email, op.password), 401, "invalid_credentials")


def test_an_admin_may_disable_itself(api, admin_token, new_operator):
    op = new_operator("admin")
    expect_operator_answer(patch(api, op.id, {"disabled": True}, op.token), op, role="admin", disabled=True)
    expect_unauthorized(can_read_the_audit(api, op.token))


def test_a_disable_racing_sign_ins_leaves_no_session_behind(base_url, admin_token, new_operator):
    """Sign-ins of the operator run on many connections while an admin
    disables it: every session they got must be refused afterwards, whether
    its sign-in finished before, during or after the change."""
    op = new_operator("support")
    clients = [Api(base_url, admin_token) for _ in range(8)]
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=9) as pool:
            racing = [pool.submit(sign_ins_until_refused, c, op.email, op.password) for c in clients]
            disabled = pool.submit(patch, Api(base_url, admin_token), op.id, {"disabled": True}, admin_token)
            tokens = [t for f in racing for t in f.result(timeout=120)]
            expect_json(disabled.result(timeout=60), 200)
        tokens.append(op.token)
        still_in = [t for t in tokens if can_read_the_audit(clients[0], t).status_code != 401]
        assert still_in == [], f"{len(still_in)} of {len(tokens)} sessions outlived the disable"
        expect_problem(sign_in(clients[0], op.email, op.password), 401, "invalid_credentials")
        # Ended, not only refused while the operator is disabled: enabled
        # again, none of them comes back.
        expect_json(patch(clients[0], op.id, {"disabled": False}, admin_token), 200)
        back = [t for t in tokens if can_read_the_audit(clients[0], t).status_code != 401]
        assert back == [], f"{len(back)} of {len(tokens)} sessions came back with the enable"
    finally:
        for c in clients:
            c.close()


# ==========================================================================
# Bad input changes nothing
# ==========================================================================

@pytest.mark.parametrize("body, field", [
    ({}, "body"),
    ({"role": "owner"}, "role"),
    ({"role": ""}, "role"),
    ({"role": 3}, "role"),
    ({"disabled": "yes"}, "disabled"),
    ({"disabled": 1}, "disabled"),
    ({"disabled": None}, "disabled"),
    ({"role": "admin", "email": "new@example.com"}, "email"),
    ({"password": "a-new-password"}, "password"),
])
def test_a_bad_change_is_422_and_changes_nothing(api, db, admin_token, new_operator, body, field):
    op = new_operator("trader")
    expect_validation_failed(patch(api, op.id, body, admin_token), field)
    assert stored_role(db, op.id) == "trader"
    expect_trader(api, op.token)


def test_a_body_that_is_not_a_json_object(api, admin_token, new_operator):
    op = new_operator("trader")
    expect_problem(api.patch(f"/v1/operators/{op.id}", body="[1]", token=admin_token), 422)
    expect_problem(api.patch(f"/v1/operators/{op.id}", body="{", token=admin_token), 400, "invalid_json")
    expect_trader(api, op.token)


def test_an_unknown_operator_is_404_and_a_malformed_id_too(api, admin_token):
    expect_problem(patch(api, MISSING_ID, {"disabled": True}, admin_token), 404, "operator_not_found")
    for bad in ("abc", "0x10", "-1", str(uuid.uuid4())):
        resp = patch(api, bad, {"disabled": True}, admin_token)
        assert resp.status_code == 404, describe(resp)


def test_a_query_string_on_a_change_is_400(api, admin_token, new_operator):
    op = new_operator("trader")
    expect_problem(api.patch(f"/v1/operators/{op.id}?force=1", json={"disabled": True}, token=admin_token),
                   400, "invalid_parameter")
    expect_trader(api, op.token)

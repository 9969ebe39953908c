"""Changing a password (docs/api.md, "Passwords").

- PUT /v1/users/{id}/password {"current_password"?, "new_password"} (the
  user themself, never staff) -> 204. current_password is required when the
  account has a password (a user who signed up without one sets a first one
  with the sign-up token alone).
- PUT /v1/operators/{id}/password: the operator themself, with
  current_password, or the owner or an admin operator for another operator,
  without it (a reset). Audited as operator.password.
- Afterwards the old password is refused and the new one signs in; every
  other session of the account ends at once (401 on its next use), a
  user's sign-up token included; the token the change was asked with stays.
- A wrong current_password is 403 wrong_password and changes nothing; ten
  from one token within 15 minutes and that token's next change is 429.
  The email's sign-in lock-out does not stop a change.
- Bad input is 422 (400 for a malformed body) and changes nothing.
- Sign-ins with the old password racing a change leave no session behind.
"""

import concurrent.futures

import pytest

from account_support import (
    SIGN_IN_FAILURES,
    expect_forbidden,
    expect_session,
    expect_unauthorized,
    new_password,
    request_id,
    session_of,
    sign_in,
    sign_ins_until_refused,
    sign_up,
)
from api_support import Api, describe, expect_json, expect_problem, expect_validation_failed

MISSING_ID = 9_000_000_000


def change_user(api, user_id, token, new, current=None, **extra):
    body = {"new_password": new, **extra}
    if current is not None:
        body["current_password"] = current
    return api.put(f"/v1/users/{user_id}/password", json=body, token=token)


def change_operator(api, op_id, token, new, current=None, **kw):
    body = {"new_password": new}
    if current is not None:
        body["current_password"] = current
    return api.put(f"/v1/operators/{op_id}/password", json=body, token=token, **kw)


def expect_changed(resp):
    assert resp.status_code == 204, describe(resp)
    assert resp.content == b"", describe(resp)


def signs_in(api, email, password):
    return sign_in(api, email, password).status_code == 201


def expect_user_token_works(api, account, token):
    expect_json(api.get(f"/v1/users/{account.id}", token=token), 200)


def expect_user_token_ended(api, account, token):
    expect_unauthorized(api.get(f"/v1/users/{account.id}", token=token))


def stored_hash(db, table, account_id):
    return db.scalar(f"SELECT password_hash FROM {table} WHERE id = %s", (account_id,))


# ==========================================================================
# A bettor's own password
# ==========================================================================

def test_a_bettor_changes_their_password_and_their_other_sessions_end(api):
    account = sign_up(api)
    here = session_of(api, account)
    elsewhere = session_of(api, account)
    # Used once before the change, so a shard remembers it as verified.
    expect_user_token_works(api, account, elsewhere)
    new = new_password()
    expect_changed(change_user(api, account.id, here, new, current=account.password))
    assert not signs_in(api, account.email, account.password)
    expect_session(sign_in(api, account.email, new), role="user", user_id=account.id)
    expect_user_token_works(api, account, here)
    expect_user_token_ended(api, account, elsewhere)
    # The sign-up token is another way in: it ends with the other sessions.
    expect_user_token_ended(api, account, account.token)


def test_the_sign_up_token_may_change_the_password_and_then_stays(api):
    account = sign_up(api)
    session = session_of(api, account)
    new = new_password()
    expect_changed(change_user(api, account.id, account.token, new, current=account.password))
    expect_user_token_ended(api, account, session)
    expect_user_token_works(api, account, account.token)
    assert signs_in(api, account.email, new)


def test_a_bettor_without_a_password_sets_a_first_one_with_the_sign_up_token(api, new_user):
    user = new_user()
    first = new_password()
    expect_changed(change_user(api, user.id, user.token, first))
    expect_session(sign_in(api, user.email, first), role="user", user_id=user.id)


def test_a_missing_current_password_is_422_when_the_account_has_one(api, db):
    account = sign_up(api)
    before = stored_hash(db, "users", account.id)
    expect_validation_failed(change_user(api, account.id, account.token, new_password()),
                             "current_password")
    assert stored_hash(db, "users", account.id) == before
    assert signs_in(api, account.email, account.password)


def test_a_wrong_current_password_is_403_and_changes_nothing(api, db):
    account = sign_up(api)
    other = session_of(api, account)
    before = stored_hash(db, "users", account.id)
    new = new_password()
    resp = change_user(api, account.id, account.token, new, current=account.password + "x")
    expect_problem(resp, 403, "wrong_password")
    assert stored_hash(db, "users", account.id) == before
    expect_user_token_works(api, account, other)
    assert not signs_in(api, account.email, new)


def test_a_token_that_sent_ten_wrong_current_passwords_is_refused_for_a_while(api):
    """A stolen token must not guess the password faster than the sign-in
    form; the holder's other sign-ins are not held back by it."""
    account = sign_up(api)
    thief = session_of(api, account)
    for _ in range(SIGN_IN_FAILURES):
        resp = change_user(api, account.id, thief, new_password(), current="wrong-password")
        expect_problem(resp, 403, "wrong_password")
    resp = change_user(api, account.id, thief, new_password(), current=account.password)
    expect_problem(resp, 429, "too_many_requests")
    assert resp.headers.get("Retry-After", "").isdigit(), describe(resp)
    # Nothing changed, and the holder's own token still changes it (which
    # ends the thief's session).
    assert signs_in(api, account.email, account.password)
    new = new_password()
    expect_changed(change_user(api, account.id, account.token, new, current=account.password))
    expect_user_token_ended(api, account, thief)


def test_a_locked_out_email_does_not_stop_its_holder_from_changing_the_password(api):
    """Anyone may fill an email's sign-in lock-out; the holder, signed in,
    can still change the password (and end a thief's sessions)."""
    account = sign_up(api)
    here = session_of(api, account)
    for _ in range(SIGN_IN_FAILURES):
        expect_problem(sign_in(api, account.email, "not-the-password"), 401, "invalid_credentials")
    expect_problem(sign_in(api, account.email, account.password), 429, "too_many_requests")
    expect_changed(change_user(api, account.id, here, new_password(), current=account.password))


def test_a_right_current_password_is_not_counted(api):
    account = sign_up(api)
    password = account.password
    for _ in range(SIGN_IN_FAILURES + 2):
        new = new_password()
        expect_changed(change_user(api, account.id, account.token, new, current=password))
        password = new
    assert signs_in(api, account.email, password)


def test_the_same_password_again_is_accepted_and_still_ends_other_sessions(api):
    account = sign_up(api)
    other = session_of(api, account)
    expect_changed(change_user(api, account.id, account.token, account.password, current=account.password))
    expect_user_token_ended(api, account, other)
    assert signs_in(api, account.email, account.password)


# ==========================================================================
# Who may change a bettor's password
# ==========================================================================

def test_only_the_bettor_may_change_their_password(api, admin_token, db, new_operator):
    account = sign_up(api)
    someone = sign_up(api)
    before = stored_hash(db, "users", account.id)
    body = {"new_password": new_password()}
    expect_forbidden(api.put(f"/v1/users/{account.id}/password", json=body, token=someone.token))
    expect_forbidden(api.put(f"/v1/users/{account.id}/password", json=body, token=admin_token))
    for role in ("admin", "trader", "support"):
        op = new_operator(role)
        expect_forbidden(api.put(f"/v1/users/{account.id}/password", json=body, token=op.token))
    expect_unauthorized(api.put(f"/v1/users/{account.id}/password", json=body))
    assert stored_hash(db, "users", account.id) == before


# ==========================================================================
# Bad input changes nothing
# ==========================================================================

@pytest.mark.parametrize("body, field", [
    ({}, "new_password"),
    ({"new_password": "a" * 7}, "new_password"),
    ({"new_password": "é" * 7}, "new_password"),
    ({"new_password": "p" * 129}, "new_password"),
    ({"new_password": 12345678}, "new_password"),
    ({"new_password": None}, "new_password"),
    ({"new_password": "a-long-new-password", "current_password": 5}, "current_password"),
    ({"new_password": "a-long-new-password", "password": "x"}, "password"),
])
def test_a_bad_change_is_422_naming_the_field(api, db, body, field):
    account = sign_up(api)
    before = stored_hash(db, "users", account.id)
    if "current_password" not in body and "new_password" in body and isinstance(body["new_password"], str):
        body = {**body, "current_password": account.password}
    expect_validation_failed(api.put(f"/v1/users/{account.id}/password", json=body, token=account.token), field)
    assert stored_hash(db, "users", account.id) == before


def test_a_body_that_is_not_a_json_object(api, db):
    account = sign_up(api)
    before = stored_hash(db, "users", account.id)
    path = f"/v1/users/{account.id}/password"
    expect_problem(api.put(path, body="[1]", token=account.token), 422)
    expect_problem(api.put(path, body="{", token=account.token), 400, "invalid_json")
    expect_problem(api.put(path, body='{"new_password": "a-long-new-password"}', token=account.token,
                           content_type="text/plain"), 415)
    expect_problem(api.put(path + "?force=1", json={"new_password": "a-long-new-password",
                                                    "current_password": account.password},
                           token=account.token), 400, "invalid_parameter")
    assert stored_hash(db, "users", account.id) == before


# ==========================================================================
# Operators
# ==========================================================================

def audit_entries(api, admin_token, target, action="operator.password"):
    page = expect_json(api.get("/v1/audit", params={"action": action, "limit": 100}, token=admin_token), 200)
    return [i for i in page["items"] if i["target"] == target]


@pytest.mark.parametrize("role", ["admin", "trader", "support"])
def test_an_operator_changes_their_own_password(api, admin_token, new_operator, role):
    op = new_operator(role)
    other = expect_session(sign_in(api, op.email, op.password), role=role, operator_id=op.id)["token"]
    new = new_password()
    rid = request_id()
    expect_changed(change_operator(api, op.id, op.token, new, current=op.password,
                                   headers={"X-Request-Id": rid}))
    assert not signs_in(api, op.email, op.password)
    assert signs_in(api, op.email, new)
    # Its own session stays; the other ends at once.
    assert api.get("/v1/matches", token=op.token).status_code == 200
    expect_unauthorized(api.get("/v1/matches", token=other))
    (entry,) = audit_entries(api, admin_token, f"operator:{op.id}")
    assert entry["actor"] == op.actor and entry["request_id"] == rid, entry
    assert entry["details"] == {}, entry  # never a password or its hash


def test_an_operators_own_change_needs_the_current_password(api, db, new_operator):
    op = new_operator("trader")
    before = stored_hash(db, "operators", op.id)
    expect_validation_failed(change_operator(api, op.id, op.token, new_password()), "current_password")
    expect_problem(change_operator(api, op.id, op.token, new_password(), current="not-the-password"),
                   403, "wrong_password")
    assert stored_hash(db, "operators", op.id) == before


@pytest.mark.parametrize("by", ["owner", "admin"])
def test_an_admin_resets_another_operators_password_and_all_its_sessions_end(
        api, admin_token, new_operator, by):
    op = new_operator("trader")
    admin = new_operator("admin") if by == "admin" else None
    token = admin.token if admin else admin_token
    new = new_password()
    expect_changed(change_operator(api, op.id, token, new))
    expect_unauthorized(api.get("/v1/matches", token=op.token))
    assert not signs_in(api, op.email, op.password)
    assert signs_in(api, op.email, new)
    (entry,) = audit_entries(api, admin_token, f"operator:{op.id}")
    assert entry["actor"] == (admin.actor if admin else "owner"), entry


def test_a_reset_takes_no_current_password(api, admin_token, db, new_operator):
    op = new_operator("support")
    before = stored_hash(db, "operators", op.id)
    expect_validation_failed(change_operator(api, op.id, admin_token, new_password(), current=op.password),
                             "current_password")
    assert stored_hash(db, "operators", op.id) == before
    assert api.get("/v1/matches", token=op.token).status_code == 200


def test_a_disabled_operators_password_may_be_reset_before_it_is_enabled(api, admin_token, new_operator):
    op = new_operator("trader")
    expect_json(api.patch(f"/v1/operators/{op.id}", json={"disabled": True}, token=admin_token), 200)
    new = new_password()
    expect_changed(change_operator(api, op.id, admin_token, new))
    expect_json(api.patch(f"/v1/operators/{op.id}", json={"disabled": False}, token=admin_token), 200)
    assert not signs_in(api, op.email, op.password)
    assert signs_in(api, op.email, new)


def test_traders_support_and_users_cannot_reset_another_operators_password(api, db, new_operator):
    op = new_operator("admin")
    before = stored_hash(db, "operators", op.id)
    body = {"new_password": new_password()}
    for role in ("trader", "support"):
        other = new_operator(role)
        expect_forbidden(api.put(f"/v1/operators/{op.id}/password", json=body, token=other.token))
    expect_forbidden(api.put(f"/v1/operators/{op.id}/password", json=body, token=sign_up(api).token))
    expect_unauthorized(api.put(f"/v1/operators/{op.id}/password", json=body))
    assert stored_hash(db, "operators", op.id) == before


def test_an_unknown_operator_is_404(api, admin_token):
    expect_problem(change_operator(api, MISSING_ID, admin_token, new_password()), 404, "operator_not_found")


# ==========================================================================
# Races
# ==========================================================================

def test_sign_ins_with_the_old_password_racing_a_change_leave_no_session_behind(base_url, admin_token):
    """Sign-ins with the old password run on many connections while the
    bettor changes it: every session they got must be refused afterwards,
    whether its sign-in finished before, during or after the change."""
    setup = Api(base_url, admin_token)
    account = sign_up(setup)
    clients = [Api(base_url, admin_token) for _ in range(8)]
    try:
        new = new_password()
        with concurrent.futures.ThreadPoolExecutor(max_workers=9) as pool:
            racing = [pool.submit(sign_ins_until_refused, c, account.email, account.password) for c in clients]
            changed = pool.submit(change_user, Api(base_url, admin_token), account.id, account.token, new,
                                  account.password)
            tokens = [t for f in racing for t in f.result(timeout=120)]
            expect_changed(changed.result(timeout=60))
        still_in = [t for t in tokens
                    if setup.get(f"/v1/users/{account.id}", token=t).status_code != 401]
        assert still_in == [], f"{len(still_in)} of {len(tokens)} sessions outlived the change"
        expect_user_token_works(setup, account, account.token)
    finally:
        for c in clients:
            c.close()
        setup.close()

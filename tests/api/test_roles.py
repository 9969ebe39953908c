"""Operators and their roles (API.md Part 2, "Accounts and access"; the role
table of the issue 22 design).

- POST /v1/operators (the owner, i.e. the admin token, or an admin operator):
  201 {"id", "email", "role", "created_at"}; e-mails unique across users and
  operators (409 email_taken both ways); 422 for a bad role or password;
  trader, support and users 403, anonymous 401.
- Every route of the role table, called with the token of each role (owner,
  admin, trader, support, user): an allowed call succeeds (its success status
  is checked), a forbidden one is 403 forbidden and changes nothing.
"""

import uuid

import pytest

from account_support import (
    ROLES,
    create_operator,
    expect_forbidden,
    expect_operator,
    expect_session,
    expect_unauthorized,
    find_table,
    new_password,
    session_of,
    sign_in,
    sign_up,
)
from api_support import (
    Api,
    describe,
    expect_json,
    expect_problem,
    expect_validation_failed,
    future_date,
    unique_email,
    unique_team,
)

CALLERS = ("owner", "admin", "trader", "support", "user")


# ==========================================================================
# The cast: one of each role, a bettor with a bet, another user, a match
# ==========================================================================

class Cast:
    def token(self, who):
        return self.tokens[who]


@pytest.fixture(scope="module")
def cast(base_url, admin_token, _server_is_up):
    api = Api(base_url, admin_token)
    c = Cast()
    c.api = api
    c.owner = admin_token
    c.operators = {role: create_operator(api, admin_token, role) for role in ROLES}
    c.bettor = sign_up(api, admin_token=admin_token, balance=1_000_000)
    c.other = sign_up(api)
    c.match = new_match(api, admin_token)
    c.bet = place(api, c.bettor, c.match)
    c.tokens = {"owner": admin_token, "user": c.bettor.token}
    c.tokens.update({role: op.token for role, op in c.operators.items()})
    yield c
    api.close()


def match_body():
    return {"team_1": unique_team("Home"), "team_2": unique_team("Away"), "date": future_date(),
            "odds": {"1": 2.0, "X": 3.0, "2": 4.0}}


def new_match(api, admin_token):
    return expect_json(api.post("/v1/matches", json=match_body(), token=admin_token), 201)


def bet_body(user, match, selection="1", stake=100):
    return {"user_id": user.id, "match_id": match["id"], "selection": selection, "stake": stake}


def place(api, user, match, selection="1"):
    return expect_json(api.post("/v1/bets", json=bet_body(user, match, selection), token=user.token), 201)


def operators_with_email(db, email):
    table = find_table(db, {"email", "role", "password_hash"}, "operators")
    return db.scalar(f"SELECT count(*) FROM {table} WHERE lower(email) = lower(%s)", (email,))


# ==========================================================================
# The role table
# ==========================================================================

class Route:
    """call(cast, who) -> response; `allowed` callers get `status` (then
    check(cast, response), if any); the others 403 forbidden, after which
    unchanged(cast, state) must hold, state being prepare(cast) taken
    before the call."""

    def __init__(self, name, allowed, status, call, check=None, prepare=None, unchanged=None):
        self.name, self.allowed, self.status, self.call = name, frozenset(allowed), status, call
        self.check, self.prepare, self.unchanged = check, prepare, unchanged

    def __repr__(self):
        return self.name


MATCH_WRITERS = {"owner", "admin", "trader"}
USER_READERS = {"owner", "admin", "support", "user"}
OWNER_AND_ADMIN = {"owner", "admin"}
BETTOR = {"user"}


def _fresh_match(c):
    return new_match(c.api, c.owner)


def _create_match(c, who):
    c.last_body = match_body()
    return c.api.post("/v1/matches", json=c.last_body, token=c.token(who))


def _no_match_created(c, _state):
    return c.db.matches_with_team(c.last_body["team_1"]) == 0


def _patch(c, who):
    c.target = _fresh_match(c)
    return c.api.patch(f"/v1/matches/{c.target['id']}", json={"odds": {"1": 2.5}}, token=c.token(who))


def _odds_unchanged(c, _state):
    match = expect_json(c.api.get(f"/v1/matches/{c.target['id']}"), 200)
    return match["odds_version"] == c.target["odds_version"] and match["odds"] == c.target["odds"]


def _suspend(c, who):
    c.target = _fresh_match(c)
    return c.api.post(f"/v1/matches/{c.target['id']}/suspend", token=c.token(who))


def _resume(c, who):
    c.target = _fresh_match(c)
    expect_json(c.api.post(f"/v1/matches/{c.target['id']}/suspend", token=c.owner), 200)
    c.target = expect_json(c.api.get(f"/v1/matches/{c.target['id']}"), 200)
    return c.api.post(f"/v1/matches/{c.target['id']}/resume", token=c.token(who))


def _settle(c, who):
    c.target = _fresh_match(c)
    return c.api.post(f"/v1/matches/{c.target['id']}/result", json={"result": "X"}, token=c.token(who))


def _match_status_unchanged(c, _state):
    match = expect_json(c.api.get(f"/v1/matches/{c.target['id']}"), 200)
    return match["status"] == c.target["status"] and match["odds_version"] == c.target["odds_version"]


def _status_is(status):
    def check(c, resp):
        body = resp.json()
        body = body.get("match", body)
        assert body["status"] == status, describe(resp)
    return check


def _balance(c):
    return c.db.balance(c.bettor.id)


def _sign_up_with_balance(c, who):
    c.last_email = unique_email("role-balance")
    return c.api.post("/v1/users", json={"email": c.last_email, "name": "Rich", "balance": 100},
                      token=c.token(who))


def _create_operator(c, who):
    c.last_email = unique_email("role-op")
    return c.api.post("/v1/operators", json={"email": c.last_email, "password": new_password(),
                                             "role": "support"}, token=c.token(who))


def _disable_operator(c, who):
    # A fresh operator each call: the cast's own must keep their sessions.
    c.target = create_operator(c.api, c.owner, "support")
    return c.api.patch(f"/v1/operators/{c.target.id}", json={"disabled": True}, token=c.token(who))


def _reset_operator_password(c, who):
    # Another operator's (a fresh one each call): only the owner and admins.
    c.target = create_operator(c.api, c.owner, "support")
    c.target_hash = c.db.scalar("SELECT password_hash FROM operators WHERE id = %s", (c.target.id,))
    return c.api.put(f"/v1/operators/{c.target.id}/password", json={"new_password": new_password()},
                     token=c.token(who))


def _target_password_unchanged(c, _state):
    return c.db.scalar("SELECT password_hash FROM operators WHERE id = %s", (c.target.id,)) == c.target_hash


def _target_enabled(c, _state):
    return c.db.scalar("SELECT disabled_at IS NULL FROM operators WHERE id = %s", (c.target.id,))


def _place_bet(c, who):
    c.target = _fresh_match(c)
    return c.api.post("/v1/bets", json=bet_body(c.bettor, c.target), token=c.token(who))


def _bets_on_target(c):
    page = expect_json(c.api.get(f"/v1/users/{c.bettor.id}/bets", params={"match_id": c.target["id"]},
                                 token=c.owner), 200)
    return page["total"]


def _cart_item(c):
    match = _fresh_match(c)
    return c.api.post(f"/v1/users/{c.bettor.id}/cart/items",
                      json={"match_id": match["id"], "selection": "2", "stake": 100}, token=c.bettor.token)


def _add_cart_item(c, who):
    c.target = _fresh_match(c)
    return c.api.post(f"/v1/users/{c.bettor.id}/cart/items",
                      json={"match_id": c.target["id"], "selection": "2", "stake": 100}, token=c.token(who))


def _cart_size(c):
    cart = expect_json(c.api.get(f"/v1/users/{c.bettor.id}/cart", token=c.bettor.token), 200)
    return len(cart["items"])


def _checkout(c, who):
    expect_json(_cart_item(c), 201)
    return c.api.post(f"/v1/users/{c.bettor.id}/cart/checkout", token=c.token(who))


def _clear_cart(c, who):
    expect_json(_cart_item(c), 201)
    return c.api.delete(f"/v1/users/{c.bettor.id}/cart", token=c.token(who))


def _fresh_bet(c):
    return place(c.api, c.bettor, _fresh_match(c))


def _quote(c, who):
    c.target = _fresh_bet(c)
    return c.api.post(f"/v1/bets/{c.target['id']}/cash-out/quote", token=c.token(who))


def _cash_out(c, who):
    c.target = _fresh_bet(c)
    quote = expect_json(c.api.post(f"/v1/bets/{c.target['id']}/cash-out/quote", token=c.bettor.token), 201)
    return c.api.post(f"/v1/bets/{c.target['id']}/cash-out", json={"quote_id": quote["quote_id"]},
                      token=c.token(who))


def _bet_pending(c, _state):
    bet = expect_json(c.api.get(f"/v1/bets/{c.target['id']}", token=c.owner), 200)
    return bet["status"] == "pending"


def _sign_out(c, who):
    """A fresh session of the caller, so that the cast's tokens survive."""
    if who == "owner":
        token = c.owner
    elif who == "user":
        token = session_of(c.api, c.bettor)
    else:
        op = c.operators[who]
        token = expect_session(sign_in(c.api, op.email, op.password), role=who, operator_id=op.id)["token"]
    c.signed_out = token
    return c.api.delete("/v1/sessions/current", token=token)


def _lists_only(c, resp, user_id):
    assert [item["id"] for item in resp.json()["items"]] == [user_id], describe(resp)


def _signed_out_token_refused(c, resp):
    expect_unauthorized(c.api.get("/v1/matches", token=c.signed_out))


ROUTES = [
    Route("POST /v1/matches", MATCH_WRITERS, 201, _create_match, unchanged=_no_match_created),
    Route("PATCH /v1/matches/{id}", MATCH_WRITERS, 200, _patch, unchanged=_odds_unchanged),
    Route("POST /v1/matches/{id}/suspend", MATCH_WRITERS, 200, _suspend, check=_status_is("suspended"),
          unchanged=_match_status_unchanged),
    Route("POST /v1/matches/{id}/resume", MATCH_WRITERS, 200, _resume, check=_status_is("open"),
          unchanged=_match_status_unchanged),
    Route("POST /v1/matches/{id}/result", MATCH_WRITERS, 200, _settle, check=_status_is("settled"),
          unchanged=_match_status_unchanged),
    Route("GET /v1/matches/{id}/exposure", MATCH_WRITERS, 200,
          lambda c, who: c.api.get(f"/v1/matches/{c.match['id']}/exposure", token=c.token(who))),
    Route("GET /v1/users", {"owner", "admin", "support"}, 200,
          lambda c, who: c.api.get("/v1/users", params={"q": c.bettor.email}, token=c.token(who)),
          check=lambda c, resp: _lists_only(c, resp, c.bettor.id)),
    Route("GET /v1/users/{id}", USER_READERS, 200,
          lambda c, who: c.api.get(f"/v1/users/{c.bettor.id}", token=c.token(who))),
    Route("GET /v1/users/{id}/bets", USER_READERS, 200,
          lambda c, who: c.api.get(f"/v1/users/{c.bettor.id}/bets", token=c.token(who))),
    Route("GET /v1/users/{id}/limits", USER_READERS, 200,
          lambda c, who: c.api.get(f"/v1/users/{c.bettor.id}/limits", token=c.token(who))),
    # Only the account's holder, never staff: a generous limit that refuses nothing.
    Route("PUT /v1/users/{id}/limits", BETTOR, 200,
          lambda c, who: c.api.put(f"/v1/users/{c.bettor.id}/limits",
                                   json={"stake": {"month": 10**12}}, token=c.token(who)),
          prepare=lambda c: c.api.get(f"/v1/users/{c.bettor.id}/limits", token=c.bettor.token).json(),
          unchanged=lambda c, before: c.api.get(f"/v1/users/{c.bettor.id}/limits",
                                                token=c.bettor.token).json() == before),
    Route("GET /v1/users/{id}/transactions", USER_READERS, 200,
          lambda c, who: c.api.get(f"/v1/users/{c.bettor.id}/transactions", token=c.token(who))),
    Route("GET /v1/bets/{id}", USER_READERS, 200,
          lambda c, who: c.api.get(f"/v1/bets/{c.bet['id']}", token=c.token(who))),
    Route("GET /v1/bets", {"owner", "admin", "support"}, 200,
          lambda c, who: c.api.get("/v1/bets", token=c.token(who))),
    Route("GET /v1/bets/summary", OWNER_AND_ADMIN, 200,
          lambda c, who: c.api.get("/v1/bets/summary", token=c.token(who))),
    Route("POST /v1/users/{id}/deposits", OWNER_AND_ADMIN, 201,
          lambda c, who: c.api.post(f"/v1/users/{c.bettor.id}/deposits", json={"amount": 100},
                                    token=c.token(who)),
          prepare=_balance, unchanged=lambda c, before: _balance(c) == before),
    Route("POST /v1/users with balance", OWNER_AND_ADMIN, 201, _sign_up_with_balance,
          unchanged=lambda c, _: c.db.users_with_email(c.last_email) == 0),
    Route("POST /v1/operators", OWNER_AND_ADMIN, 201, _create_operator,
          unchanged=lambda c, _: operators_with_email(c.db, c.last_email) == 0),
    Route("GET /v1/operators", OWNER_AND_ADMIN, 200,
          lambda c, who: c.api.get("/v1/operators", token=c.token(who))),
    Route("PATCH /v1/operators/{id}", OWNER_AND_ADMIN, 200, _disable_operator, unchanged=_target_enabled),
    Route("PUT /v1/operators/{id}/password", OWNER_AND_ADMIN, 204, _reset_operator_password,
          unchanged=_target_password_unchanged),
    Route("GET /v1/audit", OWNER_AND_ADMIN, 200, lambda c, who: c.api.get("/v1/audit", token=c.token(who))),
    Route("POST /v1/bets", BETTOR, 201, _place_bet, unchanged=lambda c, _: _bets_on_target(c) == 0),
    Route("GET /v1/users/{id}/cart", BETTOR, 200,
          lambda c, who: c.api.get(f"/v1/users/{c.bettor.id}/cart", token=c.token(who))),
    Route("POST /v1/users/{id}/cart/items", BETTOR, 201, _add_cart_item,
          prepare=_cart_size, unchanged=lambda c, before: _cart_size(c) == before),
    Route("POST /v1/users/{id}/cart/checkout", BETTOR, 201, _checkout,
          prepare=lambda c: None, unchanged=lambda c, _: _cart_size(c) > 0),
    Route("DELETE /v1/users/{id}/cart", BETTOR, 204, _clear_cart,
          unchanged=lambda c, _: _cart_size(c) > 0),
    Route("POST /v1/bets/{id}/cash-out/quote", BETTOR, 201, _quote),
    Route("POST /v1/bets/{id}/cash-out", BETTOR, 200, _cash_out, unchanged=_bet_pending),
    Route("DELETE /v1/sessions/current", {"admin", "trader", "support", "user"}, 204, _sign_out,
          check=_signed_out_token_refused),
    Route("GET /v1/matches", CALLERS, 200, lambda c, who: c.api.get("/v1/matches", token=c.token(who))),
    Route("GET /v1/matches/{id}", CALLERS, 200,
          lambda c, who: c.api.get(f"/v1/matches/{c.match['id']}", token=c.token(who))),
    Route("POST /v1/users (no balance)", CALLERS, 201,
          lambda c, who: c.api.post("/v1/users", json={"email": unique_email("role"), "name": "Anyone"},
                                    token=c.token(who))),
]


@pytest.mark.parametrize("who", CALLERS)
@pytest.mark.parametrize("route", ROUTES, ids=repr)
def test_the_role_table(cast, db, route, who):
    cast.db = db
    state = route.prepare(cast) if route.prepare else None
    resp = route.call(cast, who)
    if who in route.allowed:
        assert resp.status_code == route.status, f"{who}: {describe(resp)}"
        if route.check:
            route.check(cast, resp)
    else:
        expect_forbidden(resp)
        if route.unchanged:
            assert route.unchanged(cast, state), f"{who}: a refused {route.name} changed something"


def test_a_user_reads_only_their_own(cast):
    c = cast
    token = c.other.token
    for path in (f"/v1/users/{c.bettor.id}", f"/v1/users/{c.bettor.id}/bets",
                 f"/v1/users/{c.bettor.id}/transactions", f"/v1/bets/{c.bet['id']}",
                 f"/v1/users/{c.bettor.id}/cart"):
        expect_forbidden(c.api.get(path, token=token))


def test_a_trader_may_not_read_bets_whether_or_not_they_exist(cast):
    """The role table: a trader reading a bet is 403, a missing one too (a
    404 would tell a trader which ids exist)."""
    token = cast.tokens["trader"]
    expect_forbidden(cast.api.get(f"/v1/bets/{cast.bet['id']}", token=token))
    expect_forbidden(cast.api.get("/v1/bets/999999999999", token=token))


def test_operators_cannot_bet_even_for_themselves(cast):
    """An operator id is no user id: a bet naming it is still 403."""
    c = cast
    for role, op in c.operators.items():
        body = {"user_id": op.id, "match_id": c.match["id"], "selection": "X", "stake": 100}
        expect_forbidden(c.api.post("/v1/bets", json=body, token=op.token))
        expect_forbidden(c.api.get(f"/v1/users/{op.id}/cart", token=op.token))


# ==========================================================================
# POST /v1/operators
# ==========================================================================

@pytest.mark.parametrize("role", ROLES)
def test_the_owner_creates_an_operator_who_signs_in_with_that_role(api, admin_token, db, role):
    email = unique_email(f"op-{role}")
    password = new_password()
    resp = api.post("/v1/operators", json={"email": email, "password": password, "role": role},
                    token=admin_token)
    body = expect_operator(resp, email=email, role=role)
    assert password not in resp.text
    session = expect_session(sign_in(api, email, password), role=role, operator_id=body["id"])
    assert session["token"] not in resp.text
    table = find_table(db, {"email", "role", "password_hash"}, "operators")
    (stored,) = db.query(f"SELECT password_hash FROM {table} WHERE id = %s", (body["id"],))[0]
    assert stored.startswith("$argon2id$") and password not in stored, stored


def test_an_operator_email_is_normalised_like_a_users(api, admin_token):
    local = unique_email("Op.Mixed").split("@")[0]
    resp = api.post("/v1/operators", token=admin_token,
                    json={"email": f"  {local.upper()}@Example.COM ", "password": new_password(), "role": "trader"})
    expect_operator(resp, email=f"{local.lower()}@example.com", role="trader")


def test_an_admin_operator_may_create_operators(api, new_operator):
    admin = new_operator("admin")
    for role in ROLES:
        created = create_operator(api, admin.token, role)
        assert created.role == role and created.id != admin.id


def test_a_password_of_8_and_of_128_code_points_is_accepted(api, admin_token):
    for password in ("a" * 8, "😀" * 128):
        create_operator(api, admin_token, "support", password=password)


def test_emails_are_unique_across_users_and_operators(api, admin_token, db, new_user):
    user = new_user()
    # An operator with a user's e-mail (in any case).
    for email in (user.email, user.email.upper()):
        resp = api.post("/v1/operators", json={"email": email, "password": new_password(), "role": "support"},
                        token=admin_token)
        expect_problem(resp, 409, "email_taken")
    assert operators_with_email(db, user.email) == 0
    # A user with an operator's e-mail, by sign-up or by the owner.
    op = create_operator(api, admin_token, "trader")
    expect_problem(api.post("/v1/users", json={"email": op.email, "name": "Copy"}), 409, "email_taken")
    expect_problem(api.post("/v1/users", json={"email": op.email.upper(), "name": "Copy", "balance": 5},
                            token=admin_token), 409, "email_taken")
    assert db.users_with_email(op.email) == 0
    # Two operators with one e-mail.
    resp = api.post("/v1/operators", json={"email": op.email, "password": new_password(), "role": "admin"},
                    token=admin_token)
    expect_problem(resp, 409, "email_taken")
    assert operators_with_email(db, op.email) == 1
    # The operator's sign-in is untouched.
    expect_session(sign_in(api, op.email, op.password), role="trader", operator_id=op.id)


_MISSING = object()


@pytest.mark.parametrize("field, body", [
    ("role", {"role": "owner"}),
    ("role", {"role": "Admin"}),
    ("role", {"role": "user"}),
    ("role", {"role": ""}),
    ("role", {"role": None}),
    ("role", {"role": 1}),
    ("role", {"role": _MISSING}),
    ("password", {"password": "a" * 7}),
    ("password", {"password": "é" * 7}),
    ("password", {"password": "p" * 129}),
    ("password", {"password": 12345678}),
    ("password", {"password": _MISSING}),
    ("email", {"email": "not an address"}),
    ("email", {"email": _MISSING}),
], ids=["role-owner", "role-Admin", "role-user", "role-empty", "role-null", "role-number", "role-missing",
        "password-7", "password-7-two-byte", "password-129", "password-number", "password-missing",
        "email-bad", "email-missing"])
def test_a_bad_operator_is_422_naming_the_field(api, admin_token, db, field, body):
    email = unique_email("bad-op")
    full = {"email": email, "password": new_password(), "role": "support"}
    full.update(body)
    full = {k: v for k, v in full.items() if v is not _MISSING}
    expect_validation_failed(api.post("/v1/operators", json=full, token=admin_token), field)
    assert operators_with_email(db, email) == 0


def test_an_unknown_field_is_422(api, admin_token):
    body = {"email": unique_email("op"), "password": new_password(), "role": "support", "name": "Op"}
    expect_validation_failed(api.post("/v1/operators", json=body, token=admin_token))


@pytest.mark.parametrize("role", ["trader", "support"])
def test_traders_and_support_cannot_create_operators(api, db, new_operator, role):
    op = new_operator(role)
    for new_role in ROLES:
        email = unique_email("op")
        resp = api.post("/v1/operators", json={"email": email, "password": new_password(), "role": new_role},
                        token=op.token)
        expect_forbidden(resp)
        assert operators_with_email(db, email) == 0


def test_users_cannot_create_operators_and_anonymous_callers_are_401(api, db, new_user):
    user = new_user()
    body = {"email": unique_email("op"), "password": new_password(), "role": "admin"}
    expect_forbidden(api.post("/v1/operators", json=body, token=user.token))
    expect_unauthorized(api.post("/v1/operators", json=body))
    expect_unauthorized(api.post("/v1/operators", json=body, token="A" * 43))
    assert operators_with_email(db, body["email"]) == 0


def test_an_operator_cannot_sign_in_with_a_wrong_password(api, new_operator):
    op = new_operator("admin")
    expect_problem(sign_in(api, op.email, op.password + "x"), 401, "invalid_credentials")
    expect_problem(sign_in(api, op.email, uuid.uuid4().hex), 401, "invalid_credentials")

"""Users, deposits and the ledger (API.md: Users)."""

import uuid

import pytest

from api_support import (
    TRANSACTION_KEYS,
    USER_KEYS,
    expect_json,
    expect_page,
    expect_problem,
    expect_timestamp,
    expect_validation_failed,
    is_positive_int,
    unique_email,
)
from bet_support import run_concurrently

MAX_DEPOSIT = 10**12  # "deposits and initial balances 1 .. 10^12"
MISSING_USER_ID = 2_000_000_000  # fits any id column; never reached by a test run


# ----------------------------------------------------------------- sign-up

def test_sign_up_returns_201_with_user_and_token(api):
    email = unique_email()
    body = expect_json(api.post("/v1/users", json={"email": email, "name": "Ann"}), 201)
    assert set(body.keys()) == USER_KEYS | {"token"}
    assert is_positive_int(body["id"])
    assert body["email"] == email
    assert body["name"] == "Ann"
    assert body["balance"] == 0
    expect_timestamp(body["created_at"])
    assert isinstance(body["token"], str) and body["token"]


def test_each_user_gets_a_distinct_id_and_token(new_user):
    a, b = new_user(), new_user()
    assert a.id != b.id
    assert a.token != b.token


def test_token_appears_only_in_the_sign_up_response(api, new_user, admin_token):
    user = new_user()
    for token in (user.token, admin_token):
        body = expect_json(api.get(f"/v1/users/{user.id}", token=token), 200)
        assert "token" not in body
        assert set(body.keys()) == USER_KEYS


def test_email_is_trimmed_and_lowercased(api):
    local = unique_email("Mixed.Case").split("@")[0]
    body = expect_json(
        api.post("/v1/users", json={"email": f"  {local.upper()}@Example.COM \t", "name": "Ann"}), 201)
    assert body["email"] == f"{local.lower()}@example.com"


def test_name_round_trips_non_ascii_text(api):
    body = expect_json(api.post("/v1/users", json={"email": unique_email(), "name": "Zoë 日本 Ørsted"}), 201)
    assert body["name"] == "Zoë 日本 Ørsted"


def test_name_of_100_characters_is_accepted(api):
    body = expect_json(api.post("/v1/users", json={"email": unique_email(), "name": "n" * 100}), 201)
    assert body["name"] == "n" * 100


def test_name_length_counts_characters_not_bytes(api):
    # 100 characters, 200 bytes in UTF-8: "1..100 chars" read as characters.
    body = expect_json(api.post("/v1/users", json={"email": unique_email(), "name": "é" * 100}), 201)
    assert body["name"] == "é" * 100


def test_email_of_254_characters_is_accepted(api):
    local = (unique_email().split("@")[0] + "x" * 64)[:64]
    domain = "a" * 63 + "." + "b" * 63 + "." + "c" * 57 + ".com"
    email = f"{local}@{domain}"
    assert len(email) == 254
    body = expect_json(api.post("/v1/users", json={"email": email, "name": "Ann"}), 201)
    assert body["email"] == email


def test_duplicate_email_is_409_email_taken(api, db):
    email = unique_email()
    expect_json(api.post("/v1/users", json={"email": email, "name": "Ann"}), 201)
    expect_problem(api.post("/v1/users", json={"email": email, "name": "Bob"}), 409, "email_taken")
    assert db.users_with_email(email) == 1


def test_email_differing_only_in_case_is_409_email_taken(api):
    email = unique_email()
    expect_json(api.post("/v1/users", json={"email": email, "name": "Ann"}), 201)
    expect_problem(api.post("/v1/users", json={"email": email.upper(), "name": "Ann"}), 409, "email_taken")


def test_email_differing_only_in_surrounding_spaces_is_409_email_taken(api):
    email = unique_email()
    expect_json(api.post("/v1/users", json={"email": email, "name": "Ann"}), 201)
    expect_problem(api.post("/v1/users", json={"email": f"  {email} ", "name": "Ann"}), 409, "email_taken")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "Ann"}, "email"),
        ({"email": None, "name": "Ann"}, "email"),
        ({"email": 42, "name": "Ann"}, "email"),
        ({"email": "", "name": "Ann"}, "email"),
        ({"email": "   ", "name": "Ann"}, "email"),
        ({"email": "not-an-email", "name": "Ann"}, "email"),
        ({"email": "ann@", "name": "Ann"}, "email"),
        ({"email": "@example.com", "name": "Ann"}, "email"),
        ({"email": "ann@@example.com", "name": "Ann"}, "email"),
        ({"email": "an n@example.com", "name": "Ann"}, "email"),
        ({"email": "x" * 243 + "@example.com", "name": "Ann"}, "email"),  # 255 chars
        ({"email": "EMAIL", "name": "Ann"}, "email"),
        ({"email": "ann@example.com"}, "name"),
        ({"email": "ann@example.com", "name": None}, "name"),
        ({"email": "ann@example.com", "name": ""}, "name"),
        ({"email": "ann@example.com", "name": "n" * 101}, "name"),
        ({"email": "ann@example.com", "name": ["Ann"]}, "name"),
        ({"email": "ann@example.com", "name": "Ann", "nickname": "A"}, "nickname"),
        ({"email": "ann@example.com", "name": "Ann", "Email": "a@b.co"}, "Email"),
    ],
    ids=[
        "email-missing", "email-null", "email-number", "email-empty", "email-blank",
        "email-no-at", "email-no-domain", "email-no-local", "email-two-ats",
        "email-with-space", "email-255-chars", "email-word",
        "name-missing", "name-null", "name-empty", "name-101-chars", "name-array",
        "unknown-field", "unknown-field-case-variant",
    ],
)
def test_invalid_sign_up_is_422_naming_the_field(api, db, body, field):
    # The e-mail is made unique so that a wrongly accepted body is visible in the DB.
    if body.get("email") == "ann@example.com":
        body = dict(body, email=unique_email())
    users_before = db.users_with_email(body["email"]) if isinstance(body.get("email"), str) else None
    expect_validation_failed(api.post("/v1/users", json=body), field)
    if users_before is not None:
        assert db.users_with_email(body["email"].strip()) == users_before


@pytest.mark.parametrize("raw", ["[]", '"ann@example.com"', "42", "null", "true"],
                         ids=["array", "string", "number", "null", "bool"])
def test_body_that_is_valid_json_but_not_an_object_is_422(api, raw):
    expect_problem(api.post("/v1/users", body=raw), 422, "validation_failed")


def test_balance_without_admin_token_is_403_forbidden(api, db):
    email = unique_email()
    expect_problem(
        api.post("/v1/users", json={"email": email, "name": "Ann", "balance": 50000}), 403, "forbidden")
    assert db.users_with_email(email) == 0


def test_balance_with_a_user_token_is_403_forbidden(api, new_user, db):
    caller = new_user()
    email = unique_email()
    expect_problem(
        api.post("/v1/users", json={"email": email, "name": "Ann", "balance": 50000}, token=caller.token),
        403, "forbidden")
    assert db.users_with_email(email) == 0


def test_zero_balance_without_admin_token_is_still_403(api):
    expect_problem(
        api.post("/v1/users", json={"email": unique_email(), "name": "Ann", "balance": 0}), 403, "forbidden")


def test_admin_may_sign_up_a_user_without_balance(api, admin_token, db):
    body = expect_json(
        api.post("/v1/users", json={"email": unique_email(), "name": "Ann"}, token=admin_token), 201)
    assert body["balance"] == 0
    assert db.ledger_rows(body["id"]) == 0


def test_admin_initial_balance_is_recorded_as_a_deposit(api, admin_token, db):
    body = expect_json(
        api.post("/v1/users", json={"email": unique_email(), "name": "Ann", "balance": 50000},
                 token=admin_token), 201)
    assert body["balance"] == 50000
    page = expect_json(api.get(f"/v1/users/{body['id']}/transactions", token=admin_token), 200)
    expect_page(page, total=1, limit=20, offset=0)
    [tx] = page["items"]
    assert tx["kind"] == "deposit"
    assert tx["amount"] == 50000
    assert tx["balance_after"] == 50000
    assert tx["bet_id"] is None
    assert db.balance(body["id"]) == 50000
    assert db.ledger_sum(body["id"]) == 50000


def test_initial_balance_of_10_to_the_12_is_accepted(new_user):
    assert new_user(balance=MAX_DEPOSIT).balance == MAX_DEPOSIT


@pytest.mark.parametrize(
    "raw_balance",
    ["0", "-1", str(MAX_DEPOSIT + 1), "1000.0", "1e3", '"1000"', "true", "null", "{}"],
    ids=["zero", "negative", "over-10^12", "float-1000.0", "exponent", "string", "bool", "null", "object"],
)
def test_invalid_initial_balance_is_422(api, admin_token, db, raw_balance):
    email = unique_email()
    raw = f'{{"email":"{email}","name":"Ann","balance":{raw_balance}}}'
    expect_validation_failed(api.post("/v1/users", body=raw, token=admin_token), "balance")
    assert db.users_with_email(email) == 0


# ------------------------------------------------------------ read a user

def test_owner_reads_own_user(api, new_user):
    user = new_user()
    body = expect_json(api.get(f"/v1/users/{user.id}", token=user.token), 200)
    assert body == {k: v for k, v in user.body.items() if k != "token"}


def test_admin_reads_any_user(api, new_user, admin_token):
    user = new_user()
    body = expect_json(api.get(f"/v1/users/{user.id}", token=admin_token), 200)
    assert body["id"] == user.id
    assert body["email"] == user.email


def test_other_user_reading_a_user_is_403_forbidden(api, new_user):
    owner, other = new_user(), new_user()
    expect_problem(api.get(f"/v1/users/{owner.id}", token=other.token), 403, "forbidden")


def test_reading_a_user_without_token_is_401(api, new_user):
    user = new_user()
    expect_problem(api.get(f"/v1/users/{user.id}"), 401, "unauthorized")


def test_reading_a_user_with_unknown_token_is_401(api, new_user):
    user = new_user()
    expect_problem(api.get(f"/v1/users/{user.id}", token=user.token + "x"), 401, "unauthorized")


def test_missing_user_is_404_user_not_found(api, admin_token):
    expect_problem(api.get(f"/v1/users/{MISSING_USER_ID}", token=admin_token), 404, "user_not_found")


def test_missing_user_with_a_64_bit_id_is_404(api, admin_token):
    # A valid positive integer beyond 32 bits must not reach the DB as an error.
    resp = api.get(f"/v1/users/{2**62}", token=admin_token)
    problem = expect_problem(resp, 404)
    assert problem["code"] in ("user_not_found", "not_found")


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "1.5", "1e3", "%20", "0x10"])
def test_path_id_that_is_not_a_positive_integer_is_404_not_found(api, admin_token, bad_id):
    expect_problem(api.get(f"/v1/users/{bad_id}", token=admin_token), 404, "not_found")


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1"])
def test_bad_path_id_is_404_even_without_token(api, bad_id):
    # Routing (404) is checked before auth (401).
    expect_problem(api.get(f"/v1/users/{bad_id}"), 404, "not_found")


# ---------------------------------------------------------------- deposits

def test_admin_deposit_returns_201_with_new_balance_and_transaction(api, new_user, admin_token, db):
    user = new_user(balance=50000)
    body = expect_json(
        api.post(f"/v1/users/{user.id}/deposits", json={"amount": 10000}, token=admin_token), 201)
    assert set(body.keys()) == {"balance", "transaction"}
    assert body["balance"] == 60000
    tx = body["transaction"]
    assert set(tx.keys()) == TRANSACTION_KEYS
    assert is_positive_int(tx["id"])
    assert tx["kind"] == "deposit"
    assert tx["amount"] == 10000
    assert tx["bet_id"] is None
    assert tx["balance_after"] == 60000
    expect_timestamp(tx["created_at"])
    assert db.balance(user.id) == 60000


def test_deposits_accumulate_in_the_balance(api, new_user, admin_token):
    user = new_user()
    for amount, expected in ((1, 1), (250, 251), (MAX_DEPOSIT, MAX_DEPOSIT + 251)):
        body = expect_json(
            api.post(f"/v1/users/{user.id}/deposits", json={"amount": amount}, token=admin_token), 201)
        assert body["balance"] == expected
    assert expect_json(api.get(f"/v1/users/{user.id}", token=user.token), 200)["balance"] == MAX_DEPOSIT + 251


def test_deposit_by_the_owner_is_403_and_changes_nothing(api, new_user, db):
    user = new_user()
    expect_problem(
        api.post(f"/v1/users/{user.id}/deposits", json={"amount": 10000}, token=user.token), 403, "forbidden")
    assert db.balance(user.id) == 0
    assert db.ledger_rows(user.id) == 0


def test_deposit_by_another_user_is_403(api, new_user, db):
    user, other = new_user(), new_user()
    expect_problem(
        api.post(f"/v1/users/{user.id}/deposits", json={"amount": 10000}, token=other.token), 403, "forbidden")
    assert db.balance(user.id) == 0


def test_deposit_without_token_is_401_and_changes_nothing(api, new_user, db):
    user = new_user()
    expect_problem(api.post(f"/v1/users/{user.id}/deposits", json={"amount": 10000}), 401, "unauthorized")
    assert db.balance(user.id) == 0
    assert db.ledger_rows(user.id) == 0


def test_deposit_by_a_user_to_a_missing_user_is_403(api, new_user):
    # Auth (403: deposits are admin-only) is checked before the user's existence.
    caller = new_user()
    expect_problem(
        api.post(f"/v1/users/{MISSING_USER_ID}/deposits", json={"amount": 10}, token=caller.token),
        403, "forbidden")


def test_deposit_to_a_missing_user_is_404_user_not_found(api, admin_token):
    expect_problem(
        api.post(f"/v1/users/{MISSING_USER_ID}/deposits", json={"amount": 10000}, token=admin_token),
        404, "user_not_found")


@pytest.mark.parametrize("bad_id", ["abc", "0", "-7"])
def test_deposit_to_a_bad_path_id_is_404_not_found(api, admin_token, bad_id):
    expect_problem(
        api.post(f"/v1/users/{bad_id}/deposits", json={"amount": 10000}, token=admin_token), 404, "not_found")


@pytest.mark.parametrize(
    "raw, field",
    [
        ('{"amount":0}', "amount"),
        ('{"amount":-5}', "amount"),
        ('{"amount":1000000000001}', "amount"),
        ('{"amount":1000.0}', "amount"),
        ('{"amount":10.5}', "amount"),
        ('{"amount":1e3}', "amount"),
        ('{"amount":"1000"}', "amount"),
        ('{"amount":true}', "amount"),
        ('{"amount":null}', "amount"),
        ("{}", "amount"),
        ('{"amount":1000,"note":"x"}', "note"),
    ],
    ids=["zero", "negative", "over-10^12", "float-1000.0", "fraction", "exponent",
         "string", "bool", "null", "missing", "unknown-field"],
)
def test_invalid_deposit_is_422_and_changes_nothing(api, new_user, admin_token, db, raw, field):
    user = new_user(balance=500)
    expect_validation_failed(
        api.post(f"/v1/users/{user.id}/deposits", body=raw, token=admin_token), field)
    assert db.balance(user.id) == 500
    assert db.ledger_rows(user.id) == 1


# ------------------------------------------- deposits with an Idempotency-Key

def _keyed_deposit(api, admin_token, user_id, amount, key):
    return api.post(f"/v1/users/{user_id}/deposits", json={"amount": amount}, token=admin_token,
                    headers={"Idempotency-Key": key})


def _deposit_rows(db, user_id):
    return db.scalar("SELECT count(*) FROM ledger WHERE kind = 'deposit' AND user_id = %s", (user_id,))


def test_a_retried_deposit_with_its_key_is_answered_again_and_credited_once(api, new_user, admin_token, db):
    user = new_user()
    key = str(uuid.uuid4())
    first = _keyed_deposit(api, admin_token, user.id, 2500, key)
    body = expect_json(first, 201)
    assert "Idempotent-Replayed" not in first.headers
    # The retry of a deposit whose answer was lost: the same answer, nothing more.
    again = _keyed_deposit(api, admin_token, user.id, 2500, key)
    assert expect_json(again, 201) == body
    assert again.headers.get("Idempotent-Replayed") == "true"
    # Also after another deposit changed the balance: the answer is the first one's.
    _deposit(api, admin_token, user.id, 100)
    assert expect_json(_keyed_deposit(api, admin_token, user.id, 2500, key), 201) == body
    assert expect_json(api.get(f"/v1/users/{user.id}", token=user.token), 200)["balance"] == 2600
    assert _deposit_rows(db, user.id) == 2


def test_a_deposit_key_used_for_another_amount_is_422_and_changes_nothing(api, new_user, admin_token, db):
    user = new_user()
    key = str(uuid.uuid4())
    expect_json(_keyed_deposit(api, admin_token, user.id, 2500, key), 201)
    expect_problem(_keyed_deposit(api, admin_token, user.id, 9900, key), 422, "idempotency_key_reused")
    assert expect_json(api.get(f"/v1/users/{user.id}", token=user.token), 200)["balance"] == 2500
    assert _deposit_rows(db, user.id) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_bad_deposit_key_is_400_and_changes_nothing(api, new_user, admin_token, db, key):
    user = new_user()
    resp = api.post(f"/v1/users/{user.id}/deposits", json={"amount": 100}, token=admin_token,
                    headers={"Idempotency-Key": key.encode("utf-8")})
    expect_problem(resp, 400, "invalid_parameter")
    assert _deposit_rows(db, user.id) == 0


def test_a_retried_deposit_is_answered_even_once_the_users_betting_is_paused(api, new_user, admin_token):
    user = new_user()
    key = str(uuid.uuid4())
    body = expect_json(_keyed_deposit(api, admin_token, user.id, 2500, key), 201)
    expect_json(api.post(f"/v1/users/{user.id}/timeout", json={"hours": 24}, token=user.token), 201)
    again = _keyed_deposit(api, admin_token, user.id, 2500, key)
    assert expect_json(again, 201) == body
    assert again.headers.get("Idempotent-Replayed") == "true"
    # A new deposit, or the key with another amount, meets the pause.
    expect_problem(_keyed_deposit(api, admin_token, user.id, 2500, str(uuid.uuid4())), 403, "self_excluded")
    expect_problem(_keyed_deposit(api, admin_token, user.id, 100, key), 403, "self_excluded")
    assert expect_json(api.get(f"/v1/users/{user.id}", token=user.token), 200)["balance"] == 2500


def test_deposit_keys_are_per_user(api, new_user, admin_token):
    key = str(uuid.uuid4())
    for user, amount in ((new_user(), 100), (new_user(), 200)):
        assert expect_json(_keyed_deposit(api, admin_token, user.id, amount, key), 201)["balance"] == amount


@pytest.mark.concurrency
def test_concurrent_deposits_under_one_key_credit_once_and_answer_alike(base_url, api, new_user, admin_token, db):
    user = new_user()
    key = str(uuid.uuid4())
    answers = run_concurrently([base_url], admin_token, 12,
                               lambda client, i: _keyed_deposit(client, admin_token, user.id, 700, key))
    bodies = [expect_json(resp, 201) for resp in answers]
    assert all(b == bodies[0] for b in bodies), bodies
    assert sum(1 for resp in answers if resp.headers.get("Idempotent-Replayed") != "true") == 1
    assert expect_json(api.get(f"/v1/users/{user.id}", token=user.token), 200)["balance"] == 700
    assert _deposit_rows(db, user.id) == 1


# ------------------------------------------------------------ transactions

def _deposit(api, admin_token, user_id, amount):
    return expect_json(
        api.post(f"/v1/users/{user_id}/deposits", json={"amount": amount}, token=admin_token), 201)


def test_transactions_are_listed_newest_first(api, new_user, admin_token):
    user = new_user()
    ids = [_deposit(api, admin_token, user.id, amount)["transaction"]["id"] for amount in (100, 200, 300)]
    page = expect_json(api.get(f"/v1/users/{user.id}/transactions", token=user.token), 200)
    expect_page(page, total=3, limit=20, offset=0)
    items = page["items"]
    assert [t["amount"] for t in items] == [300, 200, 100]
    assert [t["balance_after"] for t in items] == [600, 300, 100]
    assert [t["id"] for t in items] == list(reversed(ids))
    for tx in items:
        assert set(tx.keys()) == TRANSACTION_KEYS
        assert tx["kind"] == "deposit"
        assert tx["bet_id"] is None
        expect_timestamp(tx["created_at"])
    created = [t["created_at"] for t in items]
    assert created == sorted(created, reverse=True)


def test_transactions_page_with_limit_and_offset(api, new_user, admin_token):
    user = new_user()
    for amount in (100, 200, 300):
        _deposit(api, admin_token, user.id, amount)
    page = expect_json(
        api.get(f"/v1/users/{user.id}/transactions", params={"limit": 2, "offset": 1}, token=user.token), 200)
    expect_page(page, total=3, limit=2, offset=1)
    assert [t["amount"] for t in page["items"]] == [200, 100]


def test_transactions_offset_past_the_end_gives_empty_items(api, new_user, admin_token):
    user = new_user(balance=100)
    page = expect_json(
        api.get(f"/v1/users/{user.id}/transactions", params={"offset": 5}, token=admin_token), 200)
    expect_page(page, total=1, limit=20, offset=5)
    assert page["items"] == []


def test_transactions_of_a_new_user_are_empty(api, new_user):
    user = new_user()
    page = expect_json(api.get(f"/v1/users/{user.id}/transactions", token=user.token), 200)
    expect_page(page, total=0, limit=20, offset=0)
    assert page["items"] == []


def test_transactions_limit_100_is_accepted(api, new_user):
    user = new_user(balance=1)
    page = expect_json(api.get(f"/v1/users/{user.id}/transactions", params={"limit": 100}, token=user.token), 200)
    expect_page(page, total=1, limit=100, offset=0)


def test_admin_reads_any_users_transactions(api, new_user, admin_token):
    user = new_user(balance=700)
    page = expect_json(api.get(f"/v1/users/{user.id}/transactions", token=admin_token), 200)
    assert page["total"] == 1


def test_other_user_reading_transactions_is_403(api, new_user):
    owner, other = new_user(balance=700), new_user()
    expect_problem(api.get(f"/v1/users/{owner.id}/transactions", token=other.token), 403, "forbidden")


def test_transactions_without_token_is_401(api, new_user):
    user = new_user()
    expect_problem(api.get(f"/v1/users/{user.id}/transactions"), 401, "unauthorized")


def test_transactions_of_a_missing_user_is_404_user_not_found(api, admin_token):
    expect_problem(
        api.get(f"/v1/users/{MISSING_USER_ID}/transactions", token=admin_token), 404, "user_not_found")


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=-1", "limit=abc", "limit=1.5", "limit=", "offset=-1",
     "offset=abc", "limit=2&limit=2", "offset=0&offset=1", "kind=deposit", "foo=1"],
)
def test_bad_transactions_query_is_400_invalid_parameter(api, new_user, query):
    user = new_user()
    expect_problem(
        api.get(f"/v1/users/{user.id}/transactions?{query}", token=user.token), 400, "invalid_parameter")


def test_balance_equals_sum_of_ledger_amounts(api, new_user, admin_token, db):
    user = new_user(balance=1234)
    for amount in (1, 99, 100000):
        _deposit(api, admin_token, user.id, amount)
    balance = expect_json(api.get(f"/v1/users/{user.id}", token=user.token), 200)["balance"]
    page = expect_json(api.get(f"/v1/users/{user.id}/transactions", params={"limit": 100}, token=user.token), 200)
    assert balance == sum(t["amount"] for t in page["items"]) == 1234 + 1 + 99 + 100000
    assert page["items"][0]["balance_after"] == balance
    assert db.balance(user.id) == db.ledger_sum(user.id) == balance


def test_ledger_invariant_holds_for_every_user_in_the_database(new_user, db):
    new_user(balance=42)
    assert db.users_breaking_ledger_invariant() == []

"""Sign-ins under way at once per client address (docs/api.md, "Sessions";
docs/operations.md, "Rate limits"): every sign-in verifies an Argon2id hash
on the instance's few password threads, behind a bounded queue. Without a
cap per client, one address sending sign-ins side by side fills that queue
and every other sign-in of the instance is refused. An address may have
BETSDB_SIGN_INS_PER_CLIENT sign-ins under way at once; past that its next
one gets 429 too_many_requests with Retry-After, and nobody else is slowed
by more than those few.

A server of the module's own runs with 2 per client and one password
thread, on the suite's database and Redis; each test connects from loopback
addresses of its own (127.x.y.z, see test_signup_limit.py), so no count is
shared with another test or with the lock-out's per-email count.
"""

import threading

import pytest

from account_support import (SourceAddressAdapter, expect_session, new_address, retry_after, session_of,
                             sign_in, sign_up)
from api_support import Api, describe, expect_problem, unique_email
from fault_support import own_server

PER_CLIENT = 2
FLOOD = 24


@pytest.fixture(scope="module")
def capped(tmp_path_factory, admin_token, _server_is_up):
    # Sign-in counts failures in Redis: the server is up and connected first.
    yield from own_server(tmp_path_factory, admin_token, "sign-ins-per-client",
                          {"BETSDB_SIGN_INS_PER_CLIENT": str(PER_CLIENT), "BETSDB_PASSWORD_THREADS": "1"})


def client_from(server, admin_token, address):
    client = Api(server.base_url, admin_token)
    client.session.mount("http://", SourceAddressAdapter(address))
    return client


def flood(server, admin_token, address, count, while_flooding=None):
    """`count` sign-ins from `address`, all released at once, each a wrong
    password for a new email (so no email reaches its lock-out); with
    `while_flooding`, called on a thread of its own released with them.
    Returns the flood's responses and what `while_flooding` returned."""
    clients = [client_from(server, admin_token, address) for _ in range(count)]
    start = threading.Barrier(count + (1 if while_flooding else 0))
    responses = [None] * count
    other = {}

    def one(i):
        start.wait()
        responses[i] = sign_in(clients[i], unique_email("flood"), "not-the-password")

    def beside():
        start.wait()
        other["value"] = while_flooding()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    if while_flooding:
        threads.append(threading.Thread(target=beside))
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "a sign-in did not answer within 60 s"
    finally:
        for c in clients:
            c.close()
    return responses, other.get("value")


def test_one_address_flooding_sign_ins_is_refused_past_its_share_and_others_still_sign_in(capped, admin_token):
    victim_address = new_address()
    victim_api = client_from(capped, admin_token, victim_address)
    try:
        account = sign_up(victim_api)

        def victim_signs_in():
            return sign_in(victim_api, account.email, account.password)

        responses, victim = flood(capped, admin_token, new_address(), FLOOD, victim_signs_in)
        expect_session(victim, role="user", user_id=account.id)
    finally:
        victim_api.close()
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(429) >= 1, f"{FLOOD} sign-ins side by side from one address were all let in: {statuses}"
    for resp in responses:
        if resp.status_code == 429:
            expect_problem(resp, 429, "too_many_requests")
            retry_after(resp, 1, 1)
        else:
            expect_problem(resp, 401, "invalid_credentials")


def test_the_cap_is_on_sign_ins_at_once_not_in_a_row(capped, admin_token):
    """Each turn is given back with its answer: any number of sign-ins one
    after another from one address are answered, refused ones included."""
    address = new_address()
    api = client_from(capped, admin_token, address)
    try:
        flood(capped, admin_token, address, FLOOD)
        account = sign_up(api)
        for _ in range(3 * PER_CLIENT):
            session_of(api, account)
        for _ in range(3 * PER_CLIENT):
            resp = sign_in(api, unique_email("in-a-row"), "not-the-password")
            assert resp.status_code == 401, describe(resp)
    finally:
        api.close()

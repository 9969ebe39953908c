"""The sign-up limit (API.md Part 2, "Accounts and access"; issue 22 design):
POST /v1/users by anyone but the owner (the admin token) and admin operators
is limited per client address (the TCP peer's), at most
BETSDB_SIGNUP_RATE_LIMIT in a one-minute window opened by the address's
first sign-up (each test uses a fresh address, so its window opens with it); beyond it
429 too_many_requests with Retry-After until the window ends. Attempts that
fail validation count too, and the limit is checked before the body. 0 turns
the limit off (the suite's server runs so).

A server of the module's own runs with a limit of 3 on the suite's database
and Redis. Every test connects from an address of its own (127.x.y.z: the
whole of 127/8 is loopback on Linux, and the server sees that address as the
peer), so the tests never share a count and need no Redis key names.
"""

import http.client
import json
import random
import urllib.parse

import pytest

from account_support import (SourceAddressAdapter, create_operator, expect_forbidden, new_address, retry_after,
                             sign_up)
from api_support import Api, describe, expect_json, expect_problem, expect_validation_failed, unique_email
from fault_support import own_server

LIMIT = 3
# The suite's server runs without a limit; the default would be 20.
UNLIMITED_SIGN_UPS = 25


@pytest.fixture(scope="module")
def limited(tmp_path_factory, admin_token, _server_is_up):
    # The limit counts in Redis: the server is up and connected first.
    yield from own_server(tmp_path_factory, admin_token, "signup-limit",
                          {"BETSDB_SIGNUP_RATE_LIMIT": str(LIMIT)})


@pytest.fixture
def client_from(limited, admin_token):
    """Factory: client_from(address=None) -> Api on the limited server,
    connecting from `address` (default: a new one)."""
    clients = []

    def make(address=None):
        client = Api(limited.base_url, admin_token)
        client.address = address or new_address()
        client.session.mount("http://", SourceAddressAdapter(client.address))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def sign_up_body(email=None):
    return {"email": email or unique_email("limit"), "name": "Lim It"}


def expect_limited(resp):
    """429 too_many_requests, Retry-After: the seconds left in the window (1..60)."""
    expect_problem(resp, 429, "too_many_requests")
    retry_after(resp, 1, 60)


def use_up(client):
    """LIMIT sign-ups from the client's address: all 201."""
    for _ in range(LIMIT):
        expect_json(client.post("/v1/users", json=sign_up_body()), 201)


def test_the_sign_up_after_the_limit_is_429_and_creates_nothing(client_from, db):
    client = client_from()
    use_up(client)
    for _ in range(2):
        email = unique_email("limit")
        expect_limited(client.post("/v1/users", json=sign_up_body(email)))
        assert db.users_with_email(email) == 0


def test_each_address_has_its_own_count(client_from):
    first, second = client_from(), client_from()
    use_up(first)
    expect_limited(first.post("/v1/users", json=sign_up_body()))
    use_up(second)
    expect_limited(second.post("/v1/users", json=sign_up_body()))


def test_x_forwarded_for_does_not_change_the_address(client_from):
    client = client_from()
    use_up(client)
    for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
        value = "for=10.9.8.7" if header == "Forwarded" else "10.9.8.7"
        resp = client.post("/v1/users", json=sign_up_body(), headers={header: value})
        expect_limited(resp)


def test_failed_attempts_count_and_the_limit_comes_before_the_body(client_from, db):
    client = client_from()
    for _ in range(LIMIT):
        expect_validation_failed(client.post("/v1/users", json={"email": "not an address", "name": "X"}), "email")
    email = unique_email("limit")
    expect_limited(client.post("/v1/users", json=sign_up_body(email)))
    assert db.users_with_email(email) == 0
    # Over the limit, a bad body is not even read.
    expect_limited(client.post("/v1/users", json={"email": "not an address", "name": "X"}))
    expect_limited(client.post("/v1/users", body="{not json"))


def test_the_owner_is_not_limited(client_from, admin_token, db):
    client = client_from()
    use_up(client)
    for i in range(LIMIT + 2):
        body = sign_up_body()
        if i % 2:
            body["balance"] = 1000
        resp = client.post("/v1/users", json=body, token=admin_token)
        assert expect_json(resp, 201)["email"] == body["email"], describe(resp)
    expect_limited(client.post("/v1/users", json=sign_up_body()))


def test_an_admin_operator_is_not_limited_and_other_callers_are(client_from, admin_token):
    setup = client_from()
    admin = create_operator(setup, admin_token, "admin")
    trader = create_operator(setup, admin_token, "trader")
    support = create_operator(setup, admin_token, "support")
    bettor = sign_up(setup, admin_token=admin_token, balance=1000)
    client = client_from()
    use_up(client)
    for _ in range(LIMIT + 1):
        expect_json(client.post("/v1/users", json=sign_up_body(), token=admin.token), 201)
    expect_json(client.post("/v1/users", json=dict(sign_up_body(), balance=500), token=admin.token), 201)
    for caller in (trader.token, support.token, bettor.token, None):
        expect_limited(client.post("/v1/users", json=sign_up_body(), token=caller))
    # Still limited or not, a trader may not give a balance.
    other = client_from()
    expect_forbidden(other.post("/v1/users", json=dict(sign_up_body(), balance=500), token=trader.token))


def test_with_0_there_is_no_limit(api, db):
    """The suite's server (BETSDB_SIGNUP_RATE_LIMIT=0), from 127.0.0.1."""
    for _ in range(UNLIMITED_SIGN_UPS):
        email = unique_email("unlimited")
        expect_json(api.post("/v1/users", json=sign_up_body(email)), 201)
    assert db.users_with_email(email) == 1


# ---------------------------------------------------- behind a trusted proxy

PROXY_ADDRESS = new_address()


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory, admin_token, _server_is_up):
    """A limited server that believes X-Forwarded-For from PROXY_ADDRESS only
    (BETSDB_TRUSTED_PROXIES), as instances behind HAProxy do."""
    yield from own_server(tmp_path_factory, admin_token, "signup-proxy",
                          {"BETSDB_SIGNUP_RATE_LIMIT": str(LIMIT), "BETSDB_TRUSTED_PROXIES": PROXY_ADDRESS})


def client_of(server, admin_token, address):
    client = Api(server.base_url, admin_token)
    client.session.mount("http://", SourceAddressAdapter(address))
    return client


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_count(behind_proxy, admin_token):
    proxy = client_of(behind_proxy, admin_token, PROXY_ADDRESS)
    try:
        first, second = new_address(), new_address()
        for forwarded in (first, second):
            for _ in range(LIMIT):
                # A client-written first entry is not believed: the proxy's last one is.
                resp = proxy.post("/v1/users", json=sign_up_body(),
                                  headers={"X-Forwarded-For": f"10.1.2.3, {forwarded}"})
                expect_json(resp, 201)
        expect_limited(proxy.post("/v1/users", json=sign_up_body(), headers={"X-Forwarded-For": first}))
        expect_limited(proxy.post("/v1/users", json=sign_up_body(), headers={"X-Forwarded-For": second}))
    finally:
        proxy.close()


def new_ipv6_network():
    """A /64 (documentation prefix) no other test or recent run uses."""
    return "2001:db8:{:x}:{:x}".format(random.randint(1, 0xffff), random.randint(1, 0xffff))


def test_behind_a_trusted_proxy_an_ipv6_clients_whole_slash_64_counts_as_one(behind_proxy, admin_token):
    """A host may take any of its /64's 2^64 addresses: one new address per
    sign-up must not escape the limit. Another /64 has its own count."""
    proxy = client_of(behind_proxy, admin_token, PROXY_ADDRESS)
    try:
        network, other = new_ipv6_network(), new_ipv6_network()
        for host in range(1, LIMIT + 1):
            resp = proxy.post("/v1/users", json=sign_up_body(), headers={"X-Forwarded-For": f"{network}::{host:x}"})
            expect_json(resp, 201)
        expect_limited(proxy.post("/v1/users", json=sign_up_body(),
                                  headers={"X-Forwarded-For": f"{network}:ffff:ffff:ffff:ffff"}))
        expect_json(proxy.post("/v1/users", json=sign_up_body(), headers={"X-Forwarded-For": f"{other}::1"}), 201)
    finally:
        proxy.close()


def post_with_forwarded_lines(server, source, lines):
    """POST /v1/users from `source` with one X-Forwarded-For header line per
    entry of `lines`, as a client's line and then HAProxy's arrive."""
    url = urllib.parse.urlsplit(server.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10, source_address=(source, 0))
    try:
        body = json.dumps(sign_up_body()).encode()
        conn.putrequest("POST", "/v1/users")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        for line in lines:
            conn.putheader("X-Forwarded-For", line)
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


def test_behind_a_trusted_proxy_the_proxys_own_line_counts_not_the_clients(behind_proxy):
    """HAProxy adds its X-Forwarded-For line after any the client wrote: a
    client changing its own line on every request is still one client."""
    client = new_address()
    for _ in range(LIMIT):
        status, body = post_with_forwarded_lines(behind_proxy, PROXY_ADDRESS, [new_address(), client])
        assert status == 201, body
    status, body = post_with_forwarded_lines(behind_proxy, PROXY_ADDRESS, [new_address(), client])
    assert (status, body.get("code")) == (429, "too_many_requests"), body


def test_an_untrusted_peer_cannot_choose_its_address_by_header(behind_proxy, admin_token):
    client = client_of(behind_proxy, admin_token, new_address())
    try:
        for _ in range(LIMIT):
            expect_json(client.post("/v1/users", json=sign_up_body(),
                                    headers={"X-Forwarded-For": new_address()}), 201)
        expect_limited(client.post("/v1/users", json=sign_up_body(),
                                   headers={"X-Forwarded-For": new_address()}))
    finally:
        client.close()

"""A user's bearer token is looked up in PostgreSQL once per server process,
not once per shard: the shard that verifies it posts it to the others
(src/api/verified_tokens.hpp). betsdb_token_lookups_total counts the lookups.

Connections are spread over the shards by the kernel (SO_REUSEPORT), so the
requests below go over many fresh connections and meet every shard.
"""

from api_support import expect_json, expect_problem
from cache_support import scrape
from shard_support import FRESH_CONNECTIONS, on_fresh_connections

LOOKUPS = ("betsdb_token_lookups_total", frozenset())


def token_lookups(base_url):
    samples = scrape(base_url)
    assert LOOKUPS in samples, "betsdb_token_lookups_total is missing from /metrics"
    return int(samples[LOOKUPS])


def test_a_token_is_looked_up_once_whichever_shard_meets_it(base_url, admin_token, new_user):
    user = new_user()
    before = token_lookups(base_url)
    bodies = on_fresh_connections(
        base_url, admin_token,
        lambda c: expect_json(c.get(f"/v1/users/{user.id}", token=user.token), 200))
    assert {b["id"] for b in bodies} == {user.id}
    assert token_lookups(base_url) - before == 1


def test_an_unknown_token_is_refused_every_time_and_never_remembered(base_url, admin_token,
                                                                      new_user):
    user = new_user()
    # Well formed (43 base64url characters), so it reaches the database.
    forged = "A" * 43
    before = token_lookups(base_url)
    on_fresh_connections(
        base_url, admin_token,
        lambda c: expect_problem(c.get(f"/v1/users/{user.id}", token=forged), 401, "unauthorized"))
    assert token_lookups(base_url) - before == FRESH_CONNECTIONS

"""The admin token (docs/operations.md, "The admin token"): `betsdb serve`
refuses one shorter than 32 characters, and while the token is rotated a
server given BETSDB_ADMIN_TOKEN_PREVIOUS accepts both the new and the
retired one, and nothing else.
"""

import os
import subprocess

import pytest

from api_support import Api, expect_json, expect_problem
from bet_support import required_env
from test_cash_out import betsdb_with, serving  # noqa: F401 (fixtures)
from test_cli import CLI_TIMEOUT_S, cli_env, show

ADMIN_ROUTE = "/v1/bets/summary"


def serve_with(**settings):
    """`betsdb serve` with these BETSDB_* settings, for one that must refuse
    to start: exits before it listens or touches the database."""
    exe = f"/proc/{required_env('BETSDB_TEST_SERVER_PID')}/exe"
    env = cli_env(BETSDB_LISTEN="127.0.0.1:1", **settings)
    return subprocess.run(["betsdb", "serve"], executable=exe, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=CLI_TIMEOUT_S)


def token(length, fill="t"):
    return (os.urandom(length).hex() + fill * length)[:length]


@pytest.mark.parametrize("settings, named", [
    ({}, "BETSDB_ADMIN_TOKEN"),
    ({"BETSDB_ADMIN_TOKEN": token(31)}, "BETSDB_ADMIN_TOKEN"),
    ({"BETSDB_ADMIN_TOKEN": token(40), "BETSDB_ADMIN_TOKEN_PREVIOUS": token(31)}, "BETSDB_ADMIN_TOKEN_PREVIOUS"),
], ids=["missing", "31-characters", "previous-31-characters"])
def test_serve_refuses_an_admin_token_shorter_than_32_characters(settings, named):
    result = serve_with(**settings)
    assert result.returncode == 2, show(result)
    assert named in result.stderr and "at least 32 characters" in result.stderr, show(result)


def test_serve_refuses_a_previous_token_equal_to_the_current_one():
    same = token(40)
    result = serve_with(BETSDB_ADMIN_TOKEN=same, BETSDB_ADMIN_TOKEN_PREVIOUS=same)
    assert result.returncode == 2, show(result)
    assert "BETSDB_ADMIN_TOKEN_PREVIOUS" in result.stderr, show(result)
    assert same not in result.stderr + result.stdout, "a token was printed"


def test_a_token_of_exactly_32_characters_serves(betsdb_with):
    admin = token(32)
    proc, base_url = betsdb_with(BETSDB_ADMIN_TOKEN=admin)
    serving(proc, base_url)
    expect_json(Api(base_url, admin).get(ADMIN_ROUTE, token=admin), 200)


def test_during_a_rotation_both_tokens_are_the_admin_and_after_it_only_the_new_one(betsdb_with):
    old, new, stranger = token(44, "o"), token(44, "n"), token(44, "s")
    proc, base_url = betsdb_with(BETSDB_ADMIN_TOKEN=new, BETSDB_ADMIN_TOKEN_PREVIOUS=old)
    serving(proc, base_url)
    api = Api(base_url, new)
    for admin in (new, old):
        expect_json(api.get(ADMIN_ROUTE, token=admin), 200)
    expect_problem(api.get(ADMIN_ROUTE, token=stranger), 401, "unauthorized")
    # The rotation ends: the same server restarted without the previous token.
    proc.kill()
    proc.wait()
    proc, base_url = betsdb_with(BETSDB_ADMIN_TOKEN=new)
    serving(proc, base_url)
    api = Api(base_url, new)
    expect_json(api.get(ADMIN_ROUTE, token=new), 200)
    expect_problem(api.get(ADMIN_ROUTE, token=old), 401, "unauthorized")

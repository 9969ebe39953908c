"""Fixtures for the Redis Cluster failure tests (issue 16), run by
scripts/test after the API suite in cluster mode, against the same server.

The harness sets what tests/api needs in cluster mode (BETSDB_TEST_BASE_URL,
BETSDB_TEST_ADMIN_TOKEN, BETSDB_TEST_DATABASE_URL, BETSDB_TEST_REDIS_CLUSTER,
BETSDB_TEST_SERVER_PID, BETSDB_TEST_SERVER_LOG) plus
  BETSDB_TEST_REDIS_CLUSTER_DIR  the cluster's folder (scripts/lib/redis_cluster.sh)
so that a test can restart a node it killed. A missing variable fails the
session; nothing is skipped.

These tests fail over, crash and reshard the cluster the server uses: each
one starts from a ready cluster (every node up, every master with a replica
in sync) and leaves one, and each is bounded in time (TEST_BUDGET_S).
"""

import importlib.util
import os
import sys
import time

import pytest

API_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "api"))
sys.path.insert(0, API_DIR)

# The API suite's fixtures (api, new_user, new_match, db, bets_db, redis, ...),
# from its conftest loaded under another name: one definition of each.
_spec = importlib.util.spec_from_file_location("api_conftest", os.path.join(API_DIR, "conftest.py"))
api_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api_conftest)
base_url = api_conftest.base_url
admin_token = api_conftest.admin_token
_server_is_up = api_conftest._server_is_up
api = api_conftest.api
new_user = api_conftest.new_user
new_match = api_conftest.new_match
_db_conn = api_conftest._db_conn
db = api_conftest.db
bets_db = api_conftest.bets_db
redis = api_conftest.redis

from cluster_support import Cluster  # noqa: E402 (after the path is set)

REQUIRED_ENV = (
    "BETSDB_TEST_BASE_URL",
    "BETSDB_TEST_ADMIN_TOKEN",
    "BETSDB_TEST_DATABASE_URL",
    "BETSDB_TEST_REDIS_CLUSTER",
    "BETSDB_TEST_REDIS_CLUSTER_DIR",
    "BETSDB_TEST_SERVER_PID",
    "BETSDB_TEST_SERVER_LOG",
)

# Each test, from its set-up to the end of its checks (the cluster's
# restoration afterwards not included).
TEST_BUDGET_S = 60


def pytest_configure(config):
    missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        raise pytest.UsageError("tests/cluster needs a server on a Redis Cluster: set "
                                + ", ".join(missing) + " (scripts/test does this)")
    if os.environ.get("BETSDB_TEST_REDIS_URL"):
        raise pytest.UsageError("tests/cluster runs in cluster mode only: unset BETSDB_TEST_REDIS_URL")


@pytest.fixture(scope="session")
def cluster():
    c = Cluster(os.environ["BETSDB_TEST_REDIS_CLUSTER_DIR"])
    yield c
    c.close()


@pytest.fixture(autouse=True)
def _ready_cluster_and_budget(cluster):
    """A ready cluster before and after each test; the test within its budget."""
    cluster.restore()
    started = time.monotonic()
    yield
    took = time.monotonic() - started
    restore_started = time.monotonic()
    cluster.restore()
    print(f"\n[cluster] test took {took:.1f}s, restoring the cluster {time.monotonic() - restore_started:.1f}s")
    assert took <= TEST_BUDGET_S, f"the test took {took:.1f}s, over its budget of {TEST_BUDGET_S}s"


class World:
    """Users of one test's load, created through the API."""

    def __init__(self, bettors, carters):
        self.bettors, self.carters = bettors, carters

    @property
    def users(self):
        return self.bettors + self.carters

    @property
    def user_ids(self):
        return [u.id for u in self.users]


@pytest.fixture
def world(new_user):
    """world(bettors=3, carters=2) -> World: rich users (no bet is ever
    refused for funds); the load creates the matches it bets on."""

    def make(bettors=3, carters=2):
        return World([new_user(balance=10**9) for _ in range(bettors)],
                     [new_user(balance=10**9) for _ in range(carters)])

    return make


@pytest.fixture
def load(base_url, admin_token):
    """load() -> a started cluster_load.Load; stopped at teardown if the test did not."""
    from cluster_load import Load
    started = []

    def make():
        started.append(Load(base_url, admin_token))
        return started[-1]

    yield make
    for each in started:
        if not each.stopping():
            try:
                each.stop()
            except AssertionError:
                pass  # the test has failed already; its own assertion is the one to see

"""Fixtures for the cross-instance and fault tests of the deployment
topology (issue 17): `scripts/cluster up` on private ports, in a private
state folder, once for the session; `scripts/cluster down --purge` at the end.

  BETSDB_TEST_TOPOLOGY_DIR  the state folder (default .betsdb/topology-test)
  BETSDB_CLUSTER_BINARY     the betsdb to run (scripts/test: the ASan build);
                            unset, scripts/cluster builds the release one

Requests go through HAProxy (`api`, `base_url`) unless a test needs "through
instance A, then instance B" (`instance_urls`). Each test starts from a whole
topology (every instance ready, a synchronous standby streaming, the Redis
Cluster ready), leaves one (restored after a fault), and keeps to its budget.
"""

import importlib.util
import os
import sys
import time

import psycopg2
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
API_DIR = os.path.abspath(os.path.join(HERE, "..", "api"))
CLUSTER_DIR = os.path.abspath(os.path.join(HERE, "..", "cluster"))
sys.path[:0] = [API_DIR, CLUSTER_DIR]

# The API suite's factories (new_user, new_match), from its conftest loaded
# under another name: one definition of each. They use this file's `api`
# and `admin_token`.
_spec = importlib.util.spec_from_file_location("api_conftest", os.path.join(API_DIR, "conftest.py"))
api_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api_conftest)
new_user = api_conftest.new_user
new_match = api_conftest.new_match

from api_support import Api  # noqa: E402
from bet_support import BetsDb  # noqa: E402
from topology_support import ROOT, Topology  # noqa: E402

# Each test, from its set-up to the end of its checks (restoring the
# topology afterwards not included).
TEST_BUDGET_S = 90
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer")


@pytest.fixture(scope="session")
def topology():
    state = os.environ.get("BETSDB_TEST_TOPOLOGY_DIR") or os.path.join(ROOT, ".betsdb", "topology-test")
    topo = Topology(state)
    topo.down()  # a folder left by an interrupted run
    started = time.monotonic()
    try:
        topo.up()
        print(f"\n[topology] scripts/cluster up took {time.monotonic() - started:.1f}s: {topo.url} over "
              f"{topo.instance_urls}, PostgreSQL {topo.pg_ports}")
        yield topo
    finally:
        reports = []
        for i in range(1, topo.instances + 1):
            try:
                log = topo.instance_log(i)
            except OSError:
                continue
            reports += [f"betsdb{i}: {m}" for m in SANITIZER_MARKERS if m in log]
        print("\n[topology] status at the end:\n" + topo.status())
        topo.down()
        assert not reports, f"sanitizer reports in the instances' logs ({state}/betsdb/*.log): {reports}"


@pytest.fixture(scope="session")
def base_url(topology):
    return topology.url


@pytest.fixture(scope="session")
def instance_urls(topology):
    return topology.instance_urls


@pytest.fixture(scope="session")
def admin_token(topology):
    return topology.admin_token


@pytest.fixture
def api(base_url, admin_token):
    client = Api(base_url, admin_token)
    yield client
    client.close()


@pytest.fixture
def instances(instance_urls, admin_token):
    """One client per instance, addressed directly (not through HAProxy)."""
    clients = [Api(url, admin_token) for url in instance_urls]
    yield clients
    for c in clients:
        c.close()


class TopoDb(api_conftest.Db):
    """The API suite's Db on the multi-host URL (the primary, wherever it
    is): a connection broken by a failover is opened again, once per query."""

    def __init__(self, url):
        self.url = url
        self._connect()
        super().__init__(self.conn)

    def _connect(self):
        self.conn = psycopg2.connect(self.url, connect_timeout=5)
        self.conn.autocommit = True

    def query(self, sql, params=()):
        try:
            return super().query(sql, params)
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            try:
                self.conn.close()
            except psycopg2.Error:
                pass
            self._connect()
            return super().query(sql, params)


@pytest.fixture(scope="session")
def db(topology):
    d = TopoDb(topology.database_url)
    yield d
    d.conn.close()


@pytest.fixture(scope="session")
def bets_db(db):
    return BetsDb(db)


@pytest.fixture(autouse=True)
def _whole_topology_and_budget(topology):
    topology.restore()
    started = time.monotonic()
    yield
    took = time.monotonic() - started
    restore_started = time.monotonic()
    topology.restore()
    print(f"\n[topology] test took {took:.1f}s, restoring {time.monotonic() - restore_started:.1f}s")
    assert took <= TEST_BUDGET_S, f"the test took {took:.1f}s, over its budget of {TEST_BUDGET_S}s"


@pytest.fixture
def load(base_url, admin_token):
    """load() -> a started tests/cluster Load through HAProxy; stopped at
    teardown if the test did not."""
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
                pass

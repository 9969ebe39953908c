"""Fixtures for the black-box HTTP tests of the API contract (/work/shared/API.md).

The harness (scripts/test) starts the server, PostgreSQL and Redis and sets:
  BETSDB_TEST_BASE_URL      e.g. http://127.0.0.1:18080
  BETSDB_TEST_ADMIN_TOKEN   the server's configured admin token
  BETSDB_TEST_DATABASE_URL  libpq URI of the server's database (direct checks)
  BETSDB_TEST_REDIS_URL     redis://host:port/db of the server's Redis, or
  BETSDB_TEST_REDIS_CLUSTER host:port[,host:port...]: seed nodes of the Redis
                            Cluster the server uses (cluster mode)
A missing variable fails the whole session; nothing is ever skipped. In
cluster mode the tests marked single_redis (they stop, pause or restart one
Redis server, or run a private one) are deselected: they run in the
single-node stage.

Tests share one server and one database, so every test creates its own users
(uuid e-mails) and matches (uuid team names) and never assumes an empty table.
"""

import os

import psycopg2
import pytest
import redis as redis_lib
import requests

import redis_keys

from api_support import (
    Api,
    expect_json,
    future_date,
    unique_email,
    unique_team,
)

REQUIRED_ENV = (
    "BETSDB_TEST_BASE_URL",
    "BETSDB_TEST_ADMIN_TOKEN",
    "BETSDB_TEST_DATABASE_URL",
)


def pytest_configure(config):
    # tests/conformance/openapi/prism_suite.sh runs the suite through a
    # validating proxy, except the tests marked `direct`, which it runs against
    # the server itself afterwards.
    config.addinivalue_line(
        "markers",
        "direct: cannot go through an HTTP proxy (raw HTTP, connection handling, "
        "client addresses); the OpenAPI conformance run sends it to the server directly")
    missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        raise pytest.UsageError(
            "tests/api needs a running server: set " + ", ".join(missing)
            + " (scripts/test does this)")
    redis_keys.check_env()


def pytest_runtest_setup(item):
    """Under the OpenAPI conformance run, tells the validating proxy which test
    is running, so each request it judges is tagged with a test id."""
    nodeid_file = os.environ.get("BETSDB_TEST_NODEID_FILE")
    if nodeid_file:
        with open(nodeid_file, "w", encoding="utf-8") as f:
            f.write(item.nodeid)


# Fixtures that run a Redis server of the test's own: single-node by nature.
PRIVATE_REDIS_FIXTURES = {"private_redis"}


def pytest_collection_modifyitems(config, items):
    """Cluster mode: deselect (not skip) the tests that need one Redis server.
    In either mode, a test that starts a private Redis must say so."""
    unmarked = [item.nodeid for item in items
                if PRIVATE_REDIS_FIXTURES & set(getattr(item, "fixturenames", ()))
                and not item.get_closest_marker("single_redis")]
    if unmarked:
        raise pytest.UsageError("tests using a private Redis must be marked single_redis: "
                                + ", ".join(unmarked))
    if not redis_keys.cluster_mode():
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("single_redis") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _env(name):
    return os.environ[name]


@pytest.fixture(scope="session")
def base_url():
    return _env("BETSDB_TEST_BASE_URL").rstrip("/")


@pytest.fixture(scope="session")
def admin_token():
    return _env("BETSDB_TEST_ADMIN_TOKEN")


@pytest.fixture(scope="session")
def _server_is_up(base_url):
    """Turns 'connection refused' in every test into one clear message."""
    try:
        requests.get(base_url + "/healthz", timeout=5)
    except requests.RequestException as exc:
        pytest.fail(f"betsdb server not reachable at {base_url}: {exc}", pytrace=False)


@pytest.fixture
def api(base_url, admin_token, _server_is_up):
    """A fresh HTTP client per test (its own keep-alive connection)."""
    client = Api(base_url, admin_token)
    yield client
    client.close()


class User:
    def __init__(self, body):
        self.id = body["id"]
        self.email = body["email"]
        self.name = body["name"]
        self.balance = body["balance"]
        self.token = body["token"]
        self.body = body

    def __repr__(self):
        return f"User(id={self.id}, email={self.email!r})"


@pytest.fixture
def new_user(api, admin_token):
    """Factory: new_user(balance=None, name="Ann") -> User (id, email, token...).

    A `balance` is an initial credit and needs the admin token (API.md, Users).
    """

    def make(balance=None, name="Ann Tester", email=None):
        body = {"email": email or unique_email(), "name": name}
        token = None
        if balance is not None:
            body["balance"] = balance
            token = admin_token
        return User(expect_json(api.post("/v1/users", json=body, token=token), 201))

    return make


@pytest.fixture
def new_match(api, admin_token):
    """Factory: new_match(team_1=None, team_2=None, date=None, odds=None) -> dict.

    Defaults: unique team names, a date 30 days ahead, all three selections.
    """

    def make(team_1=None, team_2=None, date=None, odds=None):
        body = {
            "team_1": team_1 or unique_team("Home"),
            "team_2": team_2 or unique_team("Away"),
            "date": date or future_date(),
            "odds": odds if odds is not None else {"1": 2.10, "X": 3.25, "2": 3.60},
        }
        return expect_json(api.post("/v1/matches", json=body, token=admin_token), 201)

    return make


@pytest.fixture
def new_operator(base_url, admin_token, _server_is_up):
    """Factory: new_operator(role, by=None) -> account_support.Operator
    (id, email, role, password, token), created by the owner (the admin
    token) or by `by` (an admin operator), and signed in."""
    from account_support import create_operator
    client = Api(base_url, admin_token)

    def make(role, by=None):
        return create_operator(client, by.token if by is not None else admin_token, role)

    yield make
    client.close()


# --------------------------------------------------------------------------
# Direct database access, for "nothing changed" and the ledger invariant.
# The schema is the server's business, so the tables are found by their
# columns (users: email+balance, matches: team_1+team_2, ledger: user_id+amount).
# --------------------------------------------------------------------------

class Db:
    def __init__(self, conn):
        self.conn = conn
        self.users_table = self._find_table({"email", "balance"}, "users")
        self.matches_table = self._find_table({"team_1", "team_2"}, "matches")
        self.ledger_table = self._find_table({"user_id", "amount"}, "ledger", avoid={"stake"})

    def _find_table(self, columns, what, avoid=frozenset()):
        rows = self.query(
            """
            SELECT table_schema, table_name, array_agg(column_name::text)
              FROM information_schema.columns
             WHERE table_schema = ANY (current_schemas(false))
             GROUP BY table_schema, table_name
            """)
        matches = [
            (schema, table) for schema, table, cols in rows
            if columns <= set(cols) and not (avoid & set(cols))
        ]
        if len(matches) != 1:
            # Prefer the obvious name when more than one table qualifies.
            named = [m for m in matches if what in m[1] or (what == "ledger" and "transaction" in m[1])]
            if len(named) == 1:
                matches = named
        if len(matches) != 1:
            pytest.fail(
                f"cannot identify the {what} table (columns {sorted(columns)}): "
                f"candidates {matches}; update tests/api/conftest.py Db", pytrace=False)
        schema, table = matches[0]
        return f'"{schema}"."{table}"'

    def query(self, sql, params=()):
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def scalar(self, sql, params=()):
        return self.query(sql, params)[0][0]

    def users_with_email(self, email):
        return self.scalar(f"SELECT count(*) FROM {self.users_table} WHERE lower(email) = lower(%s)", (email,))

    def user_count(self):
        return self.scalar(f"SELECT count(*) FROM {self.users_table}")

    def matches_with_team(self, team):
        return self.scalar(
            f"SELECT count(*) FROM {self.matches_table} "
            f"WHERE lower(team_1) = lower(%s) OR lower(team_2) = lower(%s)", (team, team))

    def match_count(self):
        return self.scalar(f"SELECT count(*) FROM {self.matches_table}")

    def balance(self, user_id):
        return self.scalar(f"SELECT balance FROM {self.users_table} WHERE id = %s", (user_id,))

    def ledger_rows(self, user_id):
        return self.scalar(f"SELECT count(*) FROM {self.ledger_table} WHERE user_id = %s", (user_id,))

    def ledger_sum(self, user_id):
        return self.scalar(
            f"SELECT coalesce(sum(amount), 0) FROM {self.ledger_table} WHERE user_id = %s", (user_id,))

    def users_breaking_ledger_invariant(self):
        """Users whose balance != sum(amount) over their ledger (API.md, Users)."""
        return self.query(
            f"""
            SELECT u.id, u.balance, coalesce(l.total, 0)
              FROM {self.users_table} u
              LEFT JOIN (SELECT user_id, sum(amount) AS total
                           FROM {self.ledger_table} GROUP BY user_id) l
                ON l.user_id = u.id
             WHERE u.balance <> coalesce(l.total, 0)
            """)

    def match_row(self, match_id):
        """The stored row as a tuple, to prove a rejected write changed nothing."""
        return self.query(f"SELECT * FROM {self.matches_table} WHERE id = %s", (match_id,))


@pytest.fixture(scope="session")
def _db_conn():
    try:
        conn = psycopg2.connect(_env("BETSDB_TEST_DATABASE_URL"))
    except psycopg2.Error as exc:
        pytest.fail(f"cannot connect to BETSDB_TEST_DATABASE_URL: {exc}", pytrace=False)
    # Autocommit: every check sees what the server has committed so far.
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def db(_db_conn):
    return Db(_db_conn)


@pytest.fixture(scope="session")
def redis(_server_is_up):
    """The suite's Redis: redis.Redis, or redis.cluster.RedisCluster in
    cluster mode (tests use single-key commands, and redis_keys.scan_keys
    for scans)."""
    try:
        client = redis_keys.connect()
        client.ping()
    except redis_lib.RedisError as exc:
        pytest.fail(f"cannot reach the suite's Redis ({redis_keys.suite_redis_env()}): {exc}", pytrace=False)
    yield client
    client.close()


# --------------------------------------------------------------------------
# Bets (issue 3): SQL checks, and extra processes for the fault tests.
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def bets_db(db):
    from bet_support import BetsDb
    return BetsDb(db)


@pytest.fixture
def snapshot(db, bets_db, redis):
    """Factory: snapshot(user) -> trading_support.Snapshot (balance, ledger,
    bets and cart), whose expect_unchanged() proves a refusal changed nothing.
    test_bets.py has its own, without the cart."""
    from trading_support import Snapshot
    return lambda user: Snapshot(db, bets_db, redis, user)


@pytest.fixture
def private_redis(tmp_path):
    """Factory: private_redis(persistence=memory-only) -> RedisProcess, killed at teardown."""
    from bet_support import RedisProcess
    started = []

    def make(persistence=RedisProcess.MEMORY_ONLY):
        work_dir = tmp_path / f"redis-{len(started)}"
        work_dir.mkdir()
        started.append(RedisProcess(work_dir, persistence))
        return started[-1]

    yield make
    for proc in started:
        proc.kill()


@pytest.fixture
def second_betsdb(tmp_path, admin_token, _server_is_up):
    """Factory: second_betsdb(redis_url=None) -> BetsdbProcess, another instance
    of the server under test on the same database (and by default the same
    Redis, one server or the cluster). Tests stop it themselves (to check its exit); teardown kills it if
    a test failed first."""
    from bet_support import BetsdbProcess
    started = []

    def make(redis_url=None):
        started.append(BetsdbProcess(
            str(tmp_path), name=f"betsdb-{len(started) + 2}",
            database_url=_env("BETSDB_TEST_DATABASE_URL"),
            redis_url=redis_url, admin_token=admin_token))
        return started[-1]

    yield make
    for proc in started:
        proc.kill()

"""Fixtures for the long-running tests (scripts/test --long): the same
environment as tests/api (see tests/api/conftest.py), whose helpers they use.
A missing variable fails the session; nothing is ever skipped."""

import importlib.util
import os
import sys

import psycopg2
import pytest

API_TESTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "api")
sys.path.insert(0, API_TESTS)

REQUIRED_ENV = (
    "BETSDB_TEST_ADMIN_TOKEN",
    "BETSDB_TEST_DATABASE_URL",
    "BETSDB_TEST_REDIS_URL",
    "BETSDB_TEST_SERVER_PID",
)


def _api_conftest():
    """tests/api/conftest.py under another module name (for its Db class)."""
    spec = importlib.util.spec_from_file_location("betsdb_api_conftest", os.path.join(API_TESTS, "conftest.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pytest_configure(config):
    missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        raise pytest.UsageError("tests/long needs the test environment: set " + ", ".join(missing)
                                + " (scripts/test does this)")


@pytest.fixture(scope="session")
def admin_token():
    return os.environ["BETSDB_TEST_ADMIN_TOKEN"]


@pytest.fixture(scope="session")
def db():
    try:
        conn = psycopg2.connect(os.environ["BETSDB_TEST_DATABASE_URL"])
    except psycopg2.Error as exc:
        pytest.fail(f"cannot connect to BETSDB_TEST_DATABASE_URL: {exc}", pytrace=False)
    conn.autocommit = True
    yield _api_conftest().Db(conn)
    conn.close()


@pytest.fixture(scope="session")
def bets_db(db):
    from bet_support import BetsDb
    return BetsDb(db)

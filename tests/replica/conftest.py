"""Fixtures for the standby tests: each test gets a private PostgreSQL
primary with one streaming hot standby (pg_pair.py), a private Redis and a
betsdb on them (betsdb_process.py), all on 127.0.0.1, torn down afterwards.

Needs: PostgreSQL server binaries, redis-server, root (runuser -u postgres),
and a betsdb binary (BETSDB_TEST_BINARY, default build/debug/betsdb). A
missing piece fails the tests; nothing is skipped.
"""

import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from betsdb_process import ROOT, Betsdb, Redis  # noqa: E402
from pg_pair import Pair  # noqa: E402


class Topology:
    def __init__(self, home):
        self.home = home
        self.pair = None
        self.redis = None
        self.servers = []

    def start(self, synchronous=False, replica=True, multi_host=True):
        self.pair = Pair(os.path.join(self.home, "pg"))
        self.pair.start(synchronous=synchronous)
        self.redis = Redis(self.pair.home)
        url = self.pair.multi_host_url() if multi_host else self.pair.primary.url("betsdb")
        replica_url = self.pair.standby.url("betsdb") if replica else None
        self.betsdb = Betsdb(self.pair.home, url, self.redis.url(), replica_url)
        self.servers.append(self.betsdb)
        return self

    def stop(self):
        try:
            for server in self.servers:
                server.stop()
        finally:
            if self.redis:
                self.redis.stop()
            if self.pair:
                self.pair.stop()

    # --- the API, as the tests use it

    def user(self, balance=1_000_000):
        r = self.betsdb.admin_request("POST", "/v1/users", json={
            "email": f"{uuid.uuid4().hex[:12]}@example.com", "name": "Ann",
            "balance": balance})
        assert r.status_code == 201, r.text
        return r.json()

    def match(self):
        r = self.betsdb.admin_request("POST", "/v1/matches", json={
            "team_1": "Home " + uuid.uuid4().hex[:10], "team_2": "Away " + uuid.uuid4().hex[:10],
            "date": "2099-06-01T18:00:00Z", "odds": {"1": 2.10, "X": 3.25, "2": 3.60}})
        assert r.status_code == 201, r.text
        return r.json()

    def bet(self, user, match, selection="1", stake=100, key=None, timeout=30):
        headers = {"Idempotency-Key": key} if key else None
        return self.betsdb.request("POST", "/v1/bets", token=user["token"], headers=headers,
                                   json={"user_id": user["id"], "match_id": match["id"],
                                         "selection": selection, "stake": stake},
                                   timeout=timeout)


@pytest.fixture
def topology(request):
    home = os.path.join(ROOT, ".betsdb", "replica-test", request.node.name[:60])
    t = Topology(home)
    yield t
    t.stop()

"""The topology under test (scripts/cluster), seen from tests/topology: it
is started on private ports by `scripts/cluster up` and stopped by
`scripts/cluster down --purge`; the tests act on it through the same script
(pg-promote, pg-rebuild, pg-stop, pg-start, sync) where an operator would,
and by signals where a crash is the point (kill -9 with a timestamp).
Every wait polls a condition with a deadline.
"""

import os
import random
import shlex
import shutil
import signal
import socket
import subprocess
import time

import psycopg2
import pytest
import requests

from bet_support import poll_until

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "cluster")
LIB = os.path.join(ROOT, "scripts", "lib")

# `up` may build the release binary when none is given (a dev run).
UP_TIMEOUT_S = 1800
COMMAND_TIMEOUT_S = 180
HEALTHY_S = 90


def _free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_block(count, lo=23000, hi=29900):
    """`count` consecutive free ports below the ephemeral range (32768..) and
    below the Redis Cluster's bus ports (30000..: redis_cluster.sh picks its
    ports in 20000..22700), so no outgoing connection takes one meanwhile."""
    for _ in range(2000):
        base = random.randrange(lo, hi - count)
        if all(_free(p) for p in range(base, base + count)):
            return base
    pytest.fail(f"no {count} consecutive free ports in {lo}..{hi}")


def free_cluster_ports(n=6):
    script = f'source "{LIB}/common.sh"; source "{LIB}/redis_cluster.sh"; free_cluster_ports {n}'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.split()


class Topology:
    def __init__(self, state_dir, instances=3):
        self.dir = state_dir
        self.instances = instances
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("BETSDB_") or k in ("BETSDB_CLUSTER_BINARY", "BETSDB_THREADS")}
        haproxy = free_block(1)
        betsdb = free_block(instances)
        pg = free_block(2)
        self.env.update(
            BETSDB_CLUSTER_DIR=state_dir,
            BETSDB_CLUSTER_PORT=str(haproxy),
            BETSDB_INSTANCES=str(instances),
            BETSDB_CLUSTER_BETSDB_PORT=str(betsdb),
            BETSDB_CLUSTER_PG_PORT=str(pg),
            BETSDB_CLUSTER_REDIS_PORTS=" ".join(free_cluster_ports()),
            BETSDB_LOG_LEVEL="warn",
            BETSDB_ADMIN_TOKEN="topology-admin-" + os.urandom(12).hex(),
        )
        self.settings = {}

    # ------------------------------------------------------------ commands

    def sh(self, *args, timeout=COMMAND_TIMEOUT_S, check=True):
        """scripts/cluster ARGS; returns (returncode, output)."""
        proc = subprocess.run([SCRIPT, *args], env=self.env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
        out = proc.stdout + proc.stderr
        if check and proc.returncode != 0:
            pytest.fail(f"scripts/cluster {' '.join(args)} failed ({proc.returncode}):\n{out[-5000:]}")
        return proc.returncode, out

    def up(self):
        self.sh("up", timeout=UP_TIMEOUT_S)
        _, out = self.sh("env")
        self.settings = {}
        for line in out.splitlines():
            if "=" in line and line.startswith("BETSDB_"):
                name, _, value = line.partition("=")
                self.settings[name] = shlex.split(value)[0] if value.strip("'") else ""
        self.url = self.settings["BETSDB_CLUSTER_URL"]
        self.instance_urls = self.settings["BETSDB_CLUSTER_INSTANCE_URLS"].split()
        self.database_url = self.settings["BETSDB_CLUSTER_DATABASE_URL"]
        self.pg_ports = [int(p) for p in self.settings["BETSDB_CLUSTER_PG_PORTS"].split()]
        self.pg_dirs = self.settings["BETSDB_CLUSTER_PG_DIRS"].split()
        self.binary = self.settings["BETSDB_CLUSTER_BINARY"]
        self.admin_token = self.settings["BETSDB_ADMIN_TOKEN"]

    def down(self):
        """Stops everything and deletes the state, keeping the logs (the
        instances', PostgreSQL's, HAProxy's config) in <dir>.logs/."""
        if os.path.isdir(self.dir):
            keep = self.dir.rstrip("/") + ".logs"
            shutil.rmtree(keep, ignore_errors=True)
            os.makedirs(keep)
            self.sh("down", check=False)
            for folder in [os.path.join(self.dir, "betsdb"), os.path.join(self.dir, "haproxy"),
                           *getattr(self, "pg_dirs", [])]:
                for name in ("postgres.log", "rewind.log", "basebackup.log", "haproxy.cfg"):
                    _copy(os.path.join(folder, name), keep)
                if os.path.isdir(folder):
                    for name in os.listdir(folder):
                        if name.endswith(".log"):
                            _copy(os.path.join(folder, name), keep)
        self.sh("down", "--purge", check=False)

    def status(self):
        return self.sh("status", check=False)[1]

    # ------------------------------------------------------------ betsdb

    def instance_log(self, i):
        with open(os.path.join(self.dir, "betsdb", f"{i}.log"), "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    def instance_pid(self, i):
        with open(os.path.join(self.dir, "betsdb", f"{i}.pid")) as f:
            return int(f.read())

    def kill_instance(self, i):
        """kill -9 of instance i (1-based); returns time.monotonic() right after."""
        pid = self.instance_pid(i)
        os.kill(pid, signal.SIGKILL)
        at = time.monotonic()
        poll_until(lambda: not _running(pid), 10, f"betsdb {i} (pid {pid}) to die")
        return at

    def ready(self, url):
        try:
            return requests.get(url + "/readyz", timeout=3).status_code == 200
        except requests.RequestException:
            return False

    def check_cli(self):
        """`betsdb check` (the ledger audit) on the database, through the
        multi-host URL: (returncode, output)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("BETSDB_")}
        env["BETSDB_DATABASE_URL"] = self.database_url
        proc = subprocess.run([self.binary, "check"], env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120)
        return proc.returncode, proc.stdout + proc.stderr

    # ------------------------------------------------------------ HAProxy

    def haproxy(self, command):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(os.path.join(self.dir, "haproxy", "haproxy.sock"))
            s.sendall(command.encode() + b"\n")
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        return out.decode()

    def server_states(self, backend="ready"):
        """{server: status} of a backend ("UP", "DOWN", "UP 1/2", ...)."""
        lines = self.haproxy("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        out = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(",")))
            if row.get("pxname") == backend and row.get("svname") not in ("FRONTEND", "BACKEND", None):
                out[row["svname"]] = row["status"]
        return out

    # ------------------------------------------------------------ PostgreSQL

    def pg_role(self, port):
        try:
            conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                                    connect_timeout=2)
        except psycopg2.Error:
            return "down"
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT pg_is_in_recovery()")
                return "standby" if cur.fetchone()[0] else "primary"
        finally:
            conn.close()

    def pg_query(self, port, sql, params=()):
        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                                connect_timeout=2)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            conn.close()

    def pg_nodes(self):
        """(primary port, its data folder), (standby port, its folder)."""
        roles = {p: self.pg_role(p) for p in self.pg_ports}
        prim = [i for i, p in enumerate(self.pg_ports) if roles[p] == "primary"]
        stby = [i for i, p in enumerate(self.pg_ports) if roles[p] == "standby"]
        assert len(prim) == 1 and len(stby) == 1, f"not one primary and one standby: {roles}"
        return ((self.pg_ports[prim[0]], self.pg_dirs[prim[0]]), (self.pg_ports[stby[0]], self.pg_dirs[stby[0]]))

    def kill_pg(self, folder):
        """kill -9 of a node's postmaster; returns time.monotonic() right after.
        Returns once its backends have gone too (they exit on their own)."""
        with open(os.path.join(folder, "data", "postmaster.pid")) as f:
            pid = int(f.readline())
        os.kill(pid, signal.SIGKILL)
        at = time.monotonic()

        def gone():
            children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True).stdout.strip()
            return not _running(pid) and not children
        poll_until(gone, 30, f"postmaster {pid} and its backends to exit")
        return at

    def sync_waiters(self, port):
        """The backends waiting for the synchronous standby (wait_event
        SyncRep): [(seconds in the wait, the statement)], for a failure to
        name what still waits."""
        return self.pg_query(port, """
            SELECT round(extract(epoch FROM clock_timestamp() - state_change)::numeric, 1)::float8, left(query, 80)
            FROM pg_stat_activity WHERE wait_event = 'SyncRep'""")

    # ------------------------------------------------------------ health

    def problems(self):
        """What keeps the topology from being whole: [] when every instance is
        ready and UP in HAProxy, PostgreSQL has a primary whose standby
        streams synchronously, and the Redis Cluster is ready."""
        out = []
        for i, url in enumerate(self.instance_urls, 1):
            if not self.ready(url):
                out.append(f"betsdb{i} not ready")
        try:
            states = self.server_states()
            out += [f"haproxy {s} {st}" for s, st in states.items() if st != "UP"]
        except OSError as exc:
            out.append(f"haproxy: {exc}")
        try:
            (pport, _), _ = self.pg_nodes()
            rows = self.pg_query(pport, "SELECT sync_state, state FROM pg_stat_replication")
            if rows != [("sync", "streaming")]:
                out.append(f"pg replication {rows}")
        except (AssertionError, psycopg2.Error) as exc:
            out.append(f"pg: {exc}")
        script = f'source "{LIB}/common.sh"; source "{LIB}/redis_cluster.sh"; redis_cluster_check_ready "$1"'
        if subprocess.run(["bash", "-c", script, "x", os.path.join(self.dir, "redis")],
                          capture_output=True, timeout=60).returncode != 0:
            out.append("redis cluster not ready")
        return out

    def restore(self):
        """Whatever a test did: `up` (restarts a killed instance, a stopped
        node, rebuilds an old primary as a standby), `sync on`, then waits
        until whole."""
        if not self.problems():
            return
        started = time.monotonic()
        _, out = self.sh("up", timeout=UP_TIMEOUT_S)
        self.sh("sync", "on")
        steps = [line for line in out.splitlines() if "==>" in line or "pg-pair" in line or "redis-cluster" in line]
        print(f"\n[topology] restored by scripts/cluster up in {time.monotonic() - started:.1f}s: " + "; ".join(steps))
        deadline = time.monotonic() + HEALTHY_S
        while problems := self.problems():
            if time.monotonic() > deadline:
                pytest.fail(f"the topology is not whole {HEALTHY_S}s after scripts/cluster up: {problems}\n"
                            f"{self.status()}")
            time.sleep(0.2)


def _copy(path, folder):
    if os.path.isfile(path):
        parent = os.path.basename(os.path.dirname(path))
        shutil.copy(path, os.path.join(folder, f"{parent}-{os.path.basename(path)}"))


def _running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False

"""A private PostgreSQL primary with one streaming hot standby, on loopback,
for the replica tests: initdb, pg_basebackup -R, promote, kill -9.

Everything runs as the postgres user (runuser), in a directory it can reach:
under the project's .betsdb/ when that is traversable, else under /var/tmp.
"""

import glob
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time

import psycopg2

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(*args, check=True, **kwargs):
    return subprocess.run(["runuser", "-u", "postgres", "--", *args], check=check,
                          capture_output=True, text=True, **kwargs)


def reachable_dir(want):
    os.makedirs(want, exist_ok=True)
    if as_postgres("test", "-x", want, check=False).returncode == 0:
        return want
    # Named after the wanted path, as scripts/lib/common.sh's pg_home_for
    # does: the next run of the same test reuses (and first empties) it, so
    # runs do not pile up data directories. hash() would not do: Python
    # salts it per process.
    alt = "/var/tmp/betsdb-replica-" + hashlib.md5(want.encode()).hexdigest()[:12]
    os.makedirs(alt, exist_ok=True)
    return alt


class Server:
    def __init__(self, home, name, port):
        self.data = os.path.join(home, name)
        self.port = port
        self.log = os.path.join(home, name + ".log")

    def url(self, db="postgres"):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def start(self, *options):
        # TCP on loopback only: a socket path under a deep directory can
        # exceed the 107 bytes a Unix-domain socket allows.
        opts = " ".join(["-p", str(self.port), "-c unix_socket_directories=''",
                         "-c listen_addresses=127.0.0.1", "-c fsync=off",
                         "-c full_page_writes=off", *options])
        as_postgres(f"{PG_BIN}/pg_ctl", "-D", self.data, "-o", opts, "-l", self.log, "-w",
                    "-t", "60", "start")

    def stop(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            as_postgres(f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop",
                        check=False)

    def kill9(self):
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            pid = int(f.readline())
        os.kill(pid, signal.SIGKILL)
        # The postmaster's children notice its death and exit on their own.
        for _ in range(500):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.1):
                    pass
            except OSError:
                return
            time.sleep(0.01)

    def promote(self):
        as_postgres(f"{PG_BIN}/pg_ctl", "-D", self.data, "-w", "promote")

    def sql(self, statement, db="betsdb", autocommit=True):
        conn = psycopg2.connect(self.url(db), connect_timeout=5)
        try:
            conn.autocommit = autocommit
            with conn.cursor() as cur:
                cur.execute(statement)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()


class Pair:
    """A primary and a hot standby streaming from it (named standby1, so that
    synchronous_standby_names can require it)."""

    def __init__(self, root):
        self.home = reachable_dir(root)
        shutil.rmtree(self.home, ignore_errors=True)
        os.makedirs(self.home)
        subprocess.run(["chown", "postgres", self.home], check=True)
        self.primary = Server(self.home, "primary", free_port())
        self.standby = Server(self.home, "standby", free_port())

    def start(self, synchronous=False):
        as_postgres(f"{PG_BIN}/initdb", "-D", self.primary.data, "-A", "trust", "-U", "postgres",
                    "-E", "UTF8", "--locale=C.UTF-8", "-N")
        self.primary.start("-c wal_level=replica", "-c max_wal_senders=5")
        self.primary.sql("CREATE DATABASE betsdb", db="postgres")
        as_postgres(f"{PG_BIN}/pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port),
                    "-U", "postgres", "-D", self.standby.data, "-R", "-X", "stream",
                    "-c", "fast")
        with open(os.path.join(self.standby.data, "postgresql.auto.conf"), "a") as f:
            f.write(f"primary_conninfo = 'host=127.0.0.1 port={self.primary.port} "
                    "user=postgres application_name=standby1'\n")
        self.standby.start("-c hot_standby=on")
        self.wait_streaming()
        if synchronous:
            # Only now: with no standby yet, every commit would wait.
            self.primary.sql("ALTER SYSTEM SET synchronous_standby_names = 'standby1'",
                             db="postgres")
            self.primary.sql("SELECT pg_reload_conf()", db="postgres")
            deadline = time.monotonic() + 30
            while self.primary.sql("SELECT sync_state FROM pg_stat_replication", db="postgres") \
                    != [("sync",)]:
                assert time.monotonic() < deadline, "the standby did not become synchronous"
                time.sleep(0.02)

    def wait_streaming(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.primary.sql(
                "SELECT state FROM pg_stat_replication WHERE application_name = 'standby1'",
                db="postgres")
            if rows and rows[0][0] == "streaming":
                return
            time.sleep(0.05)
        raise AssertionError("the standby did not start streaming")

    def wait_replayed(self, timeout=30):
        """Until the standby has replayed everything the primary has written."""
        target = self.primary.sql("SELECT pg_current_wal_insert_lsn()::text", db="postgres")[0][0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.standby.sql(
                f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn", db="postgres")[0][0]
            if done:
                return
            time.sleep(0.02)
        raise AssertionError("the standby did not catch up")

    def multi_host_url(self):
        return (f"postgresql://postgres@127.0.0.1:{self.primary.port},127.0.0.1:"
                f"{self.standby.port}/betsdb?target_session_attrs=read-write")

    def stop(self):
        self.standby.stop()
        self.primary.stop()

"""The Redis Cluster under test, seen from the failure tests: its nodes,
who serves which slot, and the actions the tests take on it (a manual
failover, a crash, a reshard, a replica cut off from its master).

Actions that scripts/lib/redis_cluster.sh implements are run through it (so
the scripts' helpers are tested too); what needs a precise timestamp (the
kill of a master) or a raw protocol step (one slot migrated by hand) is done
here. Every wait polls a condition with a deadline.
"""

import os
import signal
import subprocess
import time

import pytest
import redis as redis_lib

from bet_support import poll_until
from redis_keys import key_slot

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPTS = os.path.join(ROOT, "scripts", "lib")

SLOTS = 16384
# A node answering a command: on a loaded machine, generous.
NODE_TIMEOUT_S = 5
# A promotion takes cluster-node-timeout (2 s) plus an election (about 1 s).
PROMOTION_S = 30
READY_S = 60
POLL_S = 0.01


class Node:
    """One line of CLUSTER NODES."""

    __slots__ = ("id", "port", "role", "master_id", "flags", "slots")

    def __init__(self, line):
        fields = line.split()
        self.id = fields[0]
        self.port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
        self.flags = set(fields[2].split(","))
        self.role = "master" if "master" in self.flags else ("replica" if "slave" in self.flags else "other")
        self.master_id = None if fields[3] == "-" else fields[3]
        self.slots = set()
        for part in fields[8:]:
            if part.startswith("["):
                continue  # a slot being migrated or imported: still served by this node
            lo, _, hi = part.partition("-")
            self.slots.update(range(int(lo), int(hi or lo) + 1))

    @property
    def failed(self):
        return bool({"fail", "fail?", "noaddr", "handshake"} & self.flags)


class Cluster:
    """The cluster in BETSDB_TEST_REDIS_CLUSTER_DIR (redis_cluster.sh's folder),
    whose ports are listed in its `ports` file."""

    def __init__(self, folder):
        self.dir = folder
        with open(os.path.join(folder, "ports")) as f:
            self.ports = [int(p) for p in f.read().split()]
        self._clients = {}

    # ------------------------------------------------------------ plumbing

    def node(self, port):
        """A plain client of one node (no redirections followed)."""
        if port not in self._clients:
            self._clients[port] = redis_lib.Redis(host="127.0.0.1", port=port, decode_responses=True,
                                                  socket_timeout=NODE_TIMEOUT_S,
                                                  socket_connect_timeout=NODE_TIMEOUT_S)
        return self._clients[port]

    def forget(self, port):
        client = self._clients.pop(port, None)
        if client is not None:
            client.close()

    def close(self):
        for port in list(self._clients):
            self.forget(port)

    def sh(self, function, *args, timeout=180):
        """Runs a function of scripts/lib/redis_cluster.sh; returns its stdout."""
        script = (f'source "{SCRIPTS}/common.sh"; source "{SCRIPTS}/redis_cluster.sh"; "$@"')
        proc = subprocess.run(["bash", "-c", script, "redis_cluster", function, *map(str, args)],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            pytest.fail(f"{function} {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                        f"{proc.stdout}\n{proc.stderr}")
        return proc.stdout.strip()

    def alive(self, port):
        try:
            return self.node(port).ping()
        except redis_lib.RedisError:
            self.forget(port)
            return False

    def info(self, port, section):
        return self.node(port).info(section)

    # ------------------------------------------------------------ topology

    def view(self, port=None):
        """{port: Node} as one live node (or `port`) sees the cluster."""
        for candidate in ([port] if port else self.ports):
            if candidate is None or not self.alive(candidate):
                continue
            text = self.node(candidate).execute_command("CLUSTER", "NODES")
            nodes = [Node(line) for line in text.splitlines() if line.strip()]
            return {n.port: n for n in nodes}
        pytest.fail("no node of the cluster answers")

    def masters(self):
        """Ports of the masters holding slots, as a live node sees them."""
        return sorted(n.port for n in self.view().values()
                      if n.role == "master" and n.slots and not n.failed)

    def replicas_of(self, master, port=None):
        view = self.view(port)
        mid = view[master].id
        return sorted(n.port for n in view.values() if n.master_id == mid and not n.failed)

    def slots_of(self, master):
        return set(self.view()[master].slots)

    def owner_of_slot(self, slot):
        for n in self.view().values():
            if n.role == "master" and slot in n.slots:
                return n.port
        pytest.fail(f"no master serves slot {slot}")

    def owner(self, key):
        """The master serving `key`'s slot (hash tags count)."""
        return self.owner_of_slot(key_slot(key))

    def node_id(self, port):
        return self.node(port).execute_command("CLUSTER", "MYID")

    def role(self, port):
        return self.info(port, "replication")["role"]

    def pid(self, port):
        return int(self.info(port, "server")["process_id"])

    def run_id(self, port):
        return self.info(port, "server")["run_id"]

    # ------------------------------------------------------------ state

    def ready(self):
        """redis_cluster.sh's readiness: every slot served, every master with a
        replica in sync, every node agreeing."""
        script = (f'source "{SCRIPTS}/common.sh"; source "{SCRIPTS}/redis_cluster.sh"; '
                  f'redis_cluster_check_ready "$1"')
        return subprocess.run(["bash", "-c", script, "x", self.dir], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=60).returncode == 0

    def wait_ready(self, timeout_s=READY_S):
        self.sh("redis_cluster_wait_ready", self.dir, timeout_s)

    def restore(self):
        """Whatever a test did: every node running (a killed one restarted: it
        rejoins as a replica), no replica cut off, no slot left half
        migrated (redis-cli --cluster fix), the cluster ready."""
        for port in self.ports:
            if not self.alive(port):
                self.sh("redis_cluster_start_node", self.dir, port)
        for port in self.ports:
            self.node(port).config_set("masterauth", "")
        if self.open_slots():
            self.sh("redis_cluster_fix", self.dir)
        # A replica whose link was cut reconnects by itself within a second.
        self.wait_ready()

    def open_slots(self):
        """Slots some node marks as migrating or importing."""
        found = set()
        for port in self.ports:
            if not self.alive(port):
                continue
            for line in self.node(port).execute_command("CLUSTER", "NODES").splitlines():
                if "myself" in line.split()[2:3][0]:
                    found.update(part for part in line.split()[8:] if part.startswith("["))
        return found

    def errorstat(self, name):
        """{port: count} of the running nodes whose INFO errorstats counts `name`."""
        out = {}
        for port in self.ports:
            if not self.alive(port):
                continue
            stats = self.info(port, "errorstats")
            entry = stats.get(f"errorstat_{name}")
            if entry:
                out[port] = entry["count"] if isinstance(entry, dict) else entry
        return out

    def expect_no_crossslot(self, context):
        found = self.errorstat("CROSSSLOT")
        assert not found, f"{context}: nodes answered CROSSSLOT errors {found}"

    def repl_offset(self, port):
        info = self.info(port, "replication")
        return int(info["master_repl_offset"] if info["role"] == "master" else info["slave_repl_offset"])

    def wait_in_sync(self, master, replica, timeout_s=10):
        """Until the replica has applied everything the master has so far."""
        target = self.repl_offset(master)
        poll_until(lambda: self.repl_offset(replica) >= target, timeout_s,
                   f"replica :{replica} to reach offset {target} of :{master}")

    def readonly_get(self, port, key):
        """GET on a replica (READONLY on a connection of its own)."""
        conn = redis_lib.Redis(host="127.0.0.1", port=port, decode_responses=True, socket_timeout=NODE_TIMEOUT_S,
                               single_connection_client=True)
        try:
            conn.execute_command("READONLY")
            return conn.get(key)
        finally:
            conn.close()

    # ------------------------------------------------------------ actions

    def failover(self, replica):
        """CLUSTER FAILOVER on a replica, via redis_cluster_failover: returns once
        it is the master, the old master its replica, and the cluster ready."""
        self.sh("redis_cluster_failover", self.dir, replica, PROMOTION_S)

    def kill(self, port):
        """kill -9 of a node; returns time.monotonic() right after the signal."""
        pid = self.pid(port)
        with open(os.path.join(self.dir, str(port), "redis.pid")) as f:
            assert int(f.read()) == pid, f"node :{port} is not the process this cluster started"
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        self.forget(port)
        poll_until(lambda: not os.path.exists(f"/proc/{pid}") or _zombie(pid), 10, f"pid {pid} to die")
        return killed_at

    def wait_promoted(self, replica, timeout_s=PROMOTION_S):
        """Until the replica says it is a master, polled every POLL_S, then
        until the cluster is ok from it (redis_cluster_wait_promoted).
        Returns (still_replica, promoted): time.monotonic() before the last
        poll that found it a replica (it was one until then: a request that
        ended before this cannot have been served by it as a master), and
        after the first that found it a master."""
        deadline = time.monotonic() + timeout_s
        still_replica = time.monotonic()
        while True:
            asked = time.monotonic()
            if self.role(replica) == "master":
                promoted = time.monotonic()
                break
            still_replica = asked
            assert asked < deadline, f"node :{replica} was not promoted within {timeout_s}s"
            time.sleep(POLL_S)
        self.sh("redis_cluster_wait_promoted", replica, timeout_s)
        return still_replica, promoted

    def cut_off(self, replica):
        """Keeps a replica from receiving anything more from its master,
        deterministically: a masterauth its master refuses (the master has
        no password: AUTH fails, and the replica logs "Unable to AUTH to
        MASTER" on every retry), then its replication link killed. Returns
        once the replica reports the link down and the master no replica."""
        master = self.view(replica)[replica].master_id
        master_port = next(n.port for n in self.view(replica).values() if n.id == master)
        node = self.node(replica)
        node.config_set("masterauth", "cut-off-by-the-test")
        node.execute_command("CLIENT", "KILL", "TYPE", "master")
        poll_until(lambda: self.info(replica, "replication")["master_link_status"] == "down", 10,
                   f"the replication link of :{replica} to go down")
        poll_until(lambda: int(self.info(master_port, "replication")["connected_slaves"]) == 0, 10,
                   f":{master_port} to have no replica connected")
        return master_port

    def reshard(self, source, target, slots, pipeline=10):
        """redis-cli --cluster reshard via redis_cluster_reshard; returns once
        every node agrees again."""
        self.sh("redis_cluster_reshard", self.dir, source, target, slots, pipeline, timeout=300)


def _zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True

#!/usr/bin/env python3
"""The live-stream benchmark (issue 20): fan-out latency of GET /v1/stream.

Opens --clients Server-Sent-Events clients to GET /v1/stream (default
10,000, all in one reader process, bench/stream_reader.cpp, which this
script compiles with g++ into build/bench/ on first use; the soft
RLIMIT_NOFILE is raised to the hard limit), waits until every one has its
200 response, then changes
--rate matches a second (PATCH /v1/matches/{id} with new odds, the admin
token; --matches matches created first) for --duration seconds, and
records, for every change, when its write's response arrived and when each
client received its event:

  latency_ms        from the write's response to receipt by the LAST client
                    (the issue's "fan-out latency"): p50, p99, max over events
  first_latency_ms  the same to the FIRST client (can be negative: the event
                    may be published before the HTTP response is read)
  missed            events of our writes that some client never received
                    (must be 0), clients dropped, duplicates
  rss_kb            the server's VmRSS (/proc/<pid>/status) before the
                    clients connect, once all are connected (after
                    --settle), while streaming before any API load, at the
                    end; rss_growth_mb: the larger of the middle two minus
                    the first

The changes are sent by a separate process (a thread per in-flight write,
each with its own keep-alive connection), on an open-loop schedule (change k
at start + k / rate), so a slow write never delays the next and the readers
of this process never delay a write's timestamp. Both processes stamp with
CLOCK_MONOTONIC. An event is matched to its write by the match id and the
odds the write set (each write sets a value of "1" that match never had:
10.00 + 0.01 x its write number); the reader keeps the data line of an
event's first receipt and finds only the `id:` line of the others. It is
C++ because reading 200,000 events a second took this Python 63-90% of a
core, taken from the server under test (harness_cpu_share counts both
processes; reader_cpu_share the reader alone).

--target redis measures the ceiling the same way on Redis pub/sub: the
clients SUBSCRIBE to one channel and the writer PUBLISHes an event of the
same shape and size (`id:`, `event:`, `data:` with a match JSON) at the
same rate; latency runs from PUBLISH's reply. Without --redis-port it
starts a private redis-server (no persistence, maxclients clients + 64)
on a free port and stops it afterwards. That is what a single-threaded C
fan-out does on this machine with this client: the harness's own cost is
in both.

API load beside the stream: SIGUSR1 marks the start of a load run and
SIGUSR2 its end (bench/run --stream sends them around each wrk run); the
result then also has "phases": "alone" (changes scheduled before the first
load run), "with_api" (inside one, or within --load-margin of one: a busy
betsdb holds events back to send them together, so those are delivered
under the load) and "after_api" (the rest), each with its own latency and
misses.
--wrk-path PATH (standalone use) does that itself: after --alone seconds of
changes it runs `wrk -t2 -c32 -d<--wrk-duration>` on PATH (also once before
the clients connect) and reports both throughputs and their ratio.

Output on stdout: "ready N" once the clients are connected, "writing" when
the changes start, then one JSON line with the results (also written to
--json FILE). Exit 0 when the measurement ran (even if it found missed
events or slow fan-out: those are results), 1 when the harness failed
(no client could connect, the server is unreachable, ...). Every phase has
its own deadline. Python's standard library and g++ only.

  stream.py --api http://127.0.0.1:8080 --admin-token TOKEN [--pid PID]
  stream.py --target redis [--redis-port PORT]
"""
import argparse
import http.client
import json
import multiprocessing
import os
import re
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

now = time.monotonic  # CLOCK_MONOTONIC: one clock for both processes

CHANNEL = b"bench:stream"

FIRST_ODDS_CENTS = 1000  # write n of a match sets "1" to 10.00 + 0.01 n


def log(msg):
    print(f"stream.py: {msg}", file=sys.stderr, flush=True)


def percentiles(values):
    """p50, p99 (nearest rank) and max of a list, in the list's unit, rounded."""
    if not values:
        return {"p50": None, "p99": None, "max": None, "n": 0}
    v = sorted(values)

    def rank(p):
        return v[min(len(v), max(1, int(round(p / 100.0 * len(v) + 0.5)))) - 1]

    return {"p50": round(rank(50), 3), "p99": round(rank(99), 3), "max": round(v[-1], 3), "n": len(v)}


# ----------------------------------------------------------------------------
# The server process: RSS, CPU, finding it by its port


def proc_status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_cpu_s(pid):
    """utime + stime of the whole process (every thread), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def find_listener_pid(port):
    """The pid of the process with a listening TCP socket on `port`, or None."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    local, state, inode = parts[1], parts[3], parts[9]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        inodes.add(f"socket:[{inode}]")
        except OSError:
            continue
    if not inodes:
        return None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                try:
                    if os.readlink(f"/proc/{entry}/fd/{fd}") in inodes:
                        return int(entry)
                except OSError:
                    continue
        except OSError:
            continue
    return None


# ----------------------------------------------------------------------------
# The writer: a separate process, forked before the clients open their sockets


def match_body(match_id, cents, tag):
    """A match JSON of the shape GET /v1/matches/{id} returns (for --target redis)."""
    return json.dumps({
        "id": match_id, "team_1": f"Stream Home {tag}-{match_id}", "team_2": f"Stream Away {tag}-{match_id}",
        "date": "2040-01-01T12:00:00Z", "odds": {"1": cents / 100.0, "X": 3.25, "2": 3.6},
        "status": "open", "result": None, "created_at": "2026-12-01T12:00:00.000000Z",
        "competition": None, "odds_version": cents - FIRST_ODDS_CENTS + 1, "max_stake": None, "max_liability": None,
    }, separators=(",", ":"))


class HttpWriter:
    def __init__(self, host, port, token):
        self.host, self.port, self.token = host, port, token
        self.conn = None

    def write(self, match_id, cents, k):
        body = json.dumps({"odds": {"1": cents / 100.0}})
        headers = {"Authorization": "Bearer " + self.token, "Content-Type": "application/json"}
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            try:
                self.conn.request("PATCH", f"/v1/matches/{match_id}", body, headers)
                resp = self.conn.getresponse()
                payload = resp.read()
                if resp.status >= 300:
                    return resp.status, payload[:200].decode("utf-8", "replace")
                return resp.status, None
            except (OSError, http.client.HTTPException) as e:
                self.conn.close()
                self.conn = None
                if attempt:
                    return 0, f"{type(e).__name__}: {e}"
        return 0, "unreachable"


class RedisWriter:
    def __init__(self, port, tag):
        self.port, self.tag = port, tag
        self.sock = None
        self.buf = b""

    def write(self, match_id, cents, k):
        event = f"id: {k + 1}-0\nevent: match\ndata: {match_body(match_id, cents, self.tag)}\n\n".encode()
        cmd = b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(CHANNEL), CHANNEL, len(event), event)
        try:
            if self.sock is None:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.sendall(cmd)
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(4096)
                if not chunk:
                    raise OSError("redis closed the connection")
                self.buf += chunk
            line, _, self.buf = self.buf.partition(b"\r\n")
            return (200, None) if line.startswith(b":") else (500, line.decode("utf-8", "replace"))
        except OSError as e:
            if self.sock:
                self.sock.close()
            self.sock, self.buf = None, b""
            return 0, f"{type(e).__name__}: {e}"


def writer_main(conn, args, plan):
    """Runs in the forked writer process: waits for ("go", t0), writes the
    plan [(k, match_id, cents)] at t0 + k / rate from --writers threads,
    sends back [(k, match_id, cents, t_sched, t_sent, t_resp, status, error)]."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    msg = conn.recv()
    if msg[0] != "go":
        return
    t0 = msg[1]
    results, lock, nxt = [], threading.Lock(), [0]
    stop = threading.Event()

    def worker():
        w = RedisWriter(args.redis_port, args.tag) if args.target == "redis" else \
            HttpWriter(args.host, args.port, args.admin_token)
        while not stop.is_set():
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(plan):
                return
            k, match_id, cents = plan[i]
            t_sched = t0 + k / args.rate
            delay = t_sched - now()
            if delay > 0 and stop.wait(delay):
                return
            t_sent = now()
            status, error = w.write(match_id, cents, k)
            t_resp = now()
            with lock:
                results.append((k, match_id, cents, t_sched, t_sent, t_resp, status, error))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.writers)]
    for t in threads:
        t.start()
    deadline = t0 + args.duration + 30  # every write has a 10 s timeout, and one retry
    for t in threads:
        t.join(max(0.0, deadline - now()))
    stop.set()
    with lock:
        conn.send(sorted(results))


# ----------------------------------------------------------------------------
# Setup through the API


def api_call(host, port, method, path, token=None, body=None):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    headers = {}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, data, headers)
        resp = conn.getresponse()
        payload = resp.read()
    finally:
        conn.close()
    try:
        payload = json.loads(payload) if payload else None
    except ValueError:
        payload = payload[:200]
    return resp.status, payload


def create_matches(args):
    ids = []
    for i in range(args.matches):
        body = {"team_1": f"Stream Home {args.tag}-{i}", "team_2": f"Stream Away {args.tag}-{i}",
                "date": f"2040-01-{1 + i // 24:02d}T{i % 24:02d}:00:00Z" if i < 24 * 28 else
                f"2041-{1 + (i // 24) % 12:02d}-01T{i % 24:02d}:00:00Z",
                "odds": {"1": 2.10, "X": 3.25, "2": 3.60}}
        status, payload = api_call(args.host, args.port, "POST", "/v1/matches", args.admin_token, body)
        if status != 201:
            raise SystemExit(f"stream.py: POST /v1/matches -> {status} {payload}")
        ids.append(payload["id"])
    return ids


# ----------------------------------------------------------------------------
# The clients: one epoll loop over every socket, in bench/stream_reader.cpp


def reader_binary():
    """The compiled reader, built (g++) when missing or older than its source."""
    here = os.path.dirname(os.path.abspath(__file__))
    source = os.path.join(here, "stream_reader.cpp")
    binary = os.path.join(os.path.dirname(here), "build", "bench", "stream-reader")
    if os.path.exists(binary) and os.path.getmtime(binary) >= os.path.getmtime(source):
        return binary
    compiler = shutil.which("g++")
    if not compiler:
        raise SystemExit("stream.py: the stream reader needs g++ (Debian's g++, a build dependency)")
    os.makedirs(os.path.dirname(binary), exist_ok=True)
    partial = f"{binary}.{os.getpid()}"
    done = subprocess.run([compiler, "-O2", "-std=c++20", "-Wall", "-Wextra", "-o", partial, source],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"stream.py: compiling {source} failed:\n{done.stderr[-2000:]}")
    os.replace(partial, binary)
    return binary


class Clients:
    """The reader process and what it has seen: per event id, how many
    clients received it (count), the first and last receipt (monotonic s),
    and for this run's writes the key (match id, odds "1" in cents)."""

    def __init__(self, args):
        self.args = args
        cmd = [reader_binary(), "--host", args.host, "--port", str(args.port), "--clients", str(args.clients),
               "--target", args.target, "--path", args.path,
               "--connect-parallel", str(args.connect_parallel),
               "--connect-timeout", str(args.connect_timeout), "--retry-delay", str(args.retry_delay)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.streaming = self.refused = self.failed = 0
        self.fail_samples = []
        self.dropped = self.bytes = self.reads = 0
        self.count, self.first, self.last = {}, {}, {}
        self.by_key = {}    # (match id, odds "1" in cents) -> event id
        self.resets = 0

    def _line(self, prefix, timeout):
        """The reader's next line, which must start with `prefix`; its JSON."""
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line.startswith(prefix + " "):
            raise SystemExit(f"stream.py: the reader said {line[:200]!r} (expected {prefix!r}; "
                             f"exit status {self.proc.poll()})")
        return json.loads(line[len(prefix) + 1:])

    def connect_all(self):
        r = self._line("ready", self.args.connect_timeout + 30)
        self.streaming, self.refused, self.failed = r["streaming"], r["refused"], r["failed"]
        self.fail_samples = r["fail_samples"]
        return r["seconds"]

    def refresh(self, command="snapshot"):
        """Asks the reader what it has received so far."""
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        snap = self._line("snapshot", 30)
        self.streaming, self.dropped = snap["streaming"], snap["dropped"]
        self.reads, self.bytes = snap["reads"], snap["bytes"]
        for row in snap["events"]:
            eid, self.count[eid], self.first[eid], self.last[eid] = row[:4]
            if len(row) > 4:
                self.first_receipt(eid, row[4], row[5])

    def first_receipt(self, eid, kind, payload):
        if kind == "reset":
            self.resets += 1
            return
        try:
            m = json.loads(payload)
            key = (m["id"], round(float(m["odds"]["1"]) * 100))
        except (TypeError, ValueError, KeyError):
            return  # not a match change of ours: counted as foreign from `count`
        self.by_key[key] = eid

    def pump(self, seconds):
        """Lets the reader read for `seconds` (bounded), then looks."""
        end = now() + seconds
        while not STOP[0] and now() < end:
            time.sleep(min(0.05, max(0.0, end - now())))
        self.refresh()

    def cpu_s(self):
        return proc_cpu_s(self.proc.pid) or 0.0

    def close_all(self):
        if self.proc.poll() is None:
            self.refresh("close")
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


STOP = [False]
# [start, end] intervals (monotonic) of API load beside the stream: bench/run
# sends SIGUSR1 when a wrk run starts and SIGUSR2 when it ends. Writes
# scheduled inside one are reported as phase "with_api", the others "alone".
LOAD = []


def load_mark(on):
    t = now()
    if on:
        LOAD.append([t, None])
    elif LOAD and LOAD[-1][1] is None:
        LOAD[-1][1] = t


# ----------------------------------------------------------------------------
# wrk (standalone --wrk-path)


def run_wrk(args, label):
    wrk = shutil.which("wrk")
    if not wrk:
        return {"error": "wrk is not installed"}
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk", "matches.lua")
    cmd = [wrk, f"-t{args.wrk_threads}", f"-c{args.wrk_connections}", f"-d{args.wrk_duration}s",
           "--timeout", "10s", "--latency"]
    if os.path.exists(script):
        cmd += ["-s", script]
    cmd.append(f"http://{args.host}:{args.port}{args.wrk_path}")
    log(f"wrk ({label}): {' '.join(cmd)}")
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.wrk_duration + 60).stdout
    except subprocess.TimeoutExpired:
        return {"error": "wrk timed out"}
    res = {}
    for line in out.splitlines():
        if line.startswith("BENCH_RESULT "):
            r = json.loads(line[len("BENCH_RESULT "):])
            secs = r["duration_us"] / 1e6
            res = {"rps": round((r["requests"] - r["non2xx"]) / secs, 1), "p50_ms": r["latency_us"]["p50"] / 1000.0,
                   "p99_ms": r["latency_us"]["p99"] / 1000.0, "non2xx": r["non2xx"]}
    if not res:
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        res = {"rps": float(m.group(1))} if m else {"error": out[-300:]}
    return res


def wrk_during(args, holder, t_from):
    """Standalone --wrk-path: after the --alone seconds, wrk under the stream,
    marked as API load like bench/run's SIGUSR1/SIGUSR2."""
    delay = t_from - now()
    if delay > 0:
        time.sleep(delay)
    if STOP[0]:
        return
    load_mark(True)
    try:
        holder["loaded"] = run_wrk(args, "during the stream")
    finally:
        load_mark(False)


# ----------------------------------------------------------------------------
# Redis for --target redis


def start_redis(args):
    server = shutil.which("redis-server")
    if not server:
        raise SystemExit("stream.py: --target redis needs redis-server (or --redis-port)")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    tmp = tempfile.mkdtemp(prefix="bench-stream-redis-")
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp, "--save", "",
                             "--appendonly", "no", "--maxclients", str(args.clients + 64), "--daemonize", "no",
                             "--logfile", os.path.join(tmp, "redis.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                c.sendall(b"PING\r\n")
                if c.recv(64).startswith(b"+PONG"):
                    return proc, port, tmp
        except OSError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("stream.py: redis-server did not start")


# ----------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", choices=("betsdb", "redis"), default="betsdb")
    ap.add_argument("--api", help="betsdb's base URL, e.g. http://127.0.0.1:8080 (default: $BETSDB_TEST_BASE_URL)")
    ap.add_argument("--admin-token", help="default: $BETSDB_TEST_ADMIN_TOKEN")
    ap.add_argument("--pid", type=int, help="the server's pid, for its RSS and CPU (default: the listener on the port)")
    ap.add_argument("--path", default="/v1/stream", help="the stream's path (default /v1/stream)")
    ap.add_argument("--redis-port", type=int, help="--target redis: a running Redis (default: start one)")
    ap.add_argument("--clients", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=20.0, help="match changes per second (default 20)")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of changes (default 30)")
    ap.add_argument("--matches", type=int, default=20, help="matches changed in turn (default 20)")
    ap.add_argument("--writers", type=int, default=4, help="writer threads (writes in flight at most)")
    ap.add_argument("--connect-parallel", type=int, default=256, help="connections being opened at once")
    ap.add_argument("--connect-timeout", type=float, default=0.0,
                    help="seconds to open every client (default 30 + clients / 200)")
    ap.add_argument("--retry-delay", type=float, default=1.0, help="seconds before a refused (503) client retries")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds between connecting and the RSS reading")
    ap.add_argument("--drain", type=float, default=5.0,
                    help="seconds after the last write's response to wait for its event at every client")
    ap.add_argument("--wrk-path", help="standalone: also run wrk on this path without and with the stream")
    ap.add_argument("--alone", type=float, default=5.0,
                    help="with --wrk-path: seconds of changes before wrk starts (default 5)")
    ap.add_argument("--wrk-duration", type=int, default=10)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--wrk-connections", type=int, default=32)
    ap.add_argument("--load-margin", type=float, default=1.5,
                    help="seconds before and after an API load run whose changes count as with_api (default 1.5: "
                         "the server holds events back for up to 1 s while busy)")
    ap.add_argument("--json", help="also write the result here")
    args = ap.parse_args()

    if args.clients < 1 or args.rate <= 0 or args.duration <= 0 or args.matches < 1 or args.writers < 1:
        ap.error("--clients, --rate, --duration, --matches and --writers must be positive")
    if not args.connect_timeout:
        args.connect_timeout = 30 + args.clients / 200.0
    args.tag = f"{os.getpid()}-{int(time.time())}"
    writes = int(round(args.rate * args.duration))
    per_match = -(-writes // args.matches)
    if per_match > 99000:  # odds stay <= 1000.00
        ap.error("too many writes per match: raise --matches")
    if args.wrk_path and args.target != "betsdb":
        ap.error("--wrk-path needs --target betsdb")
    if args.wrk_path and args.duration < args.alone + args.wrk_duration + 2:
        args.duration = args.alone + args.wrk_duration + 2
        writes = int(round(args.rate * args.duration))
        log(f"--duration raised to {args.duration:g} s to cover the wrk run")

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.clients + 64 > hard:
        raise SystemExit(f"stream.py: {args.clients} clients need {args.clients + 64} open files; "
                         f"the hard limit is {hard}")

    redis_proc = redis_dir = None
    if args.target == "redis":
        args.host = "127.0.0.1"
        if args.redis_port:
            args.port = args.redis_port
        else:
            redis_proc, args.port, redis_dir = start_redis(args)
            args.redis_port = args.port
            args.pid = args.pid or redis_proc.pid
        args.admin_token = None
    else:
        api = args.api or os.environ.get("BETSDB_TEST_BASE_URL")
        args.admin_token = args.admin_token or os.environ.get("BETSDB_TEST_ADMIN_TOKEN")
        if not api or not args.admin_token:
            ap.error("--api and --admin-token are required (or BETSDB_TEST_BASE_URL and BETSDB_TEST_ADMIN_TOKEN)")
        m = re.match(r"^http://([^/:]+):(\d+)/?$", api)
        if not m:
            ap.error(f"--api must be http://HOST:PORT, not {api}")
        args.host, args.port = m.group(1), int(m.group(2))
    pid = args.pid or find_listener_pid(args.port)

    def on_signal(*_):
        STOP[0] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGUSR1, lambda *_: load_mark(True))
    signal.signal(signal.SIGUSR2, lambda *_: load_mark(False))

    try:
        return measure(args, pid, writes)
    finally:
        # bench/run may still send a load mark; at exit Python would restore
        # the default action (terminate) for signals it handled.
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)
        if redis_proc:
            redis_proc.terminate()
            try:
                redis_proc.wait(10)
            except subprocess.TimeoutExpired:
                redis_proc.kill()
            shutil.rmtree(redis_dir, ignore_errors=True)


def measure(args, pid, writes):
    result = {"target": args.target, "clients": args.clients, "rate": args.rate, "duration_s": args.duration,
              "matches": args.matches, "server_pid": pid}
    if args.target == "betsdb":
        try:
            match_ids = create_matches(args)
        except OSError as e:
            raise SystemExit(f"stream.py: {args.host}:{args.port}: {e}")
    else:
        match_ids = list(range(1, args.matches + 1))
    # Write k changes match k mod M to 10.00 + 0.01 n, n its count of writes so far.
    plan = [(k, match_ids[k % len(match_ids)], FIRST_ODDS_CENTS + k // len(match_ids) + 1) for k in range(writes)]

    wrk = {}
    if args.wrk_path:
        wrk["baseline"] = run_wrk(args, "without streams")

    # The writer forks now, while this process holds no client socket.
    ctx = multiprocessing.get_context("fork")
    parent_end, child_end = ctx.Pipe()
    writer = ctx.Process(target=writer_main, args=(child_end, args, plan), daemon=True)
    writer.start()
    try:
        return run_clients(args, pid, writes, plan, result, wrk, writer, parent_end)
    finally:
        if writer.is_alive():
            writer.terminate()
        writer.join(5)


def event_stats(rows, c, clients):
    """Latency and misses of the writes in `rows` (2xx only)."""
    lat, first_lat, spread = [], [], []
    missed_events = missed_by_all = client_misses = duplicates = 0
    for k, match_id, cents, t_sched, t_sent, t_resp, status, error in rows:
        eid = c.by_key.get((match_id, cents))
        if eid is None:
            missed_by_all += 1
            missed_events += 1
            client_misses += clients
            continue
        n = c.count[eid]
        if n < clients:
            missed_events += 1
            client_misses += clients - n
        elif n > clients:
            duplicates += n - clients
        lat.append((c.last[eid] - t_resp) * 1000.0)
        first_lat.append((c.first[eid] - t_resp) * 1000.0)
        spread.append((c.last[eid] - c.first[eid]) * 1000.0)
    return {
        "writes": len(rows),
        "events": len(lat),
        "latency_ms": percentiles(lat),
        "first_latency_ms": percentiles(first_lat),
        "spread_ms": percentiles(spread),
        "write_latency_ms": percentiles([(r[5] - r[4]) * 1000.0 for r in rows]),
        "missed_events": missed_events,
        "missed_by_all": missed_by_all,
        "client_misses": client_misses,
        "duplicates": duplicates,
    }


def run_clients(args, pid, writes, plan, result, wrk, writer, pipe):
    rss = {"before": proc_status_kb(pid, "VmRSS") if pid else None}
    c = Clients(args)
    connect_s = c.connect_all()
    result.update({"connected": c.streaming, "connect_seconds": round(connect_s, 2), "refused_503": c.refused,
                   "connect_failures": c.failed, "connect_failure_samples": c.fail_samples or None})
    if c.streaming == 0:
        pipe.send(("stop",))
        print(json.dumps(result), flush=True)
        log(f"no client connected ({c.failed} failures: {c.fail_samples})")
        return 1
    print(f"ready {c.streaming}", flush=True)
    log(f"{c.streaming} of {args.clients} clients streaming after {connect_s:.1f} s "
        f"({c.refused} refusals retried, {c.failed} failures)")
    c.pump(args.settle)
    rss["connected"] = proc_status_kb(pid, "VmRSS") if pid else None
    clients_at_start = c.streaming
    dropped_before = c.dropped
    seen_before = set(c.count)  # events that arrived before the writes (none is ours)

    def cpu_snapshot():
        return proc_cpu_s(pid) if pid else None, resource.getrusage(resource.RUSAGE_SELF), c.cpu_s(), now()

    cpu0, ru0, reader0, t_start = cpu_snapshot()
    # The CPU of the stream alone ends where the first API load begins: the
    # whole run's would count the server's work on the API scenarios too.
    alone_end = None
    t0 = now() + 0.2
    pipe.send(("go", t0))
    print("writing", flush=True)
    wrk_thread = None
    if args.wrk_path:
        wrk_thread = threading.Thread(target=wrk_during, args=(args, wrk, t0 + args.alone), daemon=True)
        wrk_thread.start()

    results = None
    hard_deadline = t0 + args.duration + 40 + args.drain
    pending = None   # keys of the writes whose event some client still lacks
    drain_until = None
    while not STOP[0] and now() < hard_deadline:
        time.sleep(0.05)  # the reader reads meanwhile
        t = now()
        if "streaming" not in rss and LOAD:
            # the stream alone, just before the API load starts
            rss["streaming"] = proc_status_kb(pid, "VmRSS") if pid else None
        if alone_end is None and LOAD:
            alone_end = cpu_snapshot()
        if results is None:
            if pipe.poll():
                results = pipe.recv()
                pending = {(r[1], r[2]) for r in results if 200 <= r[6] < 300}
                last_resp = max((r[5] for r in results), default=t)
                drain_until = max(t, last_resp + args.drain)
            elif not writer.is_alive():
                log("the writer process died")
                break
            continue
        c.refresh()
        alive = c.streaming
        pending = {k for k in pending if k not in c.by_key or c.count[c.by_key[k]] < alive}
        if not pending or t > drain_until:
            break
    t_end = now()
    cpu1, ru1, reader1, _ = cpu_snapshot()
    if alone_end is None:
        alone_end = (cpu1, ru1, reader1, t_end)
    if "streaming" not in rss:
        rss["streaming"] = proc_status_kb(pid, "VmRSS") if pid else None
    if wrk_thread:
        wrk_thread.join(args.wrk_duration + 70)
    c.pump(0.5)
    rss["end"] = proc_status_kb(pid, "VmRSS") if pid else None
    rss["hwm"] = proc_status_kb(pid, "VmHWM") if pid else None
    c.close_all()

    if results is None:
        result["error"] = "the writer sent no results (interrupted?)"
        results = []
    statuses = {}
    for r in results:
        statuses[str(r[6])] = statuses.get(str(r[6]), 0) + 1
    ok = [r for r in results if 200 <= r[6] < 300]
    ours = {c.by_key[(r[1], r[2])] for r in ok if (r[1], r[2]) in c.by_key}
    elapsed = t_end - t_start
    reader_cpu = reader1 - reader0
    harness_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime) + reader_cpu
    _, ru_a, reader_a, t_a = alone_end
    alone_seconds = t_a - t_start
    harness_alone = (ru_a.ru_utime - ru0.ru_utime) + (ru_a.ru_stime - ru0.ru_stime) + (reader_a - reader0)
    growth = [rss[k] for k in ("connected", "streaming") if rss.get(k)]
    result.update({
        "clients_at_start": clients_at_start,
        "writes_planned": writes,
        "write_statuses": statuses,
        "write_error_samples": [r[7] for r in results if r[7]][:3] or None,
        "schedule_lag_ms": percentiles([(r[4] - r[3]) * 1000.0 for r in results]),
        "achieved_rate": round(len(ok) / max(1e-9, (max(r[5] for r in ok) - min(r[4] for r in ok))), 2)
        if len(ok) > 1 else None,
    })
    result.update(event_stats(ok, c, clients_at_start))
    result["writes"] = len(results)
    # A change written just before or after a load run is delivered under it:
    # a busy server holds events back (up to BETSDB_STREAM_MAX_HOLD_MS).
    m = args.load_margin
    intervals = [(a - m, (b if b is not None else t_end) + m) for a, b in LOAD]
    if intervals:
        # "alone" is before any load: after one, a busy server's verdict and
        # hold outlast the margin by up to a second more ("after_api").
        first = min(a for a, _ in intervals)
        loaded = [r for r in ok if any(a <= r[3] <= b for a, b in intervals)]
        alone = [r for r in ok if r[3] < first]
        after = [r for r in ok if r[3] >= first and not any(a <= r[3] <= b for a, b in intervals)]
        result["phases"] = {"alone": event_stats(alone, c, clients_at_start),
                            "with_api": event_stats(loaded, c, clients_at_start),
                            "after_api": event_stats(after, c, clients_at_start)}
        result["api_load_seconds"] = round(sum(b - a for a, b in intervals), 2)
    result.update({
        "dropped_clients": c.dropped - dropped_before,
        "dropped_while_settling": dropped_before,
        "resets": c.resets,
        "foreign_events": len([e for e in c.count if e not in ours and e not in seen_before]),
        "bytes_received": c.bytes,
        "reads": c.reads,
        "rss_kb": rss,
        # the clients' cost: the larger of "all connected" and "streaming, before any API load"
        "rss_growth_mb": round((max(growth) - rss["before"]) / 1024.0, 2) if rss.get("before") and growth else None,
        "seconds": round(elapsed, 2),
        "server_cpu_s": round(cpu1 - cpu0, 2) if cpu0 is not None and cpu1 is not None else None,
        "harness_cpu_s": round(harness_cpu, 2),
        "harness_cpu_share": round(harness_cpu / elapsed, 3) if elapsed > 0 else None,
        "reader_cpu_share": round(reader_cpu / elapsed, 3) if elapsed > 0 else None,
        # The same before the first API load (all of it without one).
        "alone_seconds": round(alone_seconds, 2),
        "server_cpu_s_alone": round(alone_end[0] - cpu0, 2) if cpu0 is not None and alone_end[0] is not None else None,
        "harness_cpu_share_alone": round(harness_alone / alone_seconds, 3) if alone_seconds > 0 else None,
        "interrupted": STOP[0],
    })
    if wrk:
        b, l = wrk.get("baseline") or {}, wrk.get("loaded") or {}
        wrk["ratio"] = round(l["rps"] / b["rps"], 3) if b.get("rps") and l.get("rps") else None
        result["wrk"] = wrk
    line = json.dumps(result)
    if args.json:
        with open(args.json, "w") as f:
            f.write(line + "\n")
    print(line, flush=True)
    lm = result["latency_ms"]
    log(f"{result['events']} events to {clients_at_start} clients: last-client latency p50 {lm['p50']} ms, "
        f"p99 {lm['p99']} ms, max {lm['max']} ms; missed {result['missed_events']}, "
        f"dropped {result['dropped_clients']}, RSS +{result['rss_growth_mb']} MB; "
        f"harness CPU {result['harness_cpu_share']} of a core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
